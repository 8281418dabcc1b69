"""DeltaSync (touched rows only) against the whole-matrix oracle, ranks played by threads."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from firth.train.sync import DeltaSync, changed_rows, reference_sync


class ThreadComm:
    """In-process collectives for ``size`` threads (sums in rank order, like the oracle)."""

    def __init__(self, shared, rank):
        self.shared, self.rank, self.size = shared, rank, shared["size"]

    def _reduce(self, arr, fn):
        s = self.shared
        s["slots"][self.rank] = arr.copy()
        s["barrier"].wait()
        out = s["slots"][0].copy()
        for r in range(1, self.size):
            out = fn(out, s["slots"][r])
        s["barrier"].wait()
        arr[...] = out

    def all_reduce_sum(self, arr):
        self._reduce(arr, lambda a, b: a + b)

    def all_reduce_max(self, arr):
        self._reduce(arr, np.maximum)


def _run_ranks(size, fn):
    shared = {"size": size, "slots": [None] * size, "barrier": threading.Barrier(size)}
    out, errs = [None] * size, []

    def go(r):
        try:
            out[r] = fn(ThreadComm(shared, r), r)
        except BaseException as e:  # pragma: no cover - surfaced below
            errs.append(e)
            shared["barrier"].abort()

    ts = [threading.Thread(target=go, args=(r,)) for r in range(size)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errs:
        raise errs[0]
    return out


def test_changed_rows_flags_exactly_the_rows_that_differ():
    rng = np.random.default_rng(1)
    base = rng.random((40_000, 7), dtype=np.float32)
    m = base.copy()
    rows = [0, 5, 16_383, 16_384, 39_999]
    m[rows, 3] += 1
    m[7, 0] = np.nan
    got = changed_rows(m, base)
    want = np.zeros(len(m), np.uint8)
    want[rows + [7]] = 1
    assert np.array_equal(got, want)


@pytest.mark.parametrize("mode", ["sum", "mean"])
@pytest.mark.parametrize("size", [2, 3])
def test_delta_sync_equals_the_whole_matrix_oracle(size, mode):
    rng = np.random.default_rng(size)
    V, d = 500, 8
    start = [rng.random((V, d), dtype=np.float32), rng.random((V, d), dtype=np.float32)]
    # each rank changes its own rows, some rows by several ranks, most by none
    edits = [[rng.choice(V, 60, replace=False) for _ in range(2)] for _ in range(size)]
    steps = [[rng.normal(size=(60, d)).astype(np.float32) for _ in range(2)] for _ in range(size)]

    def rank(comm, r):
        mats = [m.copy() for m in start]
        sync = DeltaSync(mats, comm, mode=mode)
        for k in range(2):
            mats[k][edits[r][k]] += steps[r][k]
        trained = [m.copy() for m in mats]
        sync()
        return mats, trained, sync

    out = _run_ranks(size, rank)
    for k in range(2):
        want = reference_sync([o[1][k] for o in out], start[k], mode=mode)
        for mats, _, sync in out:
            assert np.array_equal(mats[k], want)  # bit-identical on every rank
            assert np.array_equal(sync.base[k], want)
    touched = [len(set().union(*[set(e[k].tolist()) for e in edits])) for k in range(2)]
    sync = out[0][2]
    assert sync.rows_synced == sum(touched)
    assert sync.payload_bytes == 2 * V + sum(touched) * d * 4  # flags + touched rows only


def test_a_tied_matrix_is_synced_once_and_nan_is_refused():
    def rank(comm, r):
        m = np.zeros((4, 2), np.float32)
        sync = DeltaSync([m, m], comm)
        assert len(sync.matrices) == 1
        m[r] = 1.0
        sync()
        m[0, 0] = np.nan if r == 0 else 0.0
        with pytest.raises(FloatingPointError, match="row 0"):
            sync()
        return m

    out = _run_ranks(2, rank)
    assert out[1][0, 1] == 1.0 and out[1][1, 1] == 1.0


def test_synced_runner_jobs_are_no_longer_than_one_sync_interval():
    """Threads meet between jobs only: with jobs longer than the interval, all of a job's
    syncs fell at its end, back to back (2 ranks on a small corpus: +7.5% final loss)."""
    from firth.train.distributed import SyncedRunner

    offsets = np.concatenate([[0], np.cumsum(np.full(400, 100))]).astype(np.int64)  # 400 sentences of 100 words
    for workers, syncs in ((1, 20), (2, 7), (1, 1)):
        r = SyncedRunner(offsets, workers, 0.025, 1e-4, 1, sync=lambda: None, syncs=syncs)
        for k, jobs in enumerate(r.jobs):
            interval = -(-r.share_words[k] // syncs)
            sizes = [int(offsets[b] - offsets[a]) for a, b in jobs]
            assert max(sizes) <= interval + 100  # whole sentences: at most one more
            assert sum(sizes) == r.share_words[k]
        assert sum(r.share_words) == 40_000
