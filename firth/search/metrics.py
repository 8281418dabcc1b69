"""IR effectiveness measures, per query (trec_eval definitions).

``ranking`` is a list of document ids, best first; ``qrels`` maps doc id -> relevance code;
a document is relevant when its code is >= ``min_rel`` (default 1: codes > 0).

* average precision: sum of precision@k at each relevant rank / number of relevant docs
  (relevant docs never retrieved count as precision 0), over the ranking given (trec_eval
  cuts at 1000).
* nDCG@k: binary gains (1 for a relevant document), log2(rank + 1) discount, normalised by
  the ideal ranking of the judged relevant documents. Binary gains because relevance codes
  do not share a direction across collections (Cranfield's 1 is the *most* relevant).
* P@k: relevant documents in the top k / k (a short ranking still divides by k).
* recall@k: relevant documents in the top k / all relevant documents.
"""

from __future__ import annotations

import math

import numpy as np


def relevant_set(qrels: dict[str, int], min_rel: int = 1) -> set[str]:
    return {d for d, r in qrels.items() if r >= min_rel}


def average_precision(ranking, relevant: set[str]) -> float:
    if not relevant:
        return 0.0
    hits, total = 0, 0.0
    for k, d in enumerate(ranking, 1):
        if d in relevant:
            hits += 1
            total += hits / k
    return total / len(relevant)


def ndcg_at(ranking, relevant: set[str], k: int = 10) -> float:
    if not relevant:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(ranking[:k]) if d in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal


def precision_at(ranking, relevant: set[str], k: int = 10) -> float:
    return sum(1 for d in ranking[:k] if d in relevant) / k


def recall_at(ranking, relevant: set[str], k: int = 100) -> float:
    if not relevant:
        return 0.0
    return sum(1 for d in ranking[:k] if d in relevant) / len(relevant)


MEASURES = ("MAP", "nDCG@10", "P@10", "recall@100")


def evaluate_run(run: dict[str, list[str]], qrels: dict[str, dict[str, int]], min_rel: int = 1):
    """Per-query measures for the queries that have at least one relevant document.

    Returns (query ids, {measure: np.ndarray aligned with the ids}). A query with
    judgements but no retrieved documents scores 0 on everything.
    """
    qids = [q for q in run if relevant_set(qrels.get(q, {}), min_rel)]
    # queries judged but absent from the run also count (as zeros)
    qids += [q for q in qrels if q not in run and relevant_set(qrels[q], min_rel)]
    out = {m: np.zeros(len(qids)) for m in MEASURES}
    for i, q in enumerate(qids):
        rel = relevant_set(qrels[q], min_rel)
        r = run.get(q, [])
        out["MAP"][i] = average_precision(r, rel)
        out["nDCG@10"][i] = ndcg_at(r, rel, 10)
        out["P@10"][i] = precision_at(r, rel, 10)
        out["recall@100"][i] = recall_at(r, rel, 100)
    return qids, out
