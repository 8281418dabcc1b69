"""Pseudo-relevance feedback: the relevance model RM1/RM3 (Lavrenko & Croft 2001;
Abdul-Jaleel et al. 2004), on top of a first BM25 pass.

RM1 over the top ``fb_docs`` documents D of the first pass:

    p(t | R) ∝ sum_D  p(t | D) * w(D),    p(t | D) = tf(t, D) / |D|,
    w(D) = the document's BM25 score / the sum of the fb_docs scores

keeping the ``fb_terms`` most probable terms (renormalised). RM3 interpolates it with the
original query: ``(1 - weight) * q/|q| + weight * RM1``.
"""

from __future__ import annotations

import numpy as np

from firth.search.index import Index


def rm1(index: Index, docs: np.ndarray, scores: np.ndarray, fb_terms: int = 10) -> dict[str, float]:
    """The relevance model of the feedback documents: {term: p(t|R)}, top fb_terms terms."""
    if len(docs) == 0 or fb_terms <= 0:
        return {}
    w = np.asarray(scores, dtype=np.float64)
    w = w / w.sum() if w.sum() > 0 else np.full(len(docs), 1.0 / len(docs))
    acc: dict[int, float] = {}
    term_parts, val_parts = [], []
    for d, wd in zip(docs, w):
        terms, tf = index.doc_terms(int(d))
        dl = max(int(index.doclen[d]), 1)
        term_parts.append(terms)
        val_parts.append(tf * (wd / dl))
    terms = np.concatenate(term_parts)
    vals = np.concatenate(val_parts)
    uniq, inv = np.unique(terms, return_inverse=True)
    p = np.bincount(inv, weights=vals)
    n = min(fb_terms, len(uniq))
    part = np.argpartition(-p, n - 1)[:n]
    order = part[np.lexsort((uniq[part], -p[part]))]
    total = p[order].sum()
    for i in order:
        acc[index.terms[int(uniq[i])]] = float(p[i] / total)
    return acc


def feedback_model(index: Index, query: dict[str, float], fb_docs: int = 10, fb_terms: int = 10,
                   k1: float = 1.2, b: float = 0.75) -> dict[str, float]:
    """RM1 of the top fb_docs documents that BM25 retrieves for ``query``."""
    docs, scores = index.search(query, k1, b, topk=fb_docs)
    return rm1(index, docs, scores, fb_terms)
