"""DeltaSync (touched rows only) against the whole-matrix oracle, ranks played by threads."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from firth.train.sync import DeltaSync, changed_rows, reference_sync, to_bfloat16
from firth.train.sync_overlap import OverlappedSync


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

    def all_gather(self, arr):
        s = self.shared
        s["slots"][self.rank] = arr.copy()
        s["barrier"].wait()
        out = np.stack(s["slots"])
        s["barrier"].wait()
        return out

    def all_reduce_sum_bf16(self, arr):  # as gloo does: bfloat16 operands, each partial sum rounded
        arr[...] = to_bfloat16(arr)
        self._reduce(arr, lambda a, b: to_bfloat16(a + b))

    def all_reduce_sum_start(self, arr, bf16_bits=False):  # posted now, carried out when waited for
        def finish():
            if not bf16_bits:
                return self.all_reduce_sum(arr)
            x = (arr.astype(np.uint32) << 16).view(np.float32)
            self.all_reduce_sum_bf16(x)
            arr[...] = (x.view(np.uint32) >> 16).astype(np.uint16)  # exact: x holds bfloat16 values

        return finish


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


@pytest.mark.parametrize("mode", ["sum", "mean", "touched", "hot"])
@pytest.mark.parametrize("size", [2, 3])
def test_delta_sync_equals_the_whole_matrix_oracle(size, mode):
    rng = np.random.default_rng(size)
    V, d = 500, 8
    start = [rng.random((V, d), dtype=np.float32), rng.random((V, d), dtype=np.float32)]
    # each rank changes its own rows, some rows by several ranks, most by none
    edits = [[rng.choice(V, 60, replace=False) for _ in range(2)] for _ in range(size)]
    steps = [[rng.normal(size=(60, d)).astype(np.float32) for _ in range(2)] for _ in range(size)]
    hot = np.arange(V) < 100  # mode hot: the first 100 rows averaged

    def rank(comm, r):
        mats = [m.copy() for m in start]
        sync = DeltaSync(mats, comm, mode=mode, hot=hot)
        for k in range(2):
            mats[k][edits[r][k]] += steps[r][k]
        trained = [m.copy() for m in mats]
        sync()
        return mats, trained, sync

    out = _run_ranks(size, rank)
    for k in range(2):
        want = reference_sync([o[1][k] for o in out], start[k], mode=mode, hot=hot)
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


def test_sync_periods_follow_the_expected_occurrences_per_interval():
    from firth.train.sync import sync_periods

    counts = np.array([1000, 100, 50, 26, 10, 1])  # corpus of 1,000 words, 10 words per interval
    # expected occurrences per interval: 10, 1, 0.5, 0.26, 0.1, 0.01; period = 1/e floored to a power of two, <= 8
    p = sync_periods(counts, 8, 10, 1000, 1.0, 8)
    assert p.tolist() == [1, 1, 2, 2, 8, 8, 1, 1]  # rows past the vocabulary (buckets): every sync
    assert sync_periods(counts, 8, 10, 1000, 4.0, 64).tolist() == [1, 4, 8, 8, 32, 64, 1, 1]
    assert sync_periods(counts, 6, 10, 1000, 0.0, 64).tolist() == [1] * 6  # the plain scheme
    with pytest.raises(ValueError, match="power of two"):
        sync_periods(counts, 6, 10, 1000, 1.0, 3)


@pytest.mark.parametrize("size", [2, 3])
def test_rare_rows_wait_their_turn_and_a_full_sync_equals_the_oracle(size):
    """With periods, a row not due keeps its update in M - B; each row is due once in every
    run of ``period`` syncs; after a full sync the model is start + every rank's every update."""
    rng = np.random.default_rng(10 + size)
    V, d, rounds = 300, 6, 5
    periods = np.array([1, 2, 4] * (V // 3))
    start = rng.random((V, d), dtype=np.float32)
    edits = [[rng.choice(V, 40, replace=False) for _ in range(rounds)] for _ in range(size)]
    steps = [[rng.normal(size=(40, d)).astype(np.float32) for _ in range(rounds)] for _ in range(size)]

    def rank(comm, r):
        m = start.copy()
        sync = DeltaSync([m], comm, periods=periods)
        due = []
        for k in range(rounds):
            m[edits[r][k]] += steps[r][k]
            before = sync.base[0].copy()
            sync()
            due.append(np.flatnonzero(np.any(sync.base[0] != before, axis=1)))
        sync(full=True)
        return m, due, sync

    out = _run_ranks(size, rank)
    want = start.astype(np.float64)
    for r in range(size):
        for k in range(rounds):
            np.add.at(want, edits[r][k], steps[r][k])
    for m, due, sync in out:
        assert np.array_equal(m, out[0][0])  # identical on every rank
        assert np.allclose(m, want, atol=1e-5)
        assert np.array_equal(sync.base[0], m)
        for k, rows in enumerate(due):  # only rows due at sync k moved
            ok = ((rows + k) % periods[rows]) == 0
            assert ok.all()
    s = out[0][2]
    counts = np.zeros(V, int)  # staggered: in 4 consecutive syncs a row of period p is due 4/p times
    for k in range(4):
        counts[s.due_rows(V, k)] += 1
    assert np.array_equal(counts, 4 // periods)


def test_to_bfloat16_rounds_to_nearest_even_like_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).normal(size=10_000).astype(np.float32) * np.float32(1e-3)
    x[:4] = [1.0 + 2**-8, 1.0 + 3 * 2**-8, np.nan, -0.0]  # two ties, NaN, signed zero
    want = torch.from_numpy(x).to(torch.bfloat16).float().numpy()
    got = to_bfloat16(x)
    assert np.array_equal(got[~np.isnan(x)], want[~np.isnan(x)]) and np.isnan(got[2])
    assert got[0] == 1.0 and got[1] == 1.0 + 2**-6


def test_bfloat16_wire_sends_half_the_bytes_and_sums_into_float32():
    rng = np.random.default_rng(7)
    V, d = 200, 8
    start = rng.random((V, d), dtype=np.float32)
    steps = [rng.normal(scale=1e-3, size=(V, d)).astype(np.float32) for _ in range(2)]

    def rank(comm, r):
        m = start.copy()
        sync = DeltaSync([m], comm, wire="bfloat16")
        m += steps[r]
        sync()
        return m, sync

    out = _run_ranks(2, rank)
    d0, d1 = ((start + s) - start for s in steps)  # the deltas as the ranks compute them
    want = start + to_bfloat16(to_bfloat16(d0) + to_bfloat16(d1))
    exact = start + steps[0] + steps[1]
    for m, sync in out:
        assert np.array_equal(m, want)  # the model stays float32: base + the rounded sum
        # three roundings to 8 significant bits (each within 2^-8 of its operand), plus float32's own
        assert (np.abs(m - exact) <= 2**-7 * (np.abs(d0) + np.abs(d1)) + 2**-22).all()
        assert sync.payload_bytes == V + V * d * 2


def test_adasum_pair_algebra():
    from firth.train.sync import adasum_pair, adasum_rows

    rng = np.random.default_rng(20)
    a = rng.normal(size=(50, 16)).astype(np.float32)
    assert np.allclose(adasum_pair(a, a), a, atol=1e-6)  # identical updates: one of them, not twice
    b = rng.normal(size=(50, 16)).astype(np.float32)
    b -= (np.sum(a * b, 1) / np.sum(a * a, 1))[:, None] * a  # orthogonal to a, row by row
    assert np.allclose(adasum_pair(a, b), a + b, atol=1e-5)  # orthogonal: the sum
    z = np.zeros_like(a)
    assert np.array_equal(adasum_pair(a, z), a) and np.array_equal(adasum_pair(z, a), a)  # one rank changed it
    assert np.array_equal(adasum_pair(z, z), z)
    assert np.allclose(adasum_pair(a, -a), 0, atol=1e-6)  # opposite updates cancel
    # P identical updates: one update at any P (the sum would move it P times as far)
    for p in (2, 3, 4, 8):
        assert np.allclose(adasum_rows(np.stack([a] * p)), a, atol=1e-5)
    # the tree is fixed: ((0,1),(2,3)) at 4; ((0,1),2) at 3
    g = rng.normal(size=(4, 50, 16)).astype(np.float32)
    close = dict(rtol=1e-6, atol=1e-7)  # the tree keeps float64 between levels, the pairs round to float32
    assert np.allclose(adasum_rows(g), adasum_pair(adasum_pair(g[0], g[1]), adasum_pair(g[2], g[3])), **close)
    assert np.allclose(adasum_rows(g[:3]), adasum_pair(adasum_pair(g[0], g[1]), g[2]), **close)
    assert not np.allclose(adasum_rows(g), adasum_rows(g[[0, 2, 1, 3]]), atol=1e-4)  # order matters, so it is fixed


@pytest.mark.parametrize("p", [2, 3, 4, 8])
def test_adasum_fast_path_agrees_with_the_slow_reference(p):
    from firth.train.sync import adasum_rows, reference_adasum

    rng = np.random.default_rng(30 + p)
    common = rng.normal(size=(40, 12))
    mix = rng.random((p, 40, 1))  # from nearly independent to nearly identical updates
    g = (mix * common + (1 - mix) * rng.normal(size=(p, 40, 12))).astype(np.float32)
    g[:, :3] = 0  # untouched rows
    g[1:, 3:6] = 0  # rows one rank changed
    got = adasum_rows(g)
    want = np.array([reference_adasum(g[:, r]) for r in range(40)])
    assert np.allclose(got, want, rtol=1e-5, atol=1e-6)
    assert np.array_equal(got[3:6], g[0, 3:6]) and not got[:3].any()


def test_bound_scale_caps_the_summed_move():
    from firth.train.sync import bound_scale

    s = np.array([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]], np.float32)  # |s| = 5, 0.5, 0
    top = np.array([1.0, 1.0, 0.0], np.float32)
    assert np.allclose(bound_scale(s, top, 2.0), [0.4, 1.0, 1.0])  # 5 -> 2 x 1; 0.5 kept; 0 kept


@pytest.mark.parametrize("mode", ["adasum", "bound"])
@pytest.mark.parametrize("size", [2, 3, 4])
def test_adasum_and_bound_sync_equal_their_oracle_on_every_rank(size, mode):
    rng = np.random.default_rng(40 + size)
    V, d = 300, 8
    start = [rng.random((V, d), dtype=np.float32), rng.random((V, d), dtype=np.float32)]
    edits = [[rng.choice(V, 80, replace=False) for _ in range(2)] for _ in range(size)]
    common = rng.normal(size=(V, d))  # correlated updates on shared rows, as hot rows have
    steps = [[(common[e] + 0.3 * rng.normal(size=(80, d))).astype(np.float32) for e in edits[r]] for r in range(size)]

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
            assert np.array_equal(mats[k], out[0][0][k])  # bit-identical on every rank
            assert np.allclose(mats[k], want, rtol=1e-5, atol=1e-5)
            assert np.array_equal(sync.base[k], mats[k])
        summed = reference_sync([o[1][k] for o in out], start[k], mode="sum")
        moved, moved_sum = (np.linalg.norm(x - start[k], axis=1) for x in (out[0][0][k], summed))
        assert (moved <= moved_sum + 1e-5).all()
        # shorter than the sum on the shared rows (bound 2 never binds at 2 ranks: |a + b| <= 2 max)
        assert (moved < 0.9 * moved_sum).any() == (mode == "adasum" or size > 2)
    touched = sum(len(set().union(*[set(e[k].tolist()) for e in edits])) for k in range(2))
    sync = out[0][2]
    assert sync.rows_synced == touched
    extra = 4 * touched if mode == "bound" else 0  # bound: one float per row, each rank's longest move
    assert sync.payload_bytes == 2 * V + touched * d * 4 + extra


@pytest.mark.parametrize("size", [2, 3])
@pytest.mark.parametrize("periodic", [False, True])
def test_overlapped_sync_applies_the_other_ranks_one_sync_late_and_loses_nothing(size, periodic):
    """After sync k a rank holds start + its own updates + the other ranks' updates of the
    rounds before k that were due (a row not due waits in M - B); after the full sync every
    rank holds start + every update, bit-identical, as DeltaSync's oracle."""
    rng = np.random.default_rng(20 + size)
    V, d, rounds = 60, 5, 6
    periods = np.array([1, 2, 4] * (V // 3)) if periodic else None
    start = rng.random((V, d), dtype=np.float32)
    steps = [[(rng.random((V, 1)) < 0.5) * rng.normal(size=(V, d)).astype(np.float32) for _ in range(rounds)]
             for _ in range(size)]

    def rank(comm, r):
        m = start.copy()
        sync = OverlappedSync([m], comm, periods=periods)
        seen = []
        for k in range(rounds):
            m += steps[r][k]
            sync()
            seen.append((m.copy(), sync.base[0].copy()))
        sync(full=True)
        return m, seen, sync

    out = _run_ranks(size, rank)
    total = start.astype(np.float64) + sum(s for st in steps for s in st)
    sent = np.zeros((size, V), int)  # per rank, per row: how many of its rounds have been sent
    for k in range(rounds):
        due = np.ones(V, bool) if periods is None else ((np.arange(V) + k) % periods) == 0
        # at sync k: the exchange posted at k-1 is applied (arrived), then rows due send all their rounds so far
        arrived = sent[0].copy()
        for r, (m, seen, sync) in enumerate(out):
            want = start.astype(np.float64) + sum(steps[r][j] for j in range(k + 1))
            for q in range(size):
                if q != r:
                    for v in range(V):
                        want[v] += sum(steps[q][j][v] for j in range(arrived[v]))
            assert np.allclose(seen[k][0], want, atol=1e-5), (r, k)
            assert np.array_equal(seen[k][1], out[0][1][k][1])  # the snapshot: the same bits everywhere
        sent[:, due] = k + 1
    for m, _, sync in out:
        assert np.array_equal(m, out[0][0]) and np.allclose(m, total, atol=1e-5)
        assert np.array_equal(sync.base[0], m)
        assert sync.pending is None


@pytest.mark.parametrize("size", [2, 3])
def test_overlapped_hot_sync_equals_a_slow_simulation_of_its_rule(size):
    """Mode hot overlapped: at sync k the exchange of k-1 is applied with the hot rows' sum
    divided by the number of ranks (``M[R] += S / P - D``, ``B[R] += S / P``), the due rows'
    deltas are posted; the full sync is DeltaSync's hot sync (mean over the ranks that changed
    a hot row). Checked against that rule written out in float64, rank by rank, sync by sync."""
    rng = np.random.default_rng(40 + size)
    V, d, rounds = 45, 4, 6
    periods = np.array([1, 2, 4] * (V // 3))
    hot = np.arange(V) % 5 == 0
    start = rng.random((V, d), dtype=np.float32)
    # hot rows are changed by every rank in every round (what makes them hot; a rank with only a
    # rounding residue in a row would also count in the full sync's flags)
    steps = [[(((rng.random((V, 1)) < 0.6) | hot[:, None]) * rng.normal(scale=0.1, size=(V, d))).astype(np.float32)
              for _ in range(rounds)] for _ in range(size)]

    def rank(comm, r):
        m = start.copy()
        sync = OverlappedSync([m], comm, periods=periods, mode="hot", hot=hot)
        seen = []
        for k in range(rounds):
            m += steps[r][k]
            sync()
            seen.append(m.copy())
        sync(full=True)
        return m, seen

    out = _run_ranks(size, rank)
    div = np.where(hot, size, 1.0)[:, None]
    m = [start.astype(np.float64) for _ in range(size)]
    b = start.astype(np.float64)
    pending = None
    for k in range(rounds):
        for r in range(size):
            m[r] = m[r] + steps[r][k]
        if pending is not None:
            R, D, S = pending
            for r in range(size):
                m[r][R] += S / div[R] - D[r]
            b[R] += S / div[R]
        R = np.flatnonzero((np.arange(V) + k) % periods == 0)
        D = [m[r][R] - b[R] for r in range(size)]
        pending = (R, D, sum(D))
        for r in range(size):
            assert np.allclose(out[r][1][k], m[r], atol=1e-5), (r, k)
    R, D, S = pending
    for r in range(size):
        m[r][R] += S / div[R] - D[r]
    b[R] += S / div[R]
    deltas = [m[r] - b for r in range(size)]
    changed = sum((np.abs(x) > 0).any(axis=1).astype(float) for x in deltas)
    final = b + sum(deltas) / np.where(hot & (changed > 0), np.maximum(changed, 1), 1.0)[:, None]
    for r in range(size):
        assert np.array_equal(out[r][0], out[0][0])  # every rank the same bits
        assert np.allclose(out[r][0], final, atol=1e-5)


def test_overlapped_sync_offers_sum_and_hot_only():
    with pytest.raises(ValueError, match="sum or hot"):
        OverlappedSync([np.zeros((3, 2), np.float32)], None, mode="touched")


def test_overlapped_sync_bfloat16_wire_and_nan_refused():
    V, d = 40, 4
    start = np.ones((V, d), np.float32)

    def rank(comm, r):
        m = start.copy()
        sync = OverlappedSync([m], comm, wire="bfloat16")
        m += np.float32(1e-3 * (r + 1))
        sync()
        assert sync.last_payload == V * d * 2  # half of float32, no flags
        if r == 0:
            m[3, 1] = np.nan
        sync()
        with pytest.raises(FloatingPointError, match="row 3"):
            sync()
        return m

    _run_ranks(2, rank)


def test_due_rows_table_equals_the_formula_for_every_sync_and_matrix_height():
    """The (period, residue) table gives exactly ``(r + s) % periods[r] == 0``, ascending."""
    per = 1 << np.random.default_rng(4).integers(0, 7, 997)

    class Two:
        size = 2

    sync = DeltaSync([np.zeros((997, 3), np.float32)], Two(), periods=per)
    for n in (997, 500, 1):
        for s in range(70):
            want = np.flatnonzero(((np.arange(n) + s) % per[:n]) == 0)
            assert np.array_equal(sync.due_rows(n, s), want), (n, s)


@pytest.mark.parametrize("kind", ["sum", "hot", "bfloat16", "overlapped", "overlapped-hot"])
def test_rows_split_between_threads_give_the_same_bits(kind, monkeypatch):
    """threads = 3 (pieces of >= 16 rows) against threads = 1: scan, take and apply work row by
    row, so every rank ends with the same bits either way, through regular and full syncs."""
    import firth.train.sync as sync_mod

    monkeypatch.setattr(sync_mod, "THREAD_ROWS", 16)
    rng = np.random.default_rng(7)
    V, d, size, rounds = 211, 6, 2, 3
    periods = np.array([1, 1, 2, 4] * V)[:V]
    hot = np.arange(V) % 7 == 0
    start = [rng.random((V, d), dtype=np.float32), rng.random((V, d), dtype=np.float32)]
    steps = [[[((rng.random((V, 1)) < 0.5) * rng.normal(scale=0.1, size=(V, d))).astype(np.float32) for _ in range(2)]
              for _ in range(rounds)] for _ in range(size)]

    def run(threads):
        def rank(comm, r):
            mats = [m.copy() for m in start]
            mode = "hot" if kind.endswith("hot") else "sum"
            kw = dict(periods=periods, mode=mode, hot=hot if mode == "hot" else None, threads=threads,
                      wire="bfloat16" if kind == "bfloat16" else "float32")
            sync = OverlappedSync(mats, comm, **kw) if kind.startswith("overlapped") else DeltaSync(mats, comm, **kw)
            for k in range(rounds):
                for i in range(2):
                    mats[i] += steps[r][k][i]
                sync()
            sync(full=True)
            return mats, sync.rows_synced, sync._pool is not None

        return _run_ranks(size, rank)

    one, three = run(1), run(3)
    for (m1, n1, pool1), (m3, n3, pool3) in zip(one, three):
        assert n1 == n3 > 0 and pool3 and not pool1  # the pieces did go to other threads
        for a, b in zip(m1, m3):
            assert np.array_equal(a, b)
    assert not np.array_equal(one[0][0][0], start[0])  # it trained
