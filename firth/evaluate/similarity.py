"""Word similarity: Spearman rho (and Pearson r) between cosine similarity and human scores.

Policy (the defaults are gensim's ``evaluate_word_pairs``): a pair with a word that is not
in the vocabulary is

* ``skip`` (default): left out of the correlation and counted (``oov``; ``coverage`` is the
  fraction of pairs scored);
* ``mean``: kept, with the model's score set to the mean cosine of the known pairs (as some
  papers do, so that a vocabulary that knows fewer words is not rewarded);
* ``zero``: kept with a model score of 0.0 (gensim's ``dummy4unknown=True``).

Words are compared case-insensitively unless asked otherwise (see :mod:`.lookup`).
Correlations are computed here in NumPy (Spearman = Pearson of average ranks, ties
averaged as ``scipy.stats.rankdata`` does) so that SciPy is not a run-time dependency.
"""

from __future__ import annotations

import numpy as np

from firth.errors import FirthError
from firth.evaluate.datasets import PairSet, read_pairs
from firth.evaluate.lookup import Lookup, normed

OOV_POLICIES = ("skip", "mean", "zero")


def rankdata(x) -> np.ndarray:
    """Average ranks (1-based) with ties averaged, as scipy.stats.rankdata(method='average')."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    n = len(x)
    # boundaries of runs of equal values
    new = np.r_[True, xs[1:] != xs[:-1]]
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], n]
    avg = (starts + ends + 1) / 2.0  # mean of 1-based ranks starts+1 .. ends
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat(avg, ends - starts)
    return ranks


def pearson(x, y) -> float:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if len(x) < 2:
        return float("nan")
    xm, ym = x - x.mean(), y - y.mean()
    den = np.sqrt((xm @ xm) * (ym @ ym))
    if den == 0:
        return float("nan")
    return float(np.clip((xm @ ym) / den, -1.0, 1.0))


def spearman(x, y) -> float:
    return pearson(rankdata(x), rankdata(y))


def evaluate_pairs(kv, pairs: PairSet, oov: str = "skip", case_insensitive: bool = True,
                   restrict: int | None = None) -> dict:
    """Score one pair set. Returns a JSON-ready dict (correlations as fractions)."""
    if oov not in OOV_POLICIES:
        raise FirthError(f"--oov: must be one of {', '.join(OOV_POLICIES)}, got {oov!r}")
    look = Lookup.get(kv, case_insensitive, restrict)
    W = normed(kv)
    gold, model, known = [], [], []
    oov_pairs = []
    for (a, b, score), line in zip(pairs.pairs, pairs.lines):
        ia, ib = look.index(a), look.index(b)
        if ia is None or ib is None:
            oov_pairs.append((a, b, line))
            if oov == "skip":
                continue
            gold.append(score)
            model.append(np.nan)
            known.append(False)
            continue
        gold.append(score)
        model.append(float(np.dot(W[ia].astype(np.float64), W[ib].astype(np.float64))))
        known.append(True)
    model = np.asarray(model, dtype=np.float64)
    known = np.asarray(known, dtype=bool)
    n_known = int(known.sum())
    if oov == "mean":
        model[~known] = model[known].mean() if n_known else 0.0
    elif oov == "zero":
        model[~known] = 0.0
    n = len(pairs.pairs)
    res = {
        "file": pairs.path,
        "pairs": n,
        "found": n_known,
        "oov": len(oov_pairs),
        "coverage": n_known / n if n else 0.0,
        "oov_policy": oov,
        "case_insensitive": case_insensitive,
        "scored": len(gold),
        "spearman": spearman(gold, model) if n_known >= 2 else float("nan"),
        "pearson": pearson(gold, model) if n_known >= 2 else float("nan"),
        "oov_examples": [f"{a} {b}" for a, b, _ in oov_pairs[:5]],
    }
    return res


def evaluate_similarity(kv, path, **kw) -> dict:
    return evaluate_pairs(kv, read_pairs(path), **kw)
