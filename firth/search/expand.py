"""Query expansion with word embeddings (Kuzi, Shtok & Kurland, CIKM 2016).

Candidate terms are scored by their cosine similarity to the query:

* ``centroid`` (the paper's *Cent*): similarity to the centroid of the query terms' unit
  vectors;
* ``combsum`` (the per-term alternative, the paper's *CombSUM*): for every query term the
  ``pool`` nearest terms, their similarities normalised to sum 1 per query term, summed
  over query terms.

The top ``n_terms`` candidates (query terms excluded; only terms the index knows, so an
expansion term can match something) form an expansion model whose scores are normalised to
sum 1, and the expanded query is

    q'(t) = (1 - weight) * q(t) / |q|  +  weight * e(t)

so ``weight=0`` is the original query and ``weight=1`` the expansion terms alone.

The vectors speak in index terms. Vectors trained on the analysed collection
(``firth search corpus``) are used as they are; vectors trained on raw text are mapped
through the index's analyzer: every vocabulary word becomes its term (``layers`` ->
``layer``) and a term's vector is the count-weighted mean of its words' unit vectors.
Which of the two a set of vectors is, is detected (analysed text has no stop words) unless
``analysed`` is given.
"""

from __future__ import annotations

import numpy as np

from firth.errors import FirthError
from firth.search.analyze import Analyzer

METHODS = ("centroid", "combsum")


def _unit(m: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(m, axis=-1, keepdims=True)
    n[n == 0] = 1.0
    return (m / n).astype(np.float32, copy=False)


def _matvec(m: np.ndarray, v: np.ndarray) -> np.ndarray:
    """m @ v without BLAS: OpenBLAS's threaded gemv is ~15x slower when the cores are busy
    (7.5 ms against 0.5 ms for 18,530 x 100 on the shared 2-core machine)."""
    return np.einsum("ij,j->i", m, v)


def looks_analysed(kv, analyzer: Analyzer) -> bool:
    """True when the vectors' vocabulary has no stop words, i.e. came from analysed text."""
    if not analyzer.stopwords:
        return True
    common = [w for w in ("the", "of", "and", "to", "in", "is") if w in analyzer.stopwords]
    return not any(w in kv.key_to_index for w in common)


class EmbeddingExpander:
    """Expansion terms for analysed queries, from a KeyedVectors-like object.

    ``kv`` needs ``index_to_key``, ``vectors`` and optionally ``counts``;
    ``vocabulary``: the terms allowed as expansions (an index's terms), or None for all.
    """

    def __init__(self, kv, analyzer: Analyzer, vocabulary=None, analysed: bool | None = None):
        self.analyzer = analyzer
        if analysed is None:
            analysed = looks_analysed(kv, analyzer)
        self.analysed = analysed
        vecs = np.asarray(kv.vectors, dtype=np.float32)
        words = kv.index_to_key
        if analysed:
            self.terms = list(words)
            self.E = _unit(np.array(vecs))
            self.surface = {}
        else:
            term_of = [analyzer.analyze_word(w) for w in words]
            ids: dict[str, int] = {}
            rows, groups = [], []
            for i, t in enumerate(term_of):
                if t is None:
                    continue
                rows.append(i)
                groups.append(ids.setdefault(t, len(ids)))
            if not rows:
                raise FirthError("the vectors' vocabulary has no word that analyses to a search term")
            rows = np.asarray(rows)
            groups = np.asarray(groups)
            w = np.ones(len(rows), np.float32)
            counts = getattr(kv, "counts", None)
            if counts is not None:
                w = np.asarray(counts, dtype=np.float32)[rows]
                w = np.maximum(w, 1.0)
            acc = np.zeros((len(ids), vecs.shape[1]), np.float32)
            np.add.at(acc, groups, _unit(vecs[rows]) * w[:, None])
            self.terms = list(ids)
            self.E = _unit(acc)
            # the most frequent word of each term, for display ("layer" for layer/layers)
            self.surface = {}
            for i in rows:
                t = term_of[i]
                self.surface.setdefault(t, words[i])
        self.term_row = {t: i for i, t in enumerate(self.terms)}
        if vocabulary is not None:
            vocab = set(vocabulary)
            self.allowed = np.fromiter((t in vocab for t in self.terms), bool, len(self.terms))
        else:
            self.allowed = np.ones(len(self.terms), bool)
        if not self.allowed.any():
            raise FirthError("no term of the vectors is in the index; were they trained on another collection or analysis?")

    def display(self, term: str) -> str:
        """A readable form of a term: its most frequent word when the vectors were raw."""
        w = self.surface.get(term)
        return term if w is None or w == term else f"{w} ({term})"

    def __contains__(self, term: str) -> bool:
        return term in self.term_row

    def _top(self, scores: np.ndarray, n: int, exclude_rows) -> list[tuple[str, float]]:
        scores = np.where(self.allowed, scores, -np.inf)
        scores[list(exclude_rows)] = -np.inf
        n = min(n, int(np.isfinite(scores).sum()))
        if n <= 0:
            return []
        part = np.argpartition(-scores, n - 1)[:n]
        order = part[np.lexsort((part, -scores[part]))]
        return [(self.terms[i], float(scores[i])) for i in order]

    def expand(self, query_terms, n_terms: int = 10, method: str = "centroid", pool: int = 50):
        """[(term, score)] best first, for a list of analysed query terms.

        Query terms the vectors do not know are ignored; if none is known the list is empty.
        """
        if method not in METHODS:
            raise FirthError(f"expansion method {method!r}: use one of {', '.join(METHODS)}")
        rows = list(dict.fromkeys(self.term_row[t] for t in query_terms if t in self.term_row))
        if not rows or n_terms <= 0:
            return []
        Q = self.E[rows]
        if method == "centroid":
            c = Q.mean(axis=0)
            norm = np.linalg.norm(c)
            if norm == 0:
                return []
            return self._top(_matvec(self.E, c / norm), n_terms, rows)
        # combsum: per query term, its `pool` nearest allowed terms, normalised, summed
        S = np.einsum("ij,kj->ik", self.E, Q)  # (V, q)
        fused = np.zeros(len(self.terms), np.float64)
        for j in range(S.shape[1]):
            top = self._top(S[:, j].copy(), pool, rows)
            if not top:
                continue
            idx = np.array([self.term_row[t] for t, _ in top])
            sims = np.maximum(np.array([s for _, s in top]), 0.0)
            if sims.sum() > 0:
                fused[idx] += sims / sims.sum()
        fused[fused == 0] = -np.inf
        return self._top(fused, n_terms, rows)


def normalise(model: dict[str, float]) -> dict[str, float]:
    """Scores clipped at 0 and scaled to sum 1 (empty if nothing is positive)."""
    pos = {t: float(s) for t, s in model.items() if s > 0}
    total = sum(pos.values())
    return {t: s / total for t, s in pos.items()} if total > 0 else {}


def interpolate(query: dict[str, float], expansion: dict[str, float], weight: float) -> dict[str, float]:
    """(1 - weight) * query/|query| + weight * expansion/|expansion| (both as distributions)."""
    if not 0.0 <= weight <= 1.0:
        raise FirthError(f"expansion weight {weight}: must be between 0 and 1")
    q = normalise(query)
    e = normalise(expansion)
    if not e:
        return q
    out = {t: (1.0 - weight) * s for t, s in q.items()}
    for t, s in e.items():
        out[t] = out.get(t, 0.0) + weight * s
    return out
