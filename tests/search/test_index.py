import math

import numpy as np
import pytest

from firth.errors import FirthError
from firth.search.analyze import Analyzer
from firth.search.index import Index

DOCS = [
    ("d0", "wing flow flow", "Wing"),
    ("d1", "wing tip", ""),
    ("d2", "boundary layer flow", "BL"),
    ("d3", "heat", ""),
]


@pytest.fixture
def index():
    return Index.build(DOCS, Analyzer())


def bm25_by_hand(tf, dl, df, n=4, avgdl=9 / 4, k1=1.2, b=0.75):
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    return idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))


def test_structure(index):
    assert index.terms == ["wing", "flow", "tip", "boundari", "layer", "heat"]
    assert index.df.tolist() == [2, 2, 1, 1, 1, 1]
    assert index.doclen.tolist() == [3, 2, 3, 1]
    assert index.avgdl == pytest.approx(2.25)
    # postings of "flow": d0 (tf 2), d2 (tf 1)
    t = index.term_to_id["flow"]
    lo, hi = index.post_ptr[t], index.post_ptr[t + 1]
    assert index.post_doc[lo:hi].tolist() == [0, 2] and index.post_tf[lo:hi].tolist() == [2, 1]
    terms, tf = index.doc_terms(0)
    assert sorted(zip((index.terms[i] for i in terms), tf.tolist())) == [("flow", 2), ("wing", 1)]
    assert index.doc_tokens(2) == ["boundari", "layer", "flow"]


def test_bm25_scores_match_a_hand_computation(index):
    s = index.scores({"flow": 1.0, "wing": 1.0})
    expected = [
        bm25_by_hand(2, 3, 2) + bm25_by_hand(1, 3, 2),
        bm25_by_hand(1, 2, 2),
        bm25_by_hand(1, 3, 2),
        0.0,
    ]
    assert s.tolist() == pytest.approx(expected, rel=1e-12)
    # numbers, for the record: idf = ln 2 for df = 2 of N = 4
    assert s[1] == pytest.approx(math.log(2) * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 2 / 2.25)))


def test_k1_b_and_query_weights(index):
    s = index.scores({"flow": 2.0}, k1=2.0, b=0.0)
    assert s[0] == pytest.approx(2.0 * bm25_by_hand(2, 3, 2, k1=2.0, b=0.0))
    assert s[2] == pytest.approx(2.0 * bm25_by_hand(1, 3, 2, k1=2.0, b=0.0))
    # b = 0: no length normalisation, so tf 1 in a short and a long doc score the same
    w = index.scores({"wing": 1.0}, b=0.0)
    assert w[0] == pytest.approx(w[1])
    with pytest.raises(FirthError):
        index.scores({"flow": 1.0}, b=1.5)


def test_search_ranks_best_first_and_skips_non_matching(index):
    docs, scores = index.search(index.query_terms("the flow over a wing"), topk=10)
    assert docs.tolist() == [0, 1, 2]
    assert np.all(np.diff(scores) <= 0)
    docs, _ = index.search({"flow": 1.0}, topk=1)
    assert docs.tolist() == [0]
    assert index.search({"unknownterm": 1.0})[0].size == 0


def test_ties_are_broken_by_document_order():
    idx = Index.build([(f"d{i}", "same words here", "") for i in range(7)], Analyzer())
    docs, _ = idx.search({"word": 1.0}, topk=3)
    assert docs.tolist() == [0, 1, 2]


def test_save_load_round_trip(index, tmp_path):
    index.save(tmp_path / "idx")
    names = sorted(p.name for p in (tmp_path / "idx").iterdir())
    assert "meta.json" in names and all(n.endswith((".json", ".npy")) for n in names)
    back = Index.load(tmp_path / "idx")
    assert back.terms == index.terms and back.doc_ids == index.doc_ids and back.titles == index.titles
    for name in ("post_ptr", "post_doc", "post_tf", "fwd_ptr", "fwd_term", "fwd_tf", "doclen", "seq", "seq_ptr"):
        assert np.array_equal(getattr(back, name), getattr(index, name)), name
    q = {"flow": 1.0, "wing": 0.5}
    assert back.scores(q).tolist() == index.scores(q).tolist()
    assert back.analyzer.to_dict() == index.analyzer.to_dict()
    # saving again over it replaces it atomically
    back.save(tmp_path / "idx")
    assert Index.load(tmp_path / "idx").n_docs == 4


def test_load_errors(tmp_path):
    with pytest.raises(FirthError, match="not an index directory"):
        Index.load(tmp_path / "nope")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "meta.json").write_text('{"format": "something"}')
    with pytest.raises(FirthError, match="not a firth search index"):
        Index.load(tmp_path / "bad")


def test_empty_collection_is_an_error():
    with pytest.raises(FirthError, match="no documents"):
        Index.build([], Analyzer())
