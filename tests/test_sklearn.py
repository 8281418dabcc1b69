"""firth.sklearn.MeanEmbeddingVectorizer inside real scikit-learn pipelines (issue 17)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="scikit-learn (sklearn extra, in the test extra)")

from sklearn.base import clone  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from firth.errors import FirthError  # noqa: E402
from firth.sklearn import MeanEmbeddingVectorizer  # noqa: E402
from firth.text import Normalizer  # noqa: E402
from firth.vectors import KeyedVectors  # noqa: E402
from tests.conftest import shared_path  # noqa: E402


@pytest.fixture
def small_kv():
    words = ["good", "bad", "film", "the"]
    vecs = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 2], [4, 4, 4]], dtype=np.float32)
    return KeyedVectors(words, vecs, normalizer=Normalizer(lowercase=True))


def test_mean_and_tfidf_values(small_kv):
    docs = ["Good film", "the bad film the", "nothing known", ["GOOD", "good"]]
    mean = MeanEmbeddingVectorizer(small_kv).fit(docs)
    X = mean.transform(docs)
    np.testing.assert_allclose(X[0], [0.5, 0, 1])
    np.testing.assert_allclose(X[1], (np.array([8, 8, 8]) + [0, 1, 0] + [0, 0, 2]) / 4)
    np.testing.assert_allclose(X[2], 0)  # no known word: zeros
    np.testing.assert_allclose(X[3], [1, 0, 0])
    tfidf = MeanEmbeddingVectorizer(small_kv, weighting="tfidf").fit(docs)
    n = 4
    idf = {w: np.log((1 + n) / (1 + df)) + 1 for w, df in {"good": 2, "bad": 1, "film": 2, "the": 1}.items()}
    w = {"the": 2 * idf["the"], "bad": idf["bad"], "film": idf["film"]}
    expect = (w["the"] * np.array([4, 4, 4]) + w["bad"] * np.array([0, 1, 0]) + w["film"] * np.array([0, 0, 2]))
    np.testing.assert_allclose(tfidf.transform(docs)[1], expect / sum(w.values()), rtol=1e-6)
    unit = MeanEmbeddingVectorizer(small_kv, unit_words=True).fit(docs)
    np.testing.assert_allclose(unit.transform(["the film"])[0], (np.ones(3) / np.sqrt(3) + [0, 0, 1]) / 2, rtol=1e-6)


def test_sklearn_estimator_rules(small_kv):
    t = MeanEmbeddingVectorizer(small_kv, weighting="tfidf")
    assert t.get_params() == {"vectors": small_kv, "weighting": "tfidf", "unit_words": False}
    c = clone(t)
    assert c.get_params()["weighting"] == "tfidf" and not hasattr(c, "idf_")
    t.set_params(weighting="mean")
    t.fit(["good film"])
    assert t.weighting == "mean"  # fit changes no parameter
    with pytest.raises(FirthError, match="weighting"):
        MeanEmbeddingVectorizer(small_kv, weighting="max").fit(["good"])
    with pytest.raises(FirthError, match="vectors= is required"):
        MeanEmbeddingVectorizer().fit(["good"])
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        MeanEmbeddingVectorizer(small_kv).transform(["good"])


def _read_trec(name):
    lines = shared_path("tasks", "classify", "trec", name).read_text(encoding="utf-8").splitlines()
    labels, texts = zip(*(line.split("\t", 1) for line in lines if line.strip()))
    return list(texts), list(labels)


@pytest.fixture(scope="module")
def trec_vectors(tmp_path_factory):
    """Random 100-d vectors for TREC's lowercased training vocabulary, saved natively: a
    mean of random word vectors is a random projection of the bag of words."""
    texts, _ = _read_trec("train.tsv")
    words = sorted({w.lower() for t in texts for w in t.split()})
    vecs = np.random.default_rng(0).standard_normal((len(words), 100)).astype(np.float32)
    path = tmp_path_factory.mktemp("trec") / "random.firth"
    KeyedVectors(words, vecs, normalizer=Normalizer(lowercase=True)).save(path)
    return path


def test_pipeline_with_logistic_regression_on_trec(trec_vectors):
    train_x, train_y = _read_trec("train.tsv")
    test_x, test_y = _read_trec("test.tsv")
    majority = max(test_y.count(lab) for lab in set(test_y)) / len(test_y)
    pipe = Pipeline([("vec", MeanEmbeddingVectorizer(str(trec_vectors))), ("clf", LogisticRegression(max_iter=2000))])
    acc = pipe.fit(train_x, train_y).score(test_x, test_y)
    assert majority < 0.3 and acc > 0.6, (majority, acc)  # measured 0.702 (random vectors: a random projection)


def test_grid_search_over_the_transformer(trec_vectors):
    train_x, train_y = _read_trec("train.tsv")
    pipe = Pipeline([("vec", MeanEmbeddingVectorizer(str(trec_vectors))), ("clf", LogisticRegression(max_iter=500))])
    grid = GridSearchCV(pipe, {"vec__weighting": ["mean", "tfidf"], "clf__C": [0.1, 10.0]}, cv=2)
    grid.fit(train_x[:1500], train_y[:1500])
    assert set(grid.best_params_) == {"vec__weighting", "clf__C"}
    assert grid.best_score_ > 0.5
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
