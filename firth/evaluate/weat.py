"""WEAT, the Word Embedding Association Test (Caliskan, Bryson & Narayanan 2017).

For target sets X, Y and attribute sets A, B (unit vectors, cosine similarity):

* ``s(w, A, B) = mean_{a in A} cos(w, a) - mean_{b in B} cos(w, b)`` — how much more w is
  associated with A than with B;
* test statistic ``S = sum_{x in X} s(x, A, B) - sum_{y in Y} s(y, A, B)``;
* effect size ``d = (mean_{x in X} s(x) - mean_{y in Y} s(y)) / std_{w in X ∪ Y} s(w)``,
  a standardised difference of means like Cohen's d: 0.2 small, 0.5 medium, 0.8 large,
  at most 2 in absolute value when |X| = |Y|. The standard deviation is the **population**
  one (ddof = 0) by default: the paper's denominator is the spread of s over the words of
  X ∪ Y themselves (the whole set being described, not a sample from a larger one), and
  WEFE, the independent reference implementation, uses ``np.std`` (ddof = 0) too. ``ddof=1``
  gives the sample standard deviation used by some other implementations (d shrinks by a
  factor sqrt((n-1)/n), about 3 % for 16 words);
* one-sided permutation p-value ``p = Pr_i[S(X_i, Y_i) > S(X, Y)]`` over the partitions
  (X_i, Y_i) of X ∪ Y into sets of the sizes of X and Y: the chance that a random relabelling
  of the target words shows an association at least this strong in the same direction. It
  is **exact** (every partition enumerated) when there are at most ``exact_limit`` partitions
  (C(16, 8) = 12,870 for WEAT 6-10), and otherwise **sampled**: ``samples`` random partitions
  from a seeded generator, p = (count + 1) / (samples + 1) (the observed labelling counted
  once, so p is never 0). A small p says the association is unlikely under random labels; it
  says nothing about its size (that is d).

Words not in the vocabulary are dropped from their set and reported per set (``missing``).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from firth.errors import FirthError
from firth.evaluate.datasets import WeatTest, read_weat
from firth.evaluate.lookup import Lookup, normed


def _vectors(W, look: Lookup, words):
    idx, missing = [], []
    for w in words:
        i = look.index(w)
        (missing.append(w) if i is None else idx.append(i))
    return W[idx].astype(np.float64), missing


def association(Wt: np.ndarray, Wa: np.ndarray, Wb: np.ndarray) -> np.ndarray:
    """s(w, A, B) for every row of Wt (rows of all three are unit vectors)."""
    return (Wt @ Wa.T).mean(axis=1) - (Wt @ Wb.T).mean(axis=1)


def p_value(s: np.ndarray, nx: int, exact_limit: int = 100_000, samples: int = 100_000,
            seed: int = 0) -> tuple[float, str, int]:
    """One-sided permutation p-value of S = sum(s[:nx]) - sum(s[nx:]) (see module doc).

    Returns (p, "exact" | "sampled", number of partitions used).
    """
    n = len(s)
    total = s.sum()
    observed = 2.0 * s[:nx].sum() - total
    tol = 1e-12 * (np.abs(s).sum() + 1.0)  # the same partition summed in another order
    n_part = math.comb(n, nx)
    if n_part <= exact_limit:
        combos = np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(n), nx)),
                             dtype=np.int64, count=n_part * nx).reshape(n_part, nx)
        stats = 2.0 * s[combos].sum(axis=1) - total
        return float(np.count_nonzero(stats > observed + tol)) / n_part, "exact", n_part
    rng = np.random.default_rng(seed)
    count, done, batch = 0, 0, 10_000
    base = np.tile(np.arange(n), (batch, 1))
    while done < samples:
        b = min(batch, samples - done)
        perm = rng.permuted(base[:b], axis=1)[:, :nx]
        stats = 2.0 * s[perm].sum(axis=1) - total
        count += int(np.count_nonzero(stats > observed + tol))
        done += b
    return (count + 1) / (samples + 1), "sampled", samples


def run_test(kv, test: WeatTest, case_insensitive: bool = True, ddof: int = 0,
             exact_limit: int = 100_000, samples: int = 100_000, seed: int = 0,
             look: Lookup | None = None) -> dict:
    look = look or Lookup.get(kv, case_insensitive)
    W = normed(kv)
    (xn, xw), (yn, yw) = test.targets
    (an, aw), (bn, bw) = test.attributes
    X, mx = _vectors(W, look, xw)
    Y, my = _vectors(W, look, yw)
    A, ma = _vectors(W, look, aw)
    B, mb = _vectors(W, look, bw)
    res = {
        "name": test.name,
        "sets": {"X": xn, "Y": yn, "A": an, "B": bn},
        "sizes": {"X": len(xw), "Y": len(yw), "A": len(aw), "B": len(bw)},
        "found": {"X": len(X), "Y": len(Y), "A": len(A), "B": len(B)},
        "missing": {k: v for k, v in (("X", mx), ("Y", my), ("A", ma), ("B", mb)) if v},
        "ddof": ddof,
    }
    for key in ("paper_effect_size", "paper_p_value"):
        if key in test.extra:
            res[key] = test.extra[key]
    empty = [k for k, v in res["found"].items() if v == 0]
    if empty or len(X) + len(Y) < 2:
        res.update(statistic=float("nan"), effect_size=float("nan"), p_value=float("nan"),
                   p_method="none", partitions=0,
                   skipped=f"no word of set(s) {', '.join(empty) or 'X+Y'} in the vocabulary")
        return res
    s = association(np.vstack([X, Y]), A, B)
    sx, sy = s[: len(X)], s[len(X):]
    std = s.std(ddof=ddof) if len(s) > ddof else float("nan")
    p, how, n_part = p_value(s, len(X), exact_limit, samples, seed)
    res.update(
        statistic=float(sx.sum() - sy.sum()),
        effect_size=float((sx.mean() - sy.mean()) / std) if std > 0 else float("nan"),
        p_value=p,
        p_method=how,
        partitions=n_part,
        mean_s={"X": float(sx.mean()), "Y": float(sy.mean())},
    )
    return res


def evaluate_weat(kv, source, case_insensitive: bool = True, ddof: int = 0, exact_limit: int = 100_000,
                  samples: int = 100_000, seed: int = 0) -> dict:
    """Run every test of a WEAT JSON file (or a list of WeatTest). Returns {test id: result}."""
    if ddof not in (0, 1):
        raise FirthError(f"--weat-ddof: must be 0 or 1, got {ddof}")
    if samples < 1:
        raise FirthError(f"--weat-samples: must be positive, got {samples}")
    tests = source if isinstance(source, list) else read_weat(source)
    look = Lookup.get(kv, case_insensitive)
    return {t.id: run_test(kv, t, case_insensitive, ddof, exact_limit, samples, seed, look) for t in tests}
