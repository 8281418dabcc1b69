"""Word similarity: correlations by hand and vs SciPy, OOV policies, agreement with gensim."""

from __future__ import annotations

import numpy as np
import pytest

from firth.vectors import KeyedVectors
from firth.errors import FirthError
from firth.evaluate.datasets import bundled_similarity_files, read_pairs
from firth.evaluate.similarity import evaluate_pairs, evaluate_similarity, pearson, rankdata, spearman

from .conftest import gensim_kv


def test_rankdata_and_correlations_match_scipy():
    stats = pytest.importorskip("scipy.stats", reason="scipy (the oracle) is not installed")
    rng = np.random.default_rng(1)
    x = rng.integers(0, 6, 200).astype(float)  # many ties
    y = x + rng.standard_normal(200)
    np.testing.assert_array_equal(rankdata(x), stats.rankdata(x))
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y)[0], abs=1e-12)
    assert pearson(x, y) == pytest.approx(stats.pearsonr(x, y)[0], abs=1e-12)


def test_hand_computed_values(tmp_path):
    # 2-d vectors at known angles: cos(a,b)=1, cos(a,c)=0, cos(a,d)=-1, cos(b,c)=0
    kv = KeyedVectors(["a", "b", "c", "d"], np.array([[1, 0], [2, 0], [0, 3], [-1, 0]], np.float32))
    f = tmp_path / "p.tsv"
    f.write_text("a\tb\t9\na\tc\t5\na\td\t1\nb\tc\t4\nA\tzz\t7\n")
    r = evaluate_similarity(kv, f)
    assert (r["pairs"], r["found"], r["oov"]) == (5, 4, 1)
    assert r["coverage"] == pytest.approx(0.8)
    # model 1, 0, -1, 0 vs gold 9, 5, 1, 4: ranks model 4, 2.5, 1, 2.5; gold 4, 3, 1, 2
    rm, rg = np.array([4, 2.5, 1, 2.5]), np.array([4, 3, 1, 2])
    assert r["spearman"] == pytest.approx(np.corrcoef(rm, rg)[0, 1], abs=1e-12)
    assert r["pearson"] == pytest.approx(np.corrcoef([1, 0, -1, 0], [9, 5, 1, 4])[0, 1], abs=1e-12)
    # oov=mean: the unknown pair is scored at the mean known cosine (0.0 here) and kept
    m = evaluate_similarity(kv, f, oov="mean")
    assert m["scored"] == 5
    assert m["pearson"] == pytest.approx(np.corrcoef([1, 0, -1, 0, 0], [9, 5, 1, 4, 7])[0, 1], abs=1e-12)
    # case-sensitive: 'A' is unknown either way; 'a' pairs stay
    assert evaluate_similarity(kv, f, case_insensitive=False)["found"] == 4


def _pairs_file(tmp_path, words, rng, n=300):
    lines = []
    for k in range(n):
        a, b = rng.choice(len(words), 2, replace=False)
        wa, wb = words[a], words[b]
        if k % 5 == 0:
            wa = wa.upper()
        if k % 17 == 0:
            wb = "unknown%d" % k
        lines.append(f"{wa}\t{wb}\t{rng.integers(0, 11) / 1.0}")  # integer scores: ties in gold
    f = tmp_path / "pairs.tsv"
    f.write_text("\n".join(lines) + "\n")
    return f


@pytest.mark.parametrize("case_insensitive", [True, False])
def test_agrees_with_gensim_evaluate_word_pairs(tmp_path, case_insensitive):
    rng = np.random.default_rng(2)
    words = [f"w{i}" for i in range(400)] + ["W3"]  # a case variant, less frequent
    vecs = rng.standard_normal((len(words), 30)).astype(np.float32)
    kv, g = KeyedVectors(words, vecs), gensim_kv(words, vecs)
    f = _pairs_file(tmp_path, words[:400], rng)
    ours = evaluate_similarity(kv, f, case_insensitive=case_insensitive)
    pr, sp, oov_ratio = g.evaluate_word_pairs(str(f), case_insensitive=case_insensitive)
    assert ours["spearman"] == pytest.approx(sp[0], abs=1e-6)
    assert ours["pearson"] == pytest.approx(pr[0], abs=1e-6)
    assert ours["oov"] == round(oov_ratio / 100 * ours["pairs"])
    assert ours["oov"] > 0 and (ours["oov"] > 18) == (not case_insensitive)
    # gensim's dummy4unknown = our oov="zero"
    z = evaluate_similarity(kv, f, case_insensitive=case_insensitive, oov="zero")
    pr, sp, _ = g.evaluate_word_pairs(str(f), case_insensitive=case_insensitive, dummy4unknown=True)
    assert z["spearman"] == pytest.approx(sp[0], abs=1e-6)
    assert z["pearson"] == pytest.approx(pr[0], abs=1e-6)


def test_bundled_sets_read_and_agree_with_gensim_on_ws353():
    files = {p.stem: p for p in bundled_similarity_files()}
    assert len(files) == 10
    assert len(read_pairs(files["ws353"]).pairs) == 353 and len(read_pairs(files["men"]).pairs) == 3000
    ps = read_pairs(files["ws353"])
    words = sorted({w.lower() for a, b, _ in ps.pairs for w in (a, b)})
    rng = np.random.default_rng(3)
    keep = words[: int(len(words) * 0.9)]  # ~10 % of the words unknown
    vecs = rng.standard_normal((len(keep), 25)).astype(np.float32)
    kv, g = KeyedVectors(keep, vecs), gensim_kv(keep, vecs)
    ours = evaluate_pairs(kv, ps)
    pr, sp, oov_ratio = g.evaluate_word_pairs(str(files["ws353"]))
    assert ours["spearman"] == pytest.approx(sp[0], abs=1e-6)
    assert ours["oov"] == round(oov_ratio / 100 * 353) and ours["oov"] > 0


def test_malformed_lines_name_the_line(tmp_path):
    f = tmp_path / "bad.tsv"
    f.write_text("a\tb\t1\na\tb\n")
    with pytest.raises(FirthError, match=r"bad.tsv:2: expected 'word1<TAB>word2<TAB>score'"):
        read_pairs(f)
    f.write_text("# comment\na\tb\tlots\n")
    with pytest.raises(FirthError, match=r"bad.tsv:2: score 'lots' is not a number"):
        read_pairs(f)
    with pytest.raises(FirthError, match="no such benchmark file"):
        read_pairs(tmp_path / "nope.tsv")
