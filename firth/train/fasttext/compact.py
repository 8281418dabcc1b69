"""Compact n-gram rows for fastText training: only the buckets some vocabulary word uses.

A word's rows are its own row and the buckets of its n-grams; training reads and writes no
other row (an n-gram of no vocabulary word is never in any input list). So of the ``bucket``
rows (2M by default, 763 MiB at dim 100) only the *used* ones need memory: the trainer's
input matrix is ``V + len(used)`` rows, bucket ``used[j]`` living at row ``V + j``, and the
subword table points there. The vectors (``FastTextVectors`` with
:class:`firth.vectors.fasttext.NgramRows`) and the writers expand it block by block, unused
buckets as zero rows.

Each used row starts exactly where the dense matrix would have it: ``uniform_rows`` draws
row ``r`` from a generator seeded by ``seed + (r + 1) * GOLDEN`` (splitmix64), so row ``V + j``
drawn with the seed shifted by ``(used[j] - j) * GOLDEN`` equals dense row ``V + used[j]``.
Training then does the same arithmetic on the same values in the same order: with one worker
the trained vectors equal the dense run's bit for bit (tests/train/test_fasttext_compact.py
keeps the dense path as the oracle).
"""

from __future__ import annotations

import numba
import numpy as np

from firth.train.fasttext.kernels import uniform_rows

GOLDEN = 0x9E3779B97F4A7C15  # uniform_rows' row step (splitmix64's increment)


def compact_subwords(sub_rows: np.ndarray, nwords: int) -> tuple[np.ndarray, np.ndarray]:
    """The used buckets (sorted) and the subword table with row ``V + b`` renumbered
    ``V + position of b``; word rows (< V) are kept. The renumbering is one-to-one, so each
    word's list keeps its repeats (and ``subword_scale``)."""
    sub_rows = np.asarray(sub_rows)
    ng = sub_rows >= nwords
    used = np.unique(sub_rows[ng]).astype(np.int64) - nwords
    out = sub_rows.copy()
    out[ng] = (nwords + np.searchsorted(used, sub_rows[ng].astype(np.int64) - nwords)).astype(out.dtype)
    return used, out


@numba.njit(nogil=True, cache=True)
def uniform_used_rows(out, nwords, used, j0, j1, lim, seed):
    """Rows ``nwords + j`` (j in j0..j1) of ``out`` = rows ``nwords + used[j]`` of the dense
    ``uniform_rows`` matrix (the generator's seed shifted, see the module's docstring)."""
    for j in range(j0, j1):
        s = np.uint64(seed) + np.uint64(used[j] - j) * np.uint64(GOLDEN)
        uniform_rows(out, nwords + j, nwords + j + 1, lim, s)
