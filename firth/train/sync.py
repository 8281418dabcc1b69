"""Keeping one model across ranks: all-reduce of the rows each rank changed since the last
synchronisation ("delta sync"). No torch here: a ``comm`` object does the collectives
(:class:`firth.train.distributed.TorchComm` over torch.distributed; tests use threads).

Every rank holds the whole model and a snapshot ``B`` of it as it was after the last sync
(identical on every rank). Each trains its own share for a while, as Hogwild threads of one
process do, and then, for each matrix::

    touched  = rows where M != B               (this rank's changes)
    union    = all-reduce MAX of touched        (V bytes)
    delta    = M[union] - B[union]              (this rank's update of those rows)
    delta    = all-reduce SUM of delta          (|union| x dim floats)
    M[union] = B[union] + delta;  B[union] = M[union]

so every rank ends with ``B + sum of the ranks' updates``, bit-identical everywhere (the
all-reduce hands every rank the same sums). That is what Hogwild threads sharing memory do,
with the other ranks' updates arriving up to one interval late. ``mode="mean"`` divides the
summed update by the number of ranks (model averaging, as Spark MLlib does per iteration):
kept for the measurement that shows why firth does not use it (a word seen by one rank
gets 1/P of its update; benchmarks/RESULTS.md).

Only touched rows travel: rare words (most of the vocabulary, by Zipf's law) are touched
in few intervals and cost nothing in the others, while the frequent words, touched in every
interval, are synchronised every time -- Ji et al.'s "hot words more often", without a
separate schedule. ``reference_sync`` is the readable whole-matrix version, the oracle.
"""

from __future__ import annotations

import numpy as np

CHUNK_ROWS = 1 << 14  # rows compared at a time (bounds the temporary boolean array)


def changed_rows(m: np.ndarray, base: np.ndarray) -> np.ndarray:
    """uint8 flag per row: 1 where ``m`` differs from ``base`` (NaN counts as changed)."""
    out = np.empty(len(m), dtype=np.uint8)
    for a in range(0, len(m), CHUNK_ROWS):
        b = min(a + CHUNK_ROWS, len(m))
        out[a:b] = np.any(m[a:b] != base[a:b], axis=1)
    return out


class DeltaSync:
    """Synchronise ``matrices`` (float32, 2-D, the same objects the kernels write) across ranks."""

    def __init__(self, matrices, comm, mode: str = "sum"):
        if mode not in ("sum", "mean"):
            raise ValueError(f"mode must be 'sum' or 'mean', got {mode!r}")
        uniq = []
        for m in matrices:  # a tied model passes one matrix twice
            if not any(m is u for u in uniq):
                uniq.append(m)
        self.matrices = uniq
        self.comm = comm
        self.mode = mode
        self.base = [m.copy() for m in uniq]
        self.syncs = 0
        self.payload_bytes = 0  # bytes this rank contributes to all-reduces, summed over syncs
        self.rows_synced = 0
        self.last_payload = 0

    def __call__(self) -> int:
        """One synchronisation (a collective: every rank calls it the same number of times).
        Returns the payload bytes of this call."""
        payload = 0
        for m, base in zip(self.matrices, self.base):
            union = changed_rows(m, base)
            self.comm.all_reduce_max(union)
            idx = np.flatnonzero(union)
            payload += union.nbytes
            if len(idx) == 0:
                continue
            delta = m[idx] - base[idx]
            self.comm.all_reduce_sum(delta)
            if self.mode == "mean":
                delta /= np.float32(self.comm.size)
            new = base[idx] + delta
            if not np.isfinite(new).all():
                bad = int(idx[np.flatnonzero(~np.isfinite(new).all(axis=1))[0]])
                raise FloatingPointError(f"row {bad} became NaN or infinite in training; lower --alpha")
            m[idx] = new
            base[idx] = new
            payload += delta.nbytes
            self.rows_synced += len(idx)
        self.syncs += 1
        self.payload_bytes += payload
        self.last_payload = payload
        return payload

    def reset_base(self) -> None:
        """Take the matrices as they are now (identical on every rank) as the snapshot."""
        for m, base in zip(self.matrices, self.base):
            np.copyto(base, m)


def reference_sync(models: list[np.ndarray], base: np.ndarray, mode: str = "sum") -> np.ndarray:
    """The oracle: ``base + sum over ranks of (model_r - base)`` over whole matrices (``mean``:
    divided by the number of ranks), summed in rank order."""
    delta = np.zeros_like(base)
    for m in models:
        delta += m - base
    if mode == "mean":
        delta /= np.float32(len(models))
    return base + delta
