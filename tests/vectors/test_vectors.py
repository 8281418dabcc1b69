"""KeyedVectors against gensim's KeyedVectors (the oracle) on the same random matrix."""

import numpy as np
import pytest

from firth.vectors import KeyedVectors
from firth.errors import FirthError, UnknownWordError
from firth.text import Normalizer

gensim_models = pytest.importorskip("gensim.models", reason="gensim (test extra) is the oracle here")


@pytest.fixture(scope="module")
def pair():
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(300)] + ["king", "queen", "man", "woman", "paris"]
    vecs = rng.standard_normal((len(words), 16)).astype(np.float32)
    kv = KeyedVectors(words, vecs, normalizer=Normalizer(lowercase=True))
    g = gensim_models.KeyedVectors(16)
    g.add_vectors(words, vecs)
    return kv, g


def test_most_similar_matches_gensim(pair):
    kv, g = pair
    for pos, neg in [(["king"], []), (["king", "woman"], ["man"]), (["w1", "w2", "w3"], ["w4"])]:
        ours = kv.most_similar(positive=pos, negative=neg, topn=10)
        theirs = g.most_similar(positive=pos, negative=neg, topn=10)
        assert [w for w, _ in ours] == [w for w, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)


def test_restrict_vocab_matches_gensim(pair):
    kv, g = pair
    ours = kv.most_similar("w5", topn=5, restrict_vocab=50)
    theirs = g.most_similar("w5", topn=5, restrict_vocab=50)
    assert [w for w, _ in ours] == [w for w, _ in theirs]


def test_cosmul_is_levy_goldberg(pair):
    kv, _ = pair
    ans = kv.analogy("man", "king", "woman", method="mul", topn=3)
    n = kv.get_normed()
    cos = lambda w: (n @ n[kv.key_to_index[w]] + 1) / 2  # noqa: E731
    score = cos("king") * cos("woman") / (cos("man") + 1e-3)
    for w in ("man", "king", "woman"):
        score[kv.key_to_index[w]] = -np.inf
    best = np.argsort(-score)[:3]
    assert [w for w, _ in ans] == [kv.index_to_key[i] for i in best]
    np.testing.assert_allclose([s for _, s in ans], score[best], rtol=1e-5)


def test_analogy_excludes_question_words(pair):
    kv, _ = pair
    words = [w for w, _ in kv.analogy("man", "king", "woman", topn=20)]
    assert not {"man", "king", "woman"} & set(words)


def test_normaliser_applies_to_lookups(pair):
    kv, _ = pair
    assert "PARIS" in kv and "Paris" in kv
    np.testing.assert_array_equal(kv["Paris"], kv["paris"])
    assert kv.similarity("King", "queen") == pytest.approx(kv.similarity("king", "queen"))


def test_unknown_word_suggests_spellings(pair):
    kv, _ = pair
    with pytest.raises(UnknownWordError) as e:
        kv["kinq"]
    assert "kinq" in str(e.value) and "king" in str(e.value)
    assert isinstance(e.value, KeyError) and isinstance(e.value, FirthError)


def test_doesnt_match_and_similarity_match_gensim(pair):
    kv, g = pair
    ws = ["king", "queen", "w7", "w9"]
    assert kv.doesnt_match(ws) == g.doesnt_match(ws)
    assert kv.similarity("w1", "w2") == pytest.approx(float(g.similarity("w1", "w2")), abs=1e-6)


def test_mean_vector_is_document_average(pair):
    kv, _ = pair
    got = kv.mean_vector("King unknownword queen")
    np.testing.assert_allclose(got, (kv["king"] + kv["queen"]) / 2, rtol=1e-6)
    with pytest.raises(FirthError):
        kv.mean_vector(["zzz"])
    assert not kv.mean_vector(["zzz"], allow_empty=True).any()


def test_bad_construction():
    with pytest.raises(FirthError, match="appears twice"):
        KeyedVectors(["a", "a"], np.zeros((2, 3)))
    with pytest.raises(FirthError, match="2 words but 3 vectors"):
        KeyedVectors(["a", "b"], np.zeros((3, 3)))


def test_normalizer_rules():
    n = Normalizer(lowercase=True, digits="zero", punct="strip")
    assert n('"Hello,') == "hello"
    assert n("1984.") == "0000"
    assert n.tokens("-- The 2 cats! --") == ["the", "0", "cats"]
    assert Normalizer.from_dict(n.to_dict()) == n
    with pytest.raises(FirthError, match="digits"):
        Normalizer(digits="drop")
