"""KeyedVectors' gensim-style methods against gensim's KeyedVectors on the same vectors:
top-10 lists equal, scores to 1e-6 (issue 17)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from firth.errors import FirthError, UnknownWordError
from firth.vectors import FastTextVectors, KeyedVectors, load_vectors
from firth.vectors.wmd import word_movers_distance

gensim_models = pytest.importorskip("gensim.models", reason="gensim (test extra) is the oracle here")

DIM = 20
N_PAIRS = 40


def _vectors():
    """Words a0..a39 with partners b_i = a_i + a shared offset + noise (so analogies are often
    right), 'Paris'/'paris' case variants, and random filler words."""
    rng = np.random.default_rng(11)
    a = rng.standard_normal((N_PAIRS, DIM))
    offset = rng.standard_normal(DIM) * 1.5
    b = a + offset + 0.3 * rng.standard_normal((N_PAIRS, DIM))
    filler = rng.standard_normal((200, DIM))
    words = [f"a{i}" for i in range(N_PAIRS)] + [f"b{i}" for i in range(N_PAIRS)]
    words += [f"w{i}" for i in range(198)] + ["Paris", "paris"]
    return words, np.concatenate([a, b, filler]).astype(np.float32)


@pytest.fixture(scope="module")
def pair():
    words, vecs = _vectors()
    kv = KeyedVectors(words, vecs, counts=np.arange(len(words), 0, -1))
    g = gensim_models.KeyedVectors(DIM)
    g.add_vectors(words, vecs)
    return kv, g


def _same_list(ours, theirs, atol=1e-6):
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=atol)


def test_distances_and_ranks_match_gensim(pair):
    kv, g = pair
    assert kv.distance("a1", "b1") == pytest.approx(g.distance("a1", "b1"), abs=1e-6)
    np.testing.assert_allclose(kv.distances("a3"), g.distances("a3"), atol=1e-6)
    np.testing.assert_allclose(kv.distances("a3", ["b3", "w7", "paris"]), g.distances("a3", ["b3", "w7", "paris"]),
                               atol=1e-6)
    v = kv["w5"] * 3.0
    np.testing.assert_allclose(kv.distances(v, ["a0", "b2"]), g.distances(v, ["a0", "b2"]), atol=1e-6)
    np.testing.assert_allclose(KeyedVectors.cosine_similarities(v, kv.vectors[:50]),
                               g.cosine_similarities(v, g.vectors[:50]), atol=1e-6)
    for k1, k2 in (("a1", "b1"), ("w3", "w100"), ("a5", "a6")):
        assert kv.closer_than(k1, k2) == g.closer_than(k1, k2)
        assert kv.words_closer_than(k1, k2) == g.closer_than(k1, k2)
        assert kv.rank(k1, k2) == g.rank(k1, k2)
    assert kv.rank("a1", "a1") == 1
    keys = ["w1", "w2", "b4", "a9", "w50"]
    assert kv.most_similar_to_given("a4", keys) == g.most_similar_to_given("a4", keys) == "b4"
    assert kv.relative_cosine_similarity("a2", "b2") == pytest.approx(g.relative_cosine_similarity("a2", "b2"), abs=1e-6)


def test_neighbour_lists_match_gensim(pair):
    kv, g = pair
    _same_list(kv.similar_by_key("a7"), g.similar_by_key("a7"))
    _same_list(kv.similar_by_word("w8", topn=10, restrict_vocab=100), g.similar_by_word("w8", topn=10, restrict_vocab=100))
    _same_list(kv.most_similar([("b1", 2.0), "a2"], [("a1", -0.5)]), g.most_similar([("b1", 2.0), "a2"], [("a1", -0.5)]))
    np.testing.assert_allclose(kv.most_similar("a1", topn=None), g.most_similar("a1", topn=None), atol=1e-6)
    assert kv.most_similar("a1", topn=0) == []
    v = kv["w9"] * 2.5
    _same_list(kv.similar_by_vector(v), g.similar_by_vector(v))
    _same_list(kv.most_similar(positive=[v]), g.most_similar(positive=[v]))  # one vector: same direction either way
    _same_list(kv.most_similar([3, "b3"]), g.most_similar([3, "b3"]))  # row indices as keys
    assert kv.n_similarity(["a1", "b2"], ["w3", "a4"]) == pytest.approx(g.n_similarity(["a1", "b2"], ["w3", "a4"]), abs=1e-6)
    assert kv.similarity("a1", "b1") == pytest.approx(g.similarity("a1", "b1"), abs=1e-6)
    # ranking by centrality (gensim returns (score, word), most central first)
    ours = kv.rank_by_centrality(["a1", "a2", "a3", "b9", "w4"])
    theirs = g.rank_by_centrality(["a1", "a2", "a3", "b9", "w4"])
    assert [w for _, w in ours] == [w for _, w in theirs]
    np.testing.assert_allclose([s for s, _ in ours], [s for s, _ in theirs], atol=1e-6)
    assert kv.doesnt_match(["a1", "a2", "a3", "b9", "w4"]) == g.doesnt_match(["a1", "a2", "a3", "b9", "w4"])


def test_cosmul_epsilon_is_a_parameter(pair):
    kv, g = pair
    for pos, neg in ((["b1", "a2"], ["a1"]), (["w1"], ["w2", "w3"]), (["a5"], [])):
        _same_list(kv.most_similar_cosmul(pos, neg, epsilon=1e-6), g.most_similar_cosmul(pos, neg), atol=1e-5)
    # firth's default is Levy & Goldberg's 1e-3: the scores are theirs, not gensim's
    ours = dict(kv.most_similar_cosmul(["b1", "a2"], ["a1"], topn=10))
    n = kv.get_normed()
    cos = lambda w: (n @ n[kv.key_to_index[w]] + 1) / 2  # noqa: E731
    ref = cos("b1") * cos("a2") / (cos("a1") + 1e-3)
    for w, s in ours.items():
        assert s == pytest.approx(ref[kv.key_to_index[w]], rel=1e-5)
    with pytest.raises(FirthError, match="epsilon"):
        kv.most_similar_cosmul(["a1"], epsilon=0)


def test_get_mean_vector_matches_gensim(pair):
    kv, g = pair
    keys = ["a1", "b2", "nosuchword", "w9"]
    for kw in ({}, {"pre_normalize": False}, {"post_normalize": True}, {"weights": [0.5, -2.0, 1.0, 3.0]},
               {"weights": [1.0, 1.0, 1.0, 0.0], "pre_normalize": False, "post_normalize": True}):
        np.testing.assert_allclose(kv.get_mean_vector(keys, **kw), g.get_mean_vector(keys, **kw), atol=1e-6)
    mixed = [kv["a3"] * 2, 5, "b5"]
    np.testing.assert_allclose(kv.get_mean_vector(mixed), g.get_mean_vector(mixed), atol=1e-6)
    with pytest.raises(UnknownWordError):
        kv.get_mean_vector(keys, ignore_missing=False)
    with pytest.raises(FirthError, match="weights"):
        kv.get_mean_vector(keys, weights=[1.0])


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_evaluate_word_pairs_matches_gensim(pair, tmp_path):
    kv, g = pair
    rng = np.random.default_rng(3)
    words = kv.index_to_key
    lines = [f"{words[i]}\t{words[j]}\t{rng.uniform(0, 10):.2f}" for i, j in rng.integers(0, len(words), (60, 2))]
    lines += ["PARIS\ta1\t3.5", "unknownword\ta2\t1.0", "a3\tnotaword\t2.0", "# a comment"]
    path = _write(tmp_path / "pairs.tsv", "\n".join(lines) + "\n")
    for kw in ({}, {"dummy4unknown": True}, {"case_insensitive": False}, {"restrict_vocab": 100}):
        (pr, pp), (sr, sp), oov = kv.evaluate_word_pairs(path, **kw)
        (gpr, gpp), (gsr, gsp), goov = g.evaluate_word_pairs(str(path), **kw)
        assert pr == pytest.approx(gpr, abs=1e-6) and sr == pytest.approx(gsr, abs=1e-6)
        assert pp == pytest.approx(gpp, rel=1e-5, abs=1e-12) and sp == pytest.approx(gsp, rel=1e-5, abs=1e-12)
        assert oov == pytest.approx(goov)


def test_evaluate_word_analogies_matches_gensim(pair, tmp_path):
    kv, g = pair
    rng = np.random.default_rng(5)
    secs = []
    for name in ("capital-common", "gram1-pairs"):
        secs.append(f": {name}")
        for i, j in rng.integers(0, N_PAIRS, (40, 2)):
            if i != j:
                secs.append(f"a{i} b{i} a{j} b{j}")
        secs += ["a1 b1 zzz b2", "A2 B2 a3 b3", "paris a1 a4 w5"]
    path = _write(tmp_path / "questions.txt", "\n".join(secs) + "\n")
    for kw in ({}, {"dummy4unknown": True}, {"case_insensitive": False}, {"restrict_vocab": 70}):
        score, sections = kv.evaluate_word_analogies(path, **kw)
        gscore, gsections = g.evaluate_word_analogies(str(path), **kw)
        assert score == pytest.approx(gscore)
        assert 0.2 < score or kw  # the planted offset is found
        assert sections == gsections


def test_add_vectors_match_gensim_and_never_write_a_mapped_file(tmp_path):
    words, vecs = _vectors()
    path = tmp_path / "v.firth"
    KeyedVectors(words, vecs, counts=np.arange(len(words), 0, -1)).save(path)
    before = path.read_bytes()
    kv = load_vectors(path)  # memory-mapped, read-only
    assert not kv.vectors.flags.writeable
    g = gensim_models.KeyedVectors(DIM)
    g.add_vectors(words, vecs)
    kv.get_normed()  # fill the cache, which the additions must invalidate
    rng = np.random.default_rng(9)
    new = rng.standard_normal((3, DIM)).astype(np.float32)
    for target in (kv, g):
        target.add_vectors(["new1", "new2", "a1"], new)  # a1 exists: kept (replace=False)
        target["a2"] = new[0]
        target[["new3", "b1"]] = new[1:]
    assert kv.add_vector("new4", new[2]) == len(kv) - 1
    g.add_vectors(["new4"], new[2:])
    assert kv.index_to_key == g.index_to_key
    np.testing.assert_array_equal(kv.vectors, g.vectors)
    _same_list(kv.most_similar("new1"), g.most_similar("new1"))
    _same_list(kv.most_similar("a2"), g.most_similar("a2"))
    assert kv.counts is not None and kv.counts[-1] == 0
    assert path.read_bytes() == before
    with pytest.raises(FirthError, match="NaN"):
        kv["bad"] = np.full(DIM, np.nan, dtype=np.float32)
    with pytest.raises(FirthError, match="matrix"):
        kv.add_vectors(["x", "y"], new[:1])
    with pytest.raises(FirthError, match="twice"):
        kv.add_vectors(["x", "x"], new[:2])
    with pytest.raises(FirthError, match="not a word"):
        kv["two words"] = new[0]


def test_word2vec_format_methods_interoperate_with_gensim(pair, tmp_path):
    kv, g = pair
    for binary in (False, True):
        out, voc = tmp_path / f"v{binary}.w2v", tmp_path / f"v{binary}.vocab"
        kv.save_word2vec_format(out, fvocab=voc, binary=binary)
        back = gensim_models.KeyedVectors.load_word2vec_format(str(out), fvocab=str(voc), binary=binary)
        assert back.index_to_key == kv.index_to_key
        np.testing.assert_array_equal(back.vectors, kv.vectors)
        assert back.get_vecattr("w3", "count") == kv.counts[kv.key_to_index["w3"]]
        theirs = tmp_path / f"g{binary}.w2v"
        g.save_word2vec_format(str(theirs), binary=binary)
        mine = KeyedVectors.load_word2vec_format(theirs, fvocab=voc, binary=binary, limit=50)
        assert mine.index_to_key == g.index_to_key[:50]
        np.testing.assert_array_equal(mine.vectors, g.vectors[:50])
        np.testing.assert_array_equal(mine.counts, kv.counts[:50])
    with pytest.raises(FirthError, match="append"):
        kv.save_word2vec_format(tmp_path / "x", append=True)
    with pytest.raises(FirthError, match="float32"):
        KeyedVectors.load_word2vec_format(tmp_path / "gFalse.w2v", datatype=np.float16)


def test_wmdistance_matches_gensim(pair):
    pytest.importorskip("ot")
    kv, g = pair
    docs = [["a1", "b1", "w3"], ["a2", "b2", "w3", "w3"], ["a1"], ["a1", "a1"], ["w5", "nosuchword", "b7"],
            ["paris", "a9", "b9", "w100", "w101"]]
    for d1 in docs:
        for d2 in docs:
            for norm in (True, False):
                assert kv.wmdistance(d1, d2, norm=norm) == pytest.approx(g.wmdistance(d1, d2, norm=norm), abs=1e-6)
    with pytest.warns(UserWarning, match="no word"):
        assert kv.wmdistance(["nosuchword"], ["a1"]) == float("inf")


def test_wmd_solver_against_brute_force():
    """Oracle: with equal uniform bags of n words the optimum is a permutation (Birkhoff)."""
    pytest.importorskip("ot")
    from itertools import permutations

    rng = np.random.default_rng(2)
    vecs = rng.standard_normal((8, 5))
    bag1 = np.r_[np.full(4, 0.25), np.zeros(4)]
    bag2 = np.r_[np.zeros(4), np.full(4, 0.25)]
    cost = np.linalg.norm(vecs[:4, None] - vecs[None, 4:], axis=2)
    best = min(sum(cost[i, p[i]] for i in range(4)) for p in permutations(range(4))) / 4
    assert word_movers_distance(vecs, bag1, bag2) == pytest.approx(best, abs=1e-9)


def test_wmdistance_without_pot_is_one_clear_error(pair, monkeypatch):
    kv, _ = pair
    monkeypatch.setitem(sys.modules, "ot", None)
    with pytest.raises(FirthError, match=r"pip install 'firth\[wmd\]'"):
        kv.wmdistance(["a1"], ["b1"])


def test_fasttext_overrides_one_lookup_hook():
    # issue 12: FastTextVectors does not copy the similarity methods, it overrides _query
    for name in ("most_similar", "most_similar_cosmul", "similar_by_vector", "similarity", "_as_unit"):
        assert name not in FastTextVectors.__dict__
    assert "_query" in FastTextVectors.__dict__


@pytest.fixture(scope="module")
def fasttext_bin(tmp_path_factory):
    """Random fastText vectors written as a Facebook .bin: firth, gensim and Facebook's
    fastText all read the same model (random rows keep the cosines well apart)."""
    rng = np.random.default_rng(4)
    words = ["the", "cat", "sat", "on", "mat", "and", "catalogue", "mats"] + [f"word{i}" for i in range(150)]
    kv = FastTextVectors(words, rng.standard_normal((len(words), DIM)).astype(np.float32),
                         rng.standard_normal((2000, DIM)).astype(np.float32), minn=4, maxn=5,
                         counts=np.arange(len(words), 0, -1))
    path = tmp_path_factory.mktemp("ft") / "random.bin"
    kv.save_facebook(path)
    return path


def test_fasttext_sentence_vector_is_facebooks(fasttext_bin):
    fasttext = pytest.importorskip("fasttext")
    ft = fasttext.load_model(str(fasttext_bin))
    kv = load_vectors(fasttext_bin)
    for text in ("the cat sat on the mat", "unseenwordxyz and the", "  spaced\tout  words ", "", "a", "a cat"):
        np.testing.assert_allclose(kv.get_sentence_vector(text), ft.get_sentence_vector(text), atol=1e-6)
    with pytest.raises(FirthError, match="newline"):
        kv.get_sentence_vector("two\nlines")
    with pytest.raises(FirthError, match="n-gram rows"):
        kv.add_vectors(["x"], np.zeros((1, kv.vector_size), np.float32))


def test_fasttext_queries_through_the_hook_match_gensim(fasttext_bin):
    kv = load_vectors(fasttext_bin)
    g = gensim_models.fasttext.load_facebook_vectors(str(fasttext_bin))
    for q in ("unseenwordxyz", "the", "cats"):
        _same_list(kv.most_similar(q), g.most_similar(q))
        _same_list(kv.most_similar_cosmul([q, "mat"], ["sat"], epsilon=1e-6), g.most_similar_cosmul([q, "mat"], ["sat"]),
                   atol=1e-5)
    assert kv.similarity("unseenwordxyz", "catalogue") == pytest.approx(g.similarity("unseenwordxyz", "catalogue"),
                                                                      abs=1e-6)
    assert kv.distance("cats", "mat") == pytest.approx(g.distance("cats", "mat"), abs=1e-6)
    np.testing.assert_allclose(kv.get_mean_vector(["cats", "the", "unseenwordxyz"]),
                               g.get_mean_vector(["cats", "the", "unseenwordxyz"]), atol=1e-6)
    with pytest.raises(FirthError, match="no character n-gram"):
        kv.most_similar("a")  # "<a>" is shorter than minn=4: no n-gram, no direction
