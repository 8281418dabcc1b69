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
gets 1/P of its update; benchmarks/RESULTS.md). ``touched`` and ``hot`` average some rows
over the ranks that changed them; ``adasum`` combines each row's updates by Adasum (an
all-gather of the rows several ranks changed); ``bound`` caps each row's summed move at
``bound`` times the longest one-rank move (docs/distributed.md has what each measured).

Only touched rows travel: rare words (most of the vocabulary, by Zipf's law) are touched
in few intervals and cost nothing in the others, while the frequent words, touched in every
interval, are synchronised every time -- Ji et al.'s "hot words more often", without a
separate schedule. ``reference_sync`` is the readable whole-matrix version, the oracle.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from firth.train.sync_kernels import changed_flags, set_sums, take_deltas

MODES = ("sum", "mean", "touched", "hot", "adasum", "bound")
COUNTING = ("touched", "hot", "adasum")  # modes whose flags all-reduce counts the ranks that changed a row
BOUND = 2.0  # mode bound: a row's summed move at most this many times the largest one rank made
WIRES = ("float32", "bfloat16")
CHUNK_ROWS = 1 << 14  # rows compared at a time (bounds the temporary boolean array)
THREAD_ROWS = 4096  # rows per sync thread at least: fewer cost more to hand over than to work


def changed_rows(m: np.ndarray, base: np.ndarray) -> np.ndarray:
    """uint8 flag per row: 1 where ``m`` differs from ``base`` (NaN counts as changed). The
    readable spelling; the sync runs ``sync_kernels.changed_flags`` (tested to agree)."""
    out = np.empty(len(m), dtype=np.uint8)
    for a in range(0, len(m), CHUNK_ROWS):
        b = min(a + CHUNK_ROWS, len(m))
        out[a:b] = np.any(m[a:b] != base[a:b], axis=1)
    return out


def sync_periods(counts, n_rows: int, interval_words: int, corpus_words: int, occurrences: float,
                 max_period: int) -> np.ndarray:
    """Every how many syncs each row is due (Ji et al.: hot words more often than rare ones).

    Row ``w < len(counts)`` is word ``w``; ``e = counts[w] * interval_words / corpus_words`` is
    how often it is expected to occur, in all ranks' text together, between two syncs. Its
    period is the largest power of two <= ``occurrences / e``, clipped to [1, ``max_period``]:
    a word is synchronised about once per ``occurrences`` expected occurrences; a word met that
    often in every interval, at every sync. Rows past the vocabulary (fastText's n-gram
    buckets) are due at every sync. ``occurrences`` 0 gives the plain scheme (every touched row
    at every sync). The result depends only on the vocabulary and the options, so it is the
    same on every rank."""
    if max_period < 1 or max_period & (max_period - 1):
        raise ValueError(f"max_period must be a power of two >= 1, got {max_period}")
    if not occurrences >= 0:
        raise ValueError(f"occurrences must be >= 0, got {occurrences}")
    periods = np.ones(n_rows, np.int64)
    c = np.asarray(counts, dtype=np.float64)[:n_rows]
    e = c * float(interval_words) / max(float(corpus_words), 1.0)
    ratio = np.clip(float(occurrences) / np.maximum(e, 1e-300), 1.0, float(max_period))
    periods[: len(c)] = np.left_shift(1, np.floor(np.log2(ratio)).astype(np.int64))
    return periods


def due_index(periods: np.ndarray) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Per distinct period ``p``: its rows ordered by ``r % p`` (then ``r``) and where each
    residue class starts (``p + 1`` offsets), so that the rows due at a sync are slices."""
    out = []
    for p in np.unique(periods):
        rows = np.flatnonzero(periods == p).astype(np.int64)
        res = rows % p
        order = np.argsort(res, kind="stable")
        out.append((int(p), rows[order], np.searchsorted(res[order], np.arange(p + 1))))
    return out


class DeltaSync:
    """Synchronise ``matrices`` (float32, 2-D, the same objects the kernels write) across ranks.

    ``periods`` (from :func:`sync_periods`, one per row, powers of two; ``None`` = all 1):
    at sync number ``s`` (counted on every rank alike) row ``r`` is due when
    ``(r + s) % periods[r] == 0`` (staggered, so each sync carries 1/p of a class). A row not
    due keeps its update in ``M - B`` until its turn; ``full=True`` syncs every row (the last
    sync of an epoch, so checkpoints and the output hold everything). ``bound``: the factor
    ``c`` of ``mode="bound"``. ``threads``: the row loops (scan, take, apply) split their rows
    between this many threads (the rank's trainer threads wait at the sync's barrier
    meanwhile); the rows are independent, so the bits are the same for any number."""

    def __init__(self, matrices, comm, mode: str = "sum", periods=None, wire: str = "float32", hot=None,
                 bound: float = BOUND, threads: int = 1):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if wire not in WIRES:
            raise ValueError(f"wire must be one of {', '.join(WIRES)}, got {wire!r}")
        if mode == "hot" and hot is None:
            raise ValueError("mode 'hot' needs the hot rows (a boolean per row)")
        if mode in ("adasum", "bound") and wire != "float32":
            raise ValueError(f"mode {mode!r} sends float32 deltas only (wire float32)")
        if not bound > 0:
            raise ValueError(f"bound must be > 0, got {bound!r}")
        if not (isinstance(threads, int) and threads >= 1):
            raise ValueError(f"threads must be an int >= 1, got {threads!r}")
        self.threads, self._pool = threads, None
        uniq = []
        for m in matrices:  # a tied model passes one matrix twice
            if not any(m is u for u in uniq):
                uniq.append(m)
        if len({m.shape[1] for m in uniq}) > 1:
            raise ValueError("the synced matrices must have the same number of columns (their deltas travel together)")
        self.matrices, self.comm, self.mode, self.wire = uniq, comm, mode, wire
        self.bound = float(bound)
        self.hot = None if hot is None else np.asarray(hot, bool)  # mode hot: these rows averaged, the others summed
        self.base = [m.copy() for m in uniq]
        self.periods = None
        if periods is not None and int(np.max(periods)) > 1:
            self.periods = np.asarray(periods, np.int64)
            if len(self.periods) < max(len(m) for m in uniq):
                raise ValueError("periods: one per row of the largest matrix")
        self._due_index = {}  # rows -> due_index(periods[:rows])
        self.syncs = 0
        self.payload_bytes = 0  # bytes this rank contributes to collectives, summed over syncs
        self.wire_bytes = 0  # bytes a ring algorithm sends from this rank, summed over syncs
        self.rows_synced = 0
        self.last_payload = 0
        self.seconds = {"scan": 0.0, "flags": 0.0, "gather": 0.0, "reduce": 0.0, "scatter": 0.0}

    def due_rows(self, n: int, s: int) -> np.ndarray | None:
        """Rows of an ``n``-row matrix due at sync ``s``, ascending (None: all of them):
        ``(r + s) % periods[r] == 0``, i.e. ``r`` in the residue class ``-s`` mod its period,
        looked up in a table of the rows grouped by (period, residue) instead of a pass over
        all ``n`` rows at every sync."""
        if self.periods is None:
            return None
        if n not in self._due_index:
            self._due_index[n] = due_index(self.periods[:n])
        parts = [rows[starts[-s % p] : starts[-s % p + 1]] for p, rows, starts in self._due_index[n]]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.int64)

    def split(self, fn, n: int) -> list:
        """``fn(a, b)`` over ``[0, n)`` in contiguous pieces, one per thread (at least
        THREAD_ROWS rows each), the first on the calling thread; the results in order."""
        k = max(1, min(self.threads, n // THREAD_ROWS))
        if k == 1:
            return [fn(0, n)]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads - 1, thread_name_prefix="firth-sync")
        cuts = [n * i // k for i in range(k + 1)]
        futures = [self._pool.submit(fn, cuts[i], cuts[i + 1]) for i in range(1, k)]
        return [fn(cuts[0], cuts[1])] + [f.result() for f in futures]

    def __call__(self, full: bool = False) -> int:
        """One synchronisation (a collective: every rank calls it the same number of times,
        with the same ``full``). Returns the payload bytes of this call.

        Two collectives whatever the number of matrices (the flags of all matrices in one,
        then the deltas of all their synced rows in one; ``adasum`` and ``bound`` add one)."""
        clock = time.perf_counter
        t0 = clock()
        cands, flag_parts = self._scan(full)
        flags = flag_parts[0] if len(flag_parts) == 1 else np.concatenate(flag_parts)
        t1 = clock()
        self._reduce_flags(flags)
        t2 = clock()
        picks, delta = self._gather(cands, flag_parts, flags)
        t3 = clock()
        counts = np.concatenate([c for _, c in picks]) if picks else np.zeros(0, np.uint8)
        sent, wire = self._combine(delta, counts, picks)
        t4 = clock()
        self._scatter(picks, delta)
        t5 = clock()
        for k, a, b in (("scan", t0, t1), ("flags", t1, t2), ("gather", t2, t3), ("reduce", t3, t4), ("scatter", t4, t5)):
            self.seconds[k] += b - a
        payload = flags.nbytes + sent
        self.syncs += 1
        self.payload_bytes += payload
        self.wire_bytes += wire + _ring_all_reduce(flags.nbytes, self.comm.size)
        self.last_payload = payload
        return payload

    def _scan(self, full: bool):
        """Per matrix: the candidate rows (None: all), and this rank's changed-row flags."""
        cands, flag_parts = [], []
        for m, base in zip(self.matrices, self.base):
            rows = None if full else self.due_rows(len(m), self.syncs)
            due = np.arange(len(m), dtype=np.int64) if rows is None else rows
            flags = np.empty(len(due), np.uint8)
            self.split(lambda a, b: changed_flags(m, base, due[a:b], flags[a:b]), len(due))
            flag_parts.append(flags)
            cands.append(rows)
        return cands, flag_parts

    def _gather(self, cands, flag_parts, flags):
        """The rows any rank changed, per matrix (rows, how many ranks changed each), and
        this rank's deltas of all of them in one contiguous array."""
        picks = []
        at = 0
        for rows, part in zip(cands, flag_parts):
            f = flags[at : at + len(part)]
            at += len(part)
            keep = np.flatnonzero(f)
            picks.append((keep if rows is None else rows[keep], f[keep]))
        d = self.matrices[0].shape[1]
        delta = np.empty((sum(len(idx) for idx, _ in picks), d), np.float32)
        no16 = np.empty((0, d), np.uint16)
        at = 0
        for (m, base), (idx, _) in zip(zip(self.matrices, self.base), picks):
            # float32 "wire" = the delta itself: take_deltas writes the same values to both
            self.split(lambda a, b: take_deltas(m, base, idx[a:b], delta, delta, no16, at + a, False), len(idx))
            at += len(idx)
        return picks, delta

    def _combine(self, delta: np.ndarray, counts: np.ndarray, picks) -> tuple[int, int]:
        """Replace this rank's ``delta`` by the combined update, the same on every rank.
        Returns (bytes this rank put into the collectives, bytes a ring sends from it)."""
        size, n = self.comm.size, delta.nbytes
        if not len(delta):
            return 0, 0
        if self.mode == "adasum":  # rows one rank changed: that rank's delta (a sum of zeros and it)
            multi = counts >= 2
            single = np.ascontiguousarray(delta[~multi])
            if len(single):
                self.comm.all_reduce_sum(single)
                delta[~multi] = single
            if multi.any():
                delta[multi] = adasum_rows(self.comm.all_gather(np.ascontiguousarray(delta[multi])))
            return n, _ring_all_reduce(single.nbytes, size) + (size - 1) * (n - single.nbytes)
        if self.mode == "bound":  # per row: the largest move any one rank made
            top = np.sqrt(row_dots(delta, delta)).astype(np.float32)
            self.comm.all_reduce_max(top)
        if self.wire == "float32":
            self.comm.all_reduce_sum(delta)
        else:
            self.comm.all_reduce_sum_bf16(delta)
            n //= 2
        if self.mode == "bound":
            delta *= bound_scale(delta, top, self.bound)[:, None]
            n += top.nbytes
        elif self.mode in ("mean", "touched", "hot"):
            delta /= self._divisors(counts, picks)[:, None]
        return n, _ring_all_reduce(n, size)

    def _divisors(self, counts: np.ndarray, picks) -> np.ndarray:
        """Per synced row, what its summed update is divided by (mean, touched, hot)."""
        if self.mode == "mean":
            return np.full(len(counts), self.comm.size, np.float32)
        div = counts.astype(np.float32)  # the flags hold how many ranks changed each row
        if self.mode == "hot":  # hot rows: the mean over the ranks that changed them; others: the sum
            idx = np.concatenate([i for i, _ in picks])
            h = np.zeros(len(idx), bool)
            inside = idx < len(self.hot)
            h[inside] = self.hot[idx[inside]]
            div[~h] = 1.0
        return div

    def _scatter(self, picks, delta: np.ndarray) -> None:
        """``M[rows] = B[rows] = B[rows] + delta``, matrix by matrix; a row that would become NaN or
        infinite fails the job."""
        at = 0
        for (m, base), (idx, _) in zip(zip(self.matrices, self.base), picks):
            bad = [r for r in self.split(lambda a, b: set_sums(m, base, idx[a:b], delta, at + a), len(idx)) if r >= 0]
            at += len(idx)
            if bad:
                hint = "; lower --alpha"
                if self.mode == "sum" and self.comm.size > 2:  # summed stale updates of hot rows overshoot
                    hint = "; lower --alpha or --sync-words, or use --sync-mode adasum"
                raise FloatingPointError(f"row {bad[0]} became NaN or infinite in training{hint}")
            self.rows_synced += len(idx)

    def _reduce_flags(self, flags: np.ndarray) -> None:
        """Every rank's changed-row flags combined in place: the union (max), or for
        ``touched``, ``hot`` and ``adasum`` the number of ranks that changed each row (a sum;
        uint8 holds 255)."""
        if self.mode in COUNTING:
            if self.comm.size > 255:
                raise ValueError(f"sync mode {self.mode!r} counts ranks in one byte: at most 255 ranks")
            self.comm.all_reduce_sum(flags)
        else:
            self.comm.all_reduce_max(flags)

    def reset_base(self) -> None:
        """Take the matrices as they are now (identical on every rank) as the snapshot."""
        for m, base in zip(self.matrices, self.base):
            np.copyto(base, m)


def _ring_all_reduce(nbytes: int, size: int) -> int:
    """Bytes a ring all-reduce sends from each rank (reduce-scatter + all-gather)."""
    return 2 * (size - 1) * nbytes // max(size, 1)


def _col_sums(x: np.ndarray) -> np.ndarray:
    """Sum of the rows of a (d, n) array, one row after the other: only element-wise
    additions, in a fixed order, so every rank (any CPU, any alignment) gets the same bits."""
    out = x[0].copy()
    for j in range(1, len(x)):
        out += x[j]
    return out


def _t64(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a).T, np.float64)  # (n, d) -> (d, n), float64


def row_dots(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-row dot products of two (n, d) arrays, in float64, the same bits on every rank."""
    at = _t64(a)
    return _col_sums(at * (at if b is a else _t64(b))) if len(at) else np.zeros(len(a))


def _adasum_pair_t(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`adasum_pair` on transposed (d, n) float64 arrays, in place (returns ``a``,
    overwrites ``b``); the dot products one row of the transposed arrays after the other."""
    ab, aa, bb = np.zeros(a.shape[1]), np.zeros(a.shape[1]), np.zeros(a.shape[1])
    for j in range(len(a)):
        ab += a[j] * b[j]
        aa += a[j] * a[j]
        bb += b[j] * b[j]
    ca = 1.0 - np.divide(ab, 2 * aa, out=np.zeros_like(ab), where=aa > 0)
    cb = 1.0 - np.divide(ab, 2 * bb, out=np.zeros_like(ab), where=bb > 0)
    a *= ca
    b *= cb
    a += b
    return a


def adasum_pair(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Adasum of two sets of row updates (Maleki et al., MLSys 2021), row by row:
    ``(1 - a.b / 2|a|^2) a + (1 - a.b / 2|b|^2) b``: identical rows give one of them (no
    overshoot), orthogonal rows their sum, a zero row the other row."""
    if not a.shape[1]:
        return (a + b).astype(np.float32)
    return np.ascontiguousarray(_adasum_pair_t(_t64(a), _t64(b)).T, np.float32)


def adasum_rows(g: np.ndarray) -> np.ndarray:
    """Adasum of ``g[0] .. g[P-1]`` (P sets of (n, d) row updates, rank order), pairwise up a
    fixed tree: (0,1), (2,3), ... then the results again; an odd one out waits for the next
    level. In float64 throughout, transposed so that each step is a contiguous vector op."""
    if not len(g):
        raise ValueError("adasum of no updates")
    if not g.shape[2]:
        return np.zeros(g.shape[1:], np.float32)
    parts = [_t64(g[r]) for r in range(len(g))]
    while len(parts) > 1:
        nxt = [_adasum_pair_t(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
        parts = nxt + ([parts[-1]] if len(parts) % 2 else [])
    return np.ascontiguousarray(parts[0].T, np.float32)


def bound_scale(summed: np.ndarray, top: np.ndarray, c: float) -> np.ndarray:
    """Per row, the factor that caps the summed move at ``c`` times the largest single
    rank's move ``top``: ``min(1, c * top / |summed|)``."""
    n = np.sqrt(row_dots(summed, summed))
    lim = float(c) * top.astype(np.float64)
    return np.where(n > lim, np.divide(lim, n, out=np.ones_like(n), where=n > 0), 1.0).astype(np.float32)


def to_bfloat16(x: np.ndarray) -> np.ndarray:
    """float32 rounded to the nearest bfloat16 (ties to even), kept as float32 (NaN stays NaN)."""
    u = np.ascontiguousarray(x, np.float32).view(np.uint32).astype(np.uint64)
    r = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    out = r.astype(np.uint32).view(np.float32)
    return np.where(np.isnan(x), x, out).astype(np.float32)


def reference_adasum(vectors) -> list[float]:
    """The slow, readable Adasum of one row's updates (a list of P vectors, rank order):
    Python floats, one pair at a time, up the same fixed tree as :func:`adasum_rows`."""
    parts = [[float(x) for x in v] for v in vectors]
    while len(parts) > 1:
        nxt = []
        for a, b in zip(parts[0::2], parts[1::2]):
            ab = sum(x * y for x, y in zip(a, b))
            aa = sum(x * x for x in a)
            bb = sum(y * y for y in b)
            ca = 1.0 - ab / (2 * aa) if aa > 0 else 1.0
            cb = 1.0 - ab / (2 * bb) if bb > 0 else 1.0
            nxt.append([ca * x + cb * y for x, y in zip(a, b)])
        parts = nxt + ([parts[-1]] if len(parts) % 2 else [])
    return parts[0]


def reference_sync(models: list[np.ndarray], base: np.ndarray, mode: str = "sum", hot=None, bound: float = BOUND) -> np.ndarray:
    """The oracle: ``base + sum over ranks of (model_r - base)`` over whole matrices (``mean``:
    divided by the number of ranks; ``touched``: each row by the number of ranks whose row
    differs from ``base``; ``hot``: that for the ``hot`` rows only), summed in rank order.
    ``adasum``: each row the Adasum of the ranks' updates (:func:`reference_adasum`);
    ``bound``: each row's sum scaled down to at most ``bound`` times the longest update."""
    if mode == "adasum":
        out = base.astype(np.float64)
        for r in range(len(base)):
            out[r] += reference_adasum([m[r] - base[r] for m in models])
        return out.astype(np.float32)
    delta = np.zeros_like(base)
    touched = np.zeros(len(base), np.float32)
    top = np.zeros(len(base), np.float64)
    for m in models:
        delta += m - base
        touched += np.any(m != base, axis=1)
        top = np.maximum(top, np.linalg.norm((m - base).astype(np.float64), axis=1))
    if mode == "mean":
        delta /= np.float32(len(models))
    elif mode == "touched":
        delta /= np.maximum(touched, 1)[:, None]
    elif mode == "hot":
        delta /= np.where(np.asarray(hot, bool), np.maximum(touched, 1), 1)[:, None]
    elif mode == "bound":
        n = np.linalg.norm(delta.astype(np.float64), axis=1)
        delta = delta * np.where(n > bound * top, bound * top / np.maximum(n, 1e-300), 1.0)[:, None]
    return (base + delta).astype(np.float32)
