"""Parameter tuning by k-fold cross-validation over the queries.

The queries are split into ``folds`` parts (a seeded shuffle). For each part, the
parameters are chosen by mean average precision on the *other* parts only, and the part is
then scored with them; the reported figures are those held-out scores, so no query is ever
scored by parameters tuned on itself.

Two stages per fold, both on the training queries: (1) BM25's k1 and b on the plain
query; (2) with those, the expansion parameters (terms and weight; RM3 feedback terms;
the rm3+emb mix). A per-query score depends only on the query and the parameters, so every
configuration is scored once over all queries and the folds select among those scores.
"""

from __future__ import annotations

import itertools

import numpy as np

from firth.errors import FirthError
from firth.search.metrics import MEASURES, evaluate_run
from firth.search.retrieve import Config, Retriever

K1S = (0.6, 0.9, 1.2, 1.5, 2.0)
BS = (0.3, 0.5, 0.75, 0.9)
WEIGHTS = (0.1, 0.2, 0.35, 0.5, 0.7)
TERMS = (5, 10, 20)
MIXES = (0.25, 0.5, 0.75)


def expansion_grid(cfg: Config) -> list[Config]:
    """Configurations of the expansion parameters around ``cfg`` (BM25 fixed)."""
    if cfg.expand == "none":
        return [cfg]
    if cfg.expand == "emb":
        return [cfg.with_(terms=n, weight=w) for n, w in itertools.product(TERMS, WEIGHTS)]
    if cfg.expand == "rm3":
        return [cfg.with_(fb_terms=n, weight=w) for n, w in itertools.product(TERMS, WEIGHTS)]
    return [cfg.with_(terms=n, fb_terms=n, weight=w, mix=m) for n, w, m in itertools.product(TERMS, WEIGHTS, MIXES)]


def fold_ids(n: int, folds: int = 5, seed: int = 0) -> np.ndarray:
    """Fold number of each of n queries: a seeded permutation cut into near-equal parts."""
    perm = np.random.default_rng(seed).permutation(n)
    out = np.empty(n, dtype=np.int64)
    out[perm] = np.arange(n) % folds
    return out


class Tuner:
    def __init__(self, retriever: Retriever, queries: dict[str, str], qrels, min_rel: int = 1, topk: int = 1000):
        self.retriever = retriever
        self.queries = queries
        self.qrels = qrels
        self.min_rel = min_rel
        self.topk = topk
        self._cache: dict[Config, dict[str, np.ndarray]] = {}
        self.qids = None

    def scores(self, cfg: Config) -> dict[str, np.ndarray]:
        """Per-query measures of one configuration (cached)."""
        hit = self._cache.get(cfg)
        if hit is None:
            run = self.retriever.run(self.queries, cfg, self.topk)
            qids, hit = evaluate_run(run, self.qrels, self.min_rel)
            if self.qids is None:
                self.qids = qids
            self._cache[cfg] = hit
        return hit

    def _best(self, configs, train: np.ndarray) -> Config:
        means = [self.scores(c)["MAP"][train].mean() for c in configs]
        return configs[int(np.argmax(means))]  # first of equals: grid order

    def cross_validate(self, cfg: Config, folds: int = 5, seed: int = 0, tune_bm25: bool = True):
        """Held-out per-query measures and the configuration chosen for each fold."""
        first = self.scores(cfg)
        n = len(first["MAP"])
        if n < folds:
            raise FirthError(f"--tune: {folds}-fold cross-validation needs at least {folds} queries with relevant documents, got {n}")
        fid = fold_ids(n, folds, seed)
        out = {m: np.zeros(n) for m in MEASURES}
        chosen = []
        for f in range(folds):
            train, test = fid != f, fid == f
            base = cfg.with_(expand="none")
            if tune_bm25:
                bm25 = [base.with_(k1=k1, b=b) for k1, b in itertools.product(K1S, BS)]
                base = self._best(bm25, train)
            best = self._best(expansion_grid(cfg.with_(k1=base.k1, b=base.b)), train)
            s = self.scores(best)
            for m in MEASURES:
                out[m][test] = s[m][test]
            chosen.append(best)
        return out, chosen, fid
