"""The JSON API (Starlette's TestClient) against the Python API it mirrors, and its bounds."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the explore extra is not installed: pip install 'firth[explore]'")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx: pip install 'firth[explore]'")

import warnings  # noqa: E402

with warnings.catch_warnings():  # Starlette would rather have httpx2; httpx works the same here
    warnings.simplefilter("ignore", DeprecationWarning)
    from starlette.testclient import TestClient  # noqa: E402

from firth.evaluate.datasets import WEAT_FILE, bundled_similarity_files, read_weat  # noqa: E402
from firth.evaluate.similarity import evaluate_similarity  # noqa: E402
from firth.evaluate.weat import run_test  # noqa: E402
from firth.explore.app import create_app  # noqa: E402
from firth.explore.session import LIMITS, Explorer, Model  # noqa: E402
from firth.vectors import FastTextVectors, load_vectors  # noqa: E402

from .conftest import HOSTILE  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def explorer(model_files):
    ex = Explorer.open(model_files)
    ex.start()
    ex.wait()
    return ex


@pytest.fixture(scope="module")
def client(explorer):
    return TestClient(create_app(explorer), base_url="http://127.0.0.1")


def test_info(client, model_files):
    r = client.get("/api/info").json()
    assert [m["name"] for m in r["models"]] == ["a.firth", "b.firth"]
    assert r["models"][0]["words"] == len(load_vectors(model_files[0]))
    assert "pca" in r["map_methods"] and "tsne" in r["map_methods"]
    assert [t["id"] for t in r["weat_tests"]][:2] == ["weat1", "weat2"]


def test_neighbours_match_keyed_vectors_and_overlap(client, model_files):
    r = client.get("/api/neighbours", params={"word": "king", "topn": 8}).json()
    for res, path in zip(r["models"], model_files):
        kv = load_vectors(path)
        want = kv.most_similar("king", topn=8)
        assert [w for w, _ in res["neighbours"]] == [w for w, _ in want]
        np.testing.assert_allclose([s for _, s in res["neighbours"]], [s for _, s in want], atol=2e-6)
    a = {w for w, _ in r["models"][0]["neighbours"]}
    b = {w for w, _ in r["models"][1]["neighbours"]}
    assert r["overlap"]["count"] == len(a & b) and set(r["overlap"]["shared"]) == a & b
    assert r["overlap"]["jaccard"] == pytest.approx(len(a & b) / len(a | b))
    assert set(HOSTILE) <= a  # the hostile words sit next to king


@pytest.mark.parametrize("method", ["add", "mul"])
def test_analogy_matches_keyed_vectors(client, model_files, method):
    r = client.get("/api/analogy", params={"a": "man", "b": "king", "c": "woman", "method": method}).json()
    want = load_vectors(model_files[0]).analogy("man", "king", "woman", method=method, topn=10)
    assert [w for w, _ in r["answers"]] == [w for w, _ in want]
    np.testing.assert_allclose([s for _, s in r["answers"]], [s for _, s in want], rtol=1e-5)
    assert r["answers"][0][0] == "queen"


def test_weat_matches_evaluate(client, model_files):
    r = client.get("/api/weat", params={"test": "weat1"}).json()
    kv = load_vectors(model_files[0])
    want = run_test(kv, read_weat(WEAT_FILE)[0])  # on the whole matrix
    for k in ("effect_size", "p_value", "statistic"):
        assert r[k] == pytest.approx(want[k], rel=1e-6)
    assert r["effect_size"] > 1.0  # planted: flowers pleasant, insects unpleasant
    assert r["found"] == want["found"]
    xs = [d["s"] for d in r["associations"] if d["set"] == "X"]
    ys = [d["s"] for d in r["associations"] if d["set"] == "Y"]
    assert len(xs) == want["found"]["X"] and len(ys) == want["found"]["Y"]
    assert (np.mean(xs) - np.mean(ys)) / np.std(xs + ys) == pytest.approx(want["effect_size"], rel=1e-6)


def test_map_counts_and_projection(client):
    r = client.post("/api/map", json={"mode": "neighbours", "word": "king", "n": 12, "method": "pca"}).json()
    assert len(r["points"]) == 13 and r["points"][0] == {**r["points"][0], "word": "king", "center": True}
    assert len(r["explained_variance"]) == 2
    r = client.post("/api/map", json={"mode": "words", "words": ["king", "queen", "nosuchword", "man"], "method": "tsne"}).json()
    assert [p["word"] for p in r["points"]] == ["king", "queen", "man"] and r["missing"] == ["nosuchword"]
    r = client.post("/api/map", json={"mode": "frequent", "n": 30}).json()
    assert len(r["points"]) == 30


def test_axis_and_pair(client, model_files):
    r = client.post("/api/axis", json={"pairs": [["king", "man"]], "words": ["queen", "woman", "prince"]}).json()
    kv = load_vectors(model_files[0])
    W = kv.get_normed()
    axis = W[kv.get_index("king")] - W[kv.get_index("man")]
    axis /= np.linalg.norm(axis)
    got = {d["word"]: d["score"] for d in r["projections"]}
    for w in ("queen", "woman", "prince"):
        assert got[w] == pytest.approx(float(W[kv.get_index(w)] @ axis), abs=1e-5)
    assert got["queen"] > got["woman"]  # royalty is on the king side of king - man
    r = client.get("/api/pair", params={"w1": "hot", "w2": "cold"}).json()
    assert r["wordnet"] == "antonyms"
    assert r["cosine"] == pytest.approx(kv.similarity("hot", "cold"), abs=1e-6)
    assert r["cosine"] > 0.5


def test_report_matches_evaluate(client, model_files):
    r = client.get("/api/report").json()
    kv = load_vectors(model_files[0])
    f = bundled_similarity_files()[0]
    want = evaluate_similarity(kv, f)
    got = r["similarity"][f.stem]
    assert got["found"] == want["found"]
    if want["found"] >= 2:
        assert got["spearman"] == pytest.approx(want["spearman"])
    assert set(r["analogies"]) == {"semantic", "syntactic", "total"}


def test_errors_and_bounds(client):
    r = client.get("/api/neighbours", params={"word": "nosuchword"})
    assert r.status_code == 404 and "not in the vocabulary" in r.json()["error"]
    r = client.get("/api/neighbours", params={"word": "x" * (LIMITS.word_chars + 1)})
    assert r.status_code == 400 and "at most" in r.json()["error"]
    r = client.get("/api/neighbours", params={"word": "king", "topn": LIMITS.topn + 1})
    assert r.status_code == 400
    r = client.get("/api/analogy", params={"a": "man", "b": "king", "c": "woman", "method": "sub"})
    assert r.status_code == 400
    r = client.post("/api/map", content=b"[" * (LIMITS.body_bytes + 10), headers={"content-type": "application/json"})
    assert r.status_code == 400 and "bytes" in r.json()["error"]
    r = client.post("/api/map", json={"mode": "words", "words": ["a"] * (LIMITS.map_points + 1)})
    assert r.status_code == 400
    r = client.get("/api/weat", params={"test": "../../etc/passwd"})
    assert r.status_code == 400
    assert client.get("/static/..%2Fsession.py").status_code == 404
    assert client.get("/static/index.html").status_code == 404
    assert client.get("/api/complete", params={"prefix": "ki", "model": 5}).status_code == 400


def test_headers_and_host_check(client, explorer):
    r = client.get("/")
    assert r.status_code == 200 and "script-src 'self'" in r.headers["content-security-policy"]
    assert "<script src=\"/static/app.js\"" in r.text and "http" not in r.text.replace("http://www.w3.org", "")
    # DNS rebinding: a request naming another host is refused
    other = TestClient(create_app(explorer), base_url="http://evil.example")
    assert other.get("/api/info").status_code == 400


def test_completion(client):
    r = client.get("/api/complete", params={"prefix": "fill", "limit": 5}).json()
    assert r["words"] == ["filler0", "filler1", "filler2", "filler3", "filler4"]  # most frequent first
    assert client.get("/api/complete", params={"prefix": "que"}).json()["words"] == ["queen"]


def test_completion_before_the_index_is_built(model_files):
    m = Model.open(model_files[0])
    assert m.complete("fill", 3) == ["filler0", "filler1", "filler2"]


def test_fasttext_unseen_word():
    rng = np.random.default_rng(0)
    words = ["walking", "walked", "talking", "apple"]
    ft = FastTextVectors(words, rng.standard_normal((4, 8)).astype(np.float32),
                         rng.standard_normal((500, 8)).astype(np.float32), minn=3, maxn=4)
    ex = Explorer([Model(ft, "ft")])
    c = TestClient(create_app(ex), base_url="http://127.0.0.1")
    r = c.get("/api/neighbours", params={"word": "walkings", "topn": 3}).json()
    res = r["models"][0]
    assert res["in_vocab"] is False
    want = ft.most_similar("walkings", topn=3)
    assert [w for w, _ in res["neighbours"]] == [w for w, _ in want]
    np.testing.assert_allclose([s for _, s in res["neighbours"]], [s for _, s in want], atol=2e-6)
