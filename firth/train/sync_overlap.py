"""Delta sync whose exchange runs while the ranks go on training ("overlapped" sync).

:class:`firth.train.sync.DeltaSync` stops every rank at each sync until the slowest has
arrived and the all-reduces are done: on ranks that train 50,000 words in ~25 ms, the waiting
and the collectives cost as much as the training (benchmarks/RESULTS.md). Here each sync only
*posts* its all-reduce and returns; the result is applied at the next sync::

    sync s:   wait for the all-reduce posted at s-1 (rows R, own delta D, summed S):
                  M[R] += S - D          the other ranks' updates (own ones are already in M)
                  B[R]  = B[R] + S       the agreed snapshot, the same bits on every rank
              rows due at s (the --sync-rare schedule; the same on every rank, so no flags
              collective is needed): D = M[R] - B[R]; post the all-reduce SUM of D

A rank's own updates are in its model at once; the other ranks' arrive one interval later
than with DeltaSync (two at most), and a rank that runs a little behind no longer stops the
others (it has a whole interval to post its part). ``M - B`` stays this rank's updates not yet
sent, so nothing is lost or counted twice. The epoch's last sync (``full=True``) finishes the
pending exchange and runs DeltaSync's synchronous full sync: every rank then holds the same
model, bit for bit, for the checkpoint and the output.

Two modes: ``sum``, and ``hot``, where the rows expected at least ``--sync-hot`` times per
interval in all ranks' text get the mean of the ranks' updates (the sum divided by the number of
ranks) and the others the sum. The blocking ``hot`` divides by the number of ranks that changed
the row, counted by its flags collective; this scheme has none, and takes every rank as having
changed a hot row: with 2 ranks each meets it >= 8 times per interval (e^-8 = 0.03% that one
did not). The modes that need the true counts (touched, adasum, bound) are not offered.
"""

from __future__ import annotations

import time

import numpy as np

from firth.train.sync import DeltaSync, _ring_all_reduce
from firth.train.sync_kernels import apply_sums, take_deltas


class OverlappedSync(DeltaSync):
    """DeltaSync (mode sum or hot) with the all-reduce of sync ``s`` applied at sync ``s + 1``.

    ``comm`` needs ``all_reduce_sum_start(arr, bf16_bits) -> finish``: it posts an all-reduce
    SUM of ``arr`` (float32, or uint16 holding bfloat16 bits) and returns a function that
    waits for it and leaves the sum in ``arr``. ``hot`` (mode hot): a boolean per row."""

    def __init__(self, matrices, comm, periods=None, wire: str = "float32", mode: str = "sum", hot=None,
                 threads: int = 1):
        if mode not in ("sum", "hot"):
            raise ValueError(f"the overlapped sync sums or averages hot rows (mode sum or hot), not {mode!r}")
        super().__init__(matrices, comm, mode=mode, periods=periods, wire=wire, hot=hot, threads=threads)
        self.pending = None  # (rows per matrix, own delta, buffer being summed, finish)
        self.bf16 = wire == "bfloat16"
        self._own = self._wire = np.empty((0, 0), np.float32)

    def __call__(self, full: bool = False) -> int:
        self.finish()
        if full:
            return super().__call__(full=True)
        clock = time.perf_counter
        t0 = clock()
        rows = []
        for m in self.matrices:
            r = self.due_rows(len(m), self.syncs)
            rows.append(np.arange(len(m), dtype=np.int64) if r is None else r)
        n = sum(len(r) for r in rows)
        own, w32, w16 = self._buffers(n)
        at = 0
        for m, base, r in zip(self.matrices, self.base, rows):
            self.split(lambda a, b: take_deltas(m, base, r[a:b], own, w32, w16, at + a, self.bf16), len(r))
            at += len(r)
        buf = w16 if self.bf16 else w32
        t1 = clock()
        finish = self.comm.all_reduce_sum_start(buf, self.bf16)
        self.pending = (rows, own, buf, finish)
        self.seconds["gather"] += t1 - t0
        self.seconds["reduce"] += clock() - t1
        self.syncs += 1
        self.payload_bytes += buf.nbytes
        self.wire_bytes += _ring_all_reduce(buf.nbytes, self.comm.size)
        self.last_payload = buf.nbytes
        return buf.nbytes

    def _buffers(self, n: int):
        """This sync's delta and wire buffers (n rows), views of arrays kept across syncs:
        fresh ones would be new pages, faulted in at every sync. The pending exchange is
        finished before they are written again."""
        d = self.matrices[0].shape[1]
        if len(self._own) < n:
            cap = max(n, 2 * len(self._own))
            self._own = np.empty((cap, d), np.float32)
            self._wire = np.empty((cap, d), np.uint16 if self.bf16 else np.float32)
        wire = self._wire[:n]
        empty32, empty16 = np.empty((0, d), np.float32), np.empty((0, d), np.uint16)
        return self._own[:n], (empty32 if self.bf16 else wire), (wire if self.bf16 else empty16)

    def finish(self) -> None:
        """Wait for the pending all-reduce (if any) and apply it (see the module's text)."""
        if self.pending is None:
            return
        rows, own, summed, finish = self.pending
        self.pending = None
        clock = time.perf_counter
        t0 = clock()
        finish()
        t1 = clock()
        s32 = summed if not self.bf16 else np.empty((0, own.shape[1]), np.float32)
        s16 = summed if self.bf16 else np.empty((0, own.shape[1]), np.uint16)
        at = 0
        for m, base, r in zip(self.matrices, self.base, rows):
            div = self._divisors_of(r)
            bad = [x for x in self.split(lambda a, b: apply_sums(m, base, r[a:b], own, s32, s16, at + a, self.bf16,
                                                                 div[a:b] if len(div) else div), len(r)) if x >= 0]
            if bad:
                raise FloatingPointError(f"row {bad[0]} became NaN or infinite in training; lower --alpha")
            at += len(r)
            self.rows_synced += len(r)
        self.seconds["flags"] += t1 - t0  # waiting for the exchange posted one sync earlier
        self.seconds["scatter"] += clock() - t1

    def _divisors_of(self, rows: np.ndarray) -> np.ndarray:
        """Per row of ``rows``: what its summed update is divided by (the number of ranks for
        a hot row, else 1); empty for mode sum (nothing divided)."""
        if self.mode != "hot":
            return np.empty(0, np.float32)
        hot = np.zeros(len(rows), bool)
        inside = rows < len(self.hot)
        hot[inside] = self.hot[rows[inside]]
        return np.where(hot, np.float32(self.comm.size), np.float32(1.0)).astype(np.float32)

    def reset_base(self) -> None:
        self.finish()
        super().reset_base()
