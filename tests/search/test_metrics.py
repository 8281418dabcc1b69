import math

import numpy as np
import pytest

from firth.search.metrics import average_precision, evaluate_run, ndcg_at, precision_at, recall_at

REL = {"a", "c", "f"}
RANKING = ["a", "b", "c", "d", "e"]  # relevant at ranks 1 and 3; "f" never retrieved


def test_average_precision_by_hand():
    # (1/1 + 2/3) / 3 relevant documents
    assert average_precision(RANKING, REL) == pytest.approx((1 + 2 / 3) / 3)
    assert average_precision([], REL) == 0.0
    assert average_precision(["x", "a"], {"a"}) == pytest.approx(0.5)


def test_ndcg_at_10_by_hand():
    dcg = 1 / math.log2(2) + 1 / math.log2(4)
    ideal = 1 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at(RANKING, REL, 10) == pytest.approx(dcg / ideal)
    assert ndcg_at(["a", "c", "f"], REL, 10) == pytest.approx(1.0)
    assert ndcg_at(["b", "a"], {"a"}, 1) == 0.0


def test_precision_and_recall():
    assert precision_at(RANKING, REL, 10) == pytest.approx(0.2)  # short ranking still / 10
    assert precision_at(RANKING, REL, 2) == pytest.approx(0.5)
    assert recall_at(RANKING, REL, 100) == pytest.approx(2 / 3)
    assert recall_at(RANKING, REL, 1) == pytest.approx(1 / 3)


def test_evaluate_run_relevance_threshold_and_missing_queries():
    qrels = {"q1": {"a": 2, "b": -1, "c": 0}, "q2": {"x": 1}, "q3": {"z": -1}}
    run = {"q1": ["b", "a"], "q3": ["z"]}
    qids, m = evaluate_run(run, qrels, min_rel=1)
    # q3 has no relevant document at >= 1 and is left out; q2 is judged but not run: zeros
    assert qids == ["q1", "q2"]
    assert m["MAP"].tolist() == pytest.approx([0.5, 0.0])
    qids, m = evaluate_run(run, qrels, min_rel=-1)  # every judged line counts
    assert qids == ["q1", "q3", "q2"]
    assert m["MAP"].tolist() == pytest.approx([(1 + 1) / 3, 1.0, 0.0])
    assert np.isclose(m["P@10"][0], 0.2)
