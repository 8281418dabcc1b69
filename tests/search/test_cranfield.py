"""Cranfield: BM25 with the default analysis reaches MAP >= 0.30 (relevance codes > 0)."""

import pytest

from firth.search.data import read_docs, read_qrels, read_queries
from firth.search.index import Index
from firth.search.metrics import evaluate_run
from firth.search.retrieve import Config, Retriever
from tests.conftest import shared_path


@pytest.mark.slow
def test_cranfield_bm25_map():
    c = shared_path("eval", "ir", "cranfield")
    index = Index.build(read_docs(c / "docs.jsonl"))
    assert (index.n_docs, len(index.terms)) == (1400, 4726)
    queries = read_queries(c / "queries.jsonl")
    qrels = read_qrels(c / "qrels.tsv", set(index.doc_ids), set(queries))
    run = Retriever(index).run(queries, Config())
    qids, m = evaluate_run(run, qrels, min_rel=1)
    assert len(qids) == 225
    assert m["MAP"].mean() >= 0.30
    assert m["MAP"].mean() == pytest.approx(0.3158, abs=5e-4)
    _, m_all = evaluate_run(run, qrels, min_rel=-1)  # counting the -1 lines too
    assert m_all["MAP"].mean() == pytest.approx(0.4318, abs=5e-4)
