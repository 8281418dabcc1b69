"""Word Mover's Distance (Kusner et al. 2015) of two weighted bags of word vectors.

WMD is an earth mover's distance: documents are normalised bags of words, moving a unit of
mass from word i to word j costs the Euclidean distance of their vectors, and the distance
is the cheapest total transport. It is an exact linear program, solved here by POT's
network simplex (``ot.emd2``), the solver gensim uses. POT is optional (``firth[wmd]``).
"""

from __future__ import annotations

import numpy as np

from firth.errors import FirthError


def pairwise_euclidean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances between the rows of a and b (float64, clipped at 0 against rounding)."""
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return np.sqrt(np.maximum(sq, 0.0))


def word_movers_distance(vectors: np.ndarray, bag1: np.ndarray, bag2: np.ndarray) -> float:
    """WMD between two bags (each sums to 1) over the same rows of ``vectors``."""
    try:
        from ot import emd2
    except ImportError:
        raise FirthError("wmdistance needs POT, the optimal-transport library: pip install 'firth[wmd]' "
                         "(or pip install pot)") from None
    rows1, rows2 = np.flatnonzero(bag1), np.flatnonzero(bag2)
    if len(rows1) == 1 and len(rows2) == 1 and rows1[0] == rows2[0]:
        return 0.0  # the same single word: nothing to move
    cost = pairwise_euclidean(vectors[rows1], vectors[rows2])
    cost[np.equal.outer(rows1, rows2)] = 0.0  # a word's distance to itself is exactly 0
    if not cost.any():
        return 0.0  # every vector equal (gensim returns inf here; the exact answer is 0)
    return float(emd2(bag1[rows1], bag2[rows2], np.ascontiguousarray(cost)))
