"""WEAT: values by hand, exact p by brute force, sampled p, agreement with WEFE, bad input."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from firth.vectors import KeyedVectors
from firth.errors import FirthError
from firth.evaluate.datasets import WEAT_FILE, WeatTest, read_weat
from firth.evaluate.weat import evaluate_weat, p_value, run_test

from .conftest import gensim_kv


def _world(seed=0, n=8, bias=0.6, dim=30):
    """Targets x_i lean towards attribute direction A by `bias`, y_i towards B."""
    rng = np.random.default_rng(seed)
    da, db = rng.standard_normal(dim), rng.standard_normal(dim)
    words, vecs = [], []
    for name, base, k in (("x", da, bias), ("y", db, bias), ("a", da, 1.0), ("b", db, 1.0)):
        for i in range(n):
            words.append(f"{name}{i}")
            vecs.append(k * base + rng.standard_normal(dim))
    for i in range(50):
        words.append(f"f{i}")
        vecs.append(rng.standard_normal(dim))
    test = WeatTest("t", "t", [("X", [f"x{i}" for i in range(n)]), ("Y", [f"y{i}" for i in range(n)])],
                    [("A", [f"a{i}" for i in range(n)]), ("B", [f"b{i}" for i in range(n)])])
    return words, np.asarray(vecs, np.float32), test


def _cos(u, v):
    return float(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v))


def test_statistic_and_effect_size_by_hand():
    words, vecs, test = _world(bias=0.3)
    kv = KeyedVectors(words, vecs)
    vec = dict(zip(words, vecs.astype(np.float64)))
    X, Y = test.targets[0][1], test.targets[1][1]
    A, B = test.attributes[0][1], test.attributes[1][1]

    def s(w):
        return np.mean([_cos(vec[w], vec[a]) for a in A]) - np.mean([_cos(vec[w], vec[b]) for b in B])

    sx, sy = [s(w) for w in X], [s(w) for w in Y]
    r = run_test(kv, test)
    assert r["statistic"] == pytest.approx(sum(sx) - sum(sy), abs=1e-6)
    assert r["effect_size"] == pytest.approx((np.mean(sx) - np.mean(sy)) / np.std(sx + sy), abs=1e-6)
    r1 = run_test(kv, test, ddof=1)
    assert r1["effect_size"] == pytest.approx((np.mean(sx) - np.mean(sy)) / np.std(sx + sy, ddof=1), abs=1e-6)
    # exact p by brute force over all C(16, 8) partitions, recomputing S from scratch
    allw = X + Y
    sall = {w: s(w) for w in allw}
    obs = sum(sx) - sum(sy)
    count = total = 0
    for xi in itertools.combinations(allw, 8):
        yi = [w for w in allw if w not in xi]
        total += 1
        count += (sum(sall[w] for w in xi) - sum(sall[w] for w in yi)) > obs + 1e-9
    assert r["p_method"] == "exact" and r["partitions"] == 12870
    assert r["p_value"] == pytest.approx(count / total, abs=1e-12)


def test_exact_p_small_case_and_sampled_close_to_exact():
    s = np.array([0.5, 0.4, 0.1, 0.0])  # X = first two: the most extreme of C(4,2) = 6 partitions
    assert p_value(s, 2) == (0.0, "exact", 6)
    assert p_value(s[::-1].copy(), 2)[0] == pytest.approx(5 / 6)
    rng = np.random.default_rng(5)
    s = rng.standard_normal(16) + np.r_[np.full(8, 0.5), np.zeros(8)]
    exact = p_value(s, 8)[0]
    sampled, how, n = p_value(s, 8, exact_limit=0, samples=50_000, seed=1)
    assert how == "sampled" and n == 50_000
    assert abs(sampled - exact) < 0.01
    assert p_value(s, 8, exact_limit=0, samples=5000, seed=1) == p_value(s, 8, exact_limit=0, samples=5000, seed=1)


def test_missing_words_reported_and_empty_set_skipped():
    words, vecs, test = _world()
    kv = KeyedVectors(words, vecs)
    test.targets[0][1].extend(["zebra", "X0"])  # X0 found case-insensitively (x0 is a duplicate word)
    r = run_test(kv, test)
    assert r["missing"] == {"X": ["zebra"]} and r["found"]["X"] == 9
    t2 = WeatTest("e", "e", [("X", ["nope"]), ("Y", ["y1"])], test.attributes)
    r = run_test(kv, t2)
    assert r["skipped"] and r["p_method"] == "none" and r["effect_size"] != r["effect_size"]


def test_bundled_file_and_user_json(tmp_path):
    tests = read_weat(WEAT_FILE)
    assert [t.id for t in tests] == [f"weat{i}" for i in range(1, 11)]
    assert len(tests[0].targets[0][1]) == 25 and tests[6].extra["paper_p_value"] == 0.018
    bad = tmp_path / "w.json"
    bad.write_text(json.dumps([{"id": "mine", "targets": {"X": ["a"], "Y": []}, "attributes": {"A": ["c"], "B": ["d"]}}]))
    with pytest.raises(FirthError, match=r"w.json: test 'mine': targets set 'Y' is empty"):
        read_weat(bad)
    bad.write_text('{"id": "x", "targets": {"X": ["a"]}, "attributes": {}}')
    with pytest.raises(FirthError, match="exactly two named word lists"):
        read_weat(bad)
    bad.write_text("[{]")
    with pytest.raises(FirthError, match=r"w.json:1: not valid JSON"):
        read_weat(bad)
    good = tmp_path / "g.json"
    words, vecs, test = _world()
    good.write_text(json.dumps({"id": "mine", "targets": dict(test.targets), "attributes": dict(test.attributes)}))
    r = evaluate_weat(KeyedVectors(words, vecs), good)
    assert list(r) == ["mine"] and r["mine"]["effect_size"] > 1.0 and r["mine"]["p_value"] < 0.01


def _wefe_run(words, vecs, test, iterations):
    # WEFE 1.0.1 pins numpy<=1.26.4 and scipy<1.13, so it is not in the `test` extra (it would
    # downgrade the project's NumPy); its WEAT code runs fine on NumPy 2:
    #   pip install --no-deps wefe && pip install pandas plotly scikit-learn requests semantic_version
    pytest.importorskip("wefe", reason="WEFE (the WEAT oracle) is not installed; see tests/evaluate/test_weat.py "
                                       "for the --no-deps install")
    from wefe.metrics import WEAT
    from wefe.query import Query
    from wefe.word_embedding_model import WordEmbeddingModel

    model = WordEmbeddingModel(gensim_kv(words, vecs), "test")
    q = Query([test.targets[0][1], test.targets[1][1]], [test.attributes[0][1], test.attributes[1][1]],
              ["X", "Y"], ["A", "B"])
    return WEAT().run_query(q, model, calculate_p_value=True, p_value_iterations=iterations)


@pytest.mark.parametrize("bias,seed", [(0.6, 0), (-0.1, 2)])
def test_agrees_with_wefe(bias, seed):
    words, vecs, test = _world(seed=seed, bias=bias)
    w = _wefe_run(words, vecs, test, iterations=1000)
    r = run_test(KeyedVectors(words, vecs), test)
    assert r["statistic"] == pytest.approx(w["weat"], abs=1e-6)
    assert r["effect_size"] == pytest.approx(w["effect_size"], abs=1e-6)
    # WEFE samples its p-value (1000 draws, unseeded, words drawn *with* replacement), so
    # agreement is statistical: within 0.08, and both tiny for the strongly biased case
    assert abs(r["p_value"] - w["p_value"]) < 0.08
    if bias == 0.6:
        assert r["p_value"] < 0.01 and w["p_value"] < 0.01
