"""The cost model of `firth train --distributed` (docs/distributed.md, "Cost model"), checked
against the rows bench_distributed.py measured, then used to predict a 1-billion-word corpus on
8, 32 and 128 machines at 10 and 100 Gb/s.

    python benchmarks/cost_distributed.py LOG.jsonl [LOG.jsonl ...]

The logs are bench_distributed.py ``--log`` output (word2vec skip-gram runs with ``ranks >= 1``;
fastText rows, whose n-gram rows the model leaves out, are skipped; lines logged before
bench_distributed.py recorded ``model`` are taken as word2vec).

The model of the sync firth runs (firth/train/sync.py, sync_overlap.py), for word2vec's two
matrices of V rows x d, P ranks, S words per rank between syncs, n = P S words of all ranks per
interval, N in-vocabulary words per epoch:

    period p_w  = firth's sync_periods: the largest power of two <= T / (c_w n / N), clipped to
                  [1, the largest power of two <= N / n]   (T = --sync-rare; T = 0: p_w = 1)
    rates       per interval, word w's input row is touched l_in = n (c_w / N) keep_w times (its
                kept occurrences, word2vec subsampling) and its output row l_out = l_in + g K q_w
                times (K kept tokens, q_w ~ c_w^0.75 the noise distribution, g output rows drawn
                per kept token: the one fitted parameter)
    rows sent per regular sync, both matrices:
      blocking  sum_w (1/p_w) [(1 - e^-(l_in p_w)) + (1 - e^-(l_out p_w))]   (due, and changed on
                some rank since the row's last sync; the flags collective finds them)
      overlapped  2 sum_w 1/p_w                (every due row: no flags collective)
    the epoch's last sync (full) sends every row changed since its last sync: sum over w of the
                mean over k = 1..p_w of (1 - e^-(l_in k)) + (1 - e^-(l_out k))
    payload     blocking: (due rows) flag bytes + 4 d (2 d in bfloat16) bytes per row sent;
                overlapped: 2 d (bfloat16) bytes per due row; a ring all-reduce sends 2 (P-1)/P
                of it from each rank
    t_sync      blocking: rows due x c_scan + rows sent x (c_take + c_apply) + 2 collectives x (c0 +
                2 (P-1) alpha) + 8 wire / B  -- the threads wait for all of it
      overlapped  rows due x (c_take + c_apply) + max(0, c0 + 2 (P-1) alpha + 8 wire / B - S / R)
                -- the exchange runs while the rank trains its next S words
    efficiency  (S / R) / (S / R + t_sync)

c_scan, c_take, c_apply (seconds per row at d = 100) are measured here (the syncs' Numba
kernels); c0 (a collective's fixed cost,
0.3 ms: gloo's all-reduce of one number between 2 ranks on this machine, benchmarks/sync_cost.py)
and alpha (50 us per ring step) are assumptions for a real network; R is 16 threads x one
thread's 1.11M words/s (measured on a quiet machine, benchmarks/RESULTS.md; linear scaling
assumed); the 1-billion-word corpus has V = 1,000,000 words with Zipf counts (assumed).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench_word2vec import make_corpus  # noqa: E402

from firth.train.sync import sync_periods  # noqa: E402  (the schedule itself, not what is checked)


def rates(counts: np.ndarray, g: float, sample: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """Touches of each word's input and output row per word of text (all ranks)."""
    c = np.asarray(counts, np.float64)
    total = c.sum()
    st = sample * total
    keep = np.minimum(1.0, (np.sqrt(c / st) + 1.0) * st / c) if sample else np.ones_like(c)
    kept = (c / total) * keep
    q = c**0.75
    q /= q.sum()
    return kept, kept + g * kept.sum() * q


def _mean_touched(lam: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Mean over k = 1..p of 1 - exp(-lam k): a row's chance of a change since its last sync
    when that was 1..p intervals ago, equally likely."""
    lam = np.asarray(lam, np.float64)
    pos = lam > 0
    safe = np.where(pos, lam, 1.0)  # expm1 keeps the tiny rates of rare rows exact
    geo = np.exp(-safe) * np.expm1(-safe * p) / (p * np.expm1(-safe))
    return np.where(pos, 1 - geo, 0.0)


def rows_per_sync(counts, n: float, rare: float, g: float, overlapped: bool) -> dict:
    """Rows due, rows sent per regular sync, rows of the epoch's full sync, syncs per epoch."""
    counts = np.asarray(counts, np.float64)
    N = counts.sum()
    spe = max(1, math.ceil(N / n))
    p = sync_periods(counts, len(counts), int(n), int(N), rare, 1 << (spe.bit_length() - 1)).astype(np.float64)
    a_in, a_out = rates(counts, g)
    l_in, l_out = a_in * n, a_out * n
    due = 2 * np.sum(1 / p)
    if overlapped:
        sent = due
    else:
        sent = np.sum((1 / p) * ((1 - np.exp(-l_in * p)) + (1 - np.exp(-l_out * p))))
    full = np.sum(_mean_touched(l_in, p) + _mean_touched(l_out, p))
    return {"due": due, "sent": sent, "full": full, "spe": spe}


def mean_rows(m: dict) -> float:
    """Rows per sync averaged over an epoch (its last sync is the full one), as logged."""
    return ((m["spe"] - 1) * m["sent"] + m["full"]) / m["spe"]


def fit_g(counts, n, rare, overlapped, measured) -> float:
    lo, hi = 0.0, 200.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if mean_rows(rows_per_sync(counts, n, rare, mid, overlapped)) < measured:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def zipf_counts(tokens: float, vocab: int) -> np.ndarray:
    """Counts of a Zipf (exponent 1) corpus of ``tokens`` words cut at ``vocab`` words: the
    rank-r word occurs tokens / (r H) times (H the vocab-th harmonic number)."""
    r = np.arange(1, vocab + 1, dtype=np.float64)
    return tokens / (r * np.sum(1 / r))


def corpus_counts(path, min_count: int = 5) -> np.ndarray:
    cnt = Counter()
    with open(path, encoding="utf-8") as f:
        for line in f:
            cnt.update(line.split())
    return np.array(sorted((v for v in cnt.values() if v >= min_count), reverse=True), dtype=np.float64)


def row_costs(d: int = 100, rows: int = 200_000, take: int = 20_000) -> dict:
    """Seconds per row on this machine, the Numba kernels the syncs run. ``blocking``: (scan,
    take, apply): ``changed_flags`` on a due row (unchanged: the whole row compared), then
    ``take_deltas`` (float32) and ``set_sums`` on a changed row. ``overlapped``: (take, apply),
    ``take_deltas`` / ``apply_sums`` on every due row (bfloat16 wire). ``numpy``: (scan, take,
    apply), the blocking sync as NumPy spelled it before 2026-12-03 (copy, subtract, compare;
    fancy-index copies), for the kernels' speed-up. Best of 9 each: the machine's speed, not
    the neighbours' load."""
    from firth.train.sync_kernels import apply_sums, changed_flags, set_sums, take_deltas

    rng = np.random.default_rng(0)
    m = rng.standard_normal((rows, d), dtype=np.float32)
    b = m.copy()
    idx = np.sort(rng.choice(rows, take, replace=False))
    own, flags, zero = np.empty((take, d), np.float32), np.empty(take, np.uint8), np.zeros((take, d), np.float32)
    wire16, none32, div = np.empty((take, d), np.uint16), np.empty((0, d), np.float32), np.empty(0, np.float32)
    none16 = np.empty((0, d), np.uint16)

    def numpy_apply():
        new = b[idx] + zero
        m[idx] = new
        b[idx] = new

    loops = {
        "numpy": (lambda: np.any(m[idx] - b[idx] != 0, axis=1), lambda: m[idx] - b[idx], numpy_apply),
        "blocking": (lambda: changed_flags(m, b, idx, flags), lambda: take_deltas(m, b, idx, own, own, none16, 0, False),
                     lambda: set_sums(m, b, idx, zero, 0)),
        "overlapped": (lambda: take_deltas(m, b, idx, own, none32, wire16, 0, True),
                       lambda: apply_sums(m, b, idx, own, none32, wire16, 0, True, div)),
    }
    for fns in loops.values():  # compile (or load the cache) outside the timing
        for fn in fns:
            fn()
    times = {key: [[] for _ in fns] for key, fns in loops.items()}
    for _ in range(9):
        for key, fns in loops.items():
            for acc, fn in zip(times[key], fns):
                t = time.perf_counter()
                fn()
                acc.append(time.perf_counter() - t)
    return {key: tuple(min(ts) / take for ts in spans) for key, spans in times.items()}


def settings(r: dict) -> tuple[float, float, bool]:
    """(words of all ranks per sync, --sync-rare, overlapped) of a logged run, firth's own
    defaults filled in (bench_distributed.py's mode names: default, overlap, blocking, hotX, ...)."""
    from firth.train.distributed import SYNC_BOUND, SYNC_HOT, _sync_options

    P, mode = r["ranks"], r["mode"]
    overlap = {"overlap": True, "blocking": False}.get(mode)
    name = None if mode == "default" else "sum" if overlap is not None else mode.rstrip("0123456789.")
    words, _, rare, overlapped, _, _ = _sync_options(P, r["words_per_rank_per_sync"], name, r.get("sync_rare"),
                                                  SYNC_HOT, SYNC_BOUND, overlap)
    return float(words * P), rare, overlapped


def check(logs: list[dict], fit_on: int) -> float:
    """Print measured vs modelled rows per sync; returns g (fitted on row ``fit_on``)."""
    cache = {}

    def counts_of(words):
        if words not in cache:
            cache[words] = corpus_counts(make_corpus(words or None))
        return cache[words]

    r0 = logs[fit_on]
    n, rare, ov = settings(r0)
    g = fit_g(counts_of(r0["words"]), n, rare, ov, r0["rows_synced"] / r0["syncs"])
    print(f"g = {g:.2f} output rows drawn per kept token, fitted on run {fit_on + 1} (the others are predictions)\n")
    print("| run | corpus | ranks | words per sync (all ranks) | sync | --sync-rare | rows due per sync | "
          "rows per sync measured | model | error |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for i, r in enumerate(logs):
        c = counts_of(r["words"])
        n, rare, ov = settings(r)
        m = rows_per_sync(c, n, rare, g, ov)
        got = r["rows_synced"] / r["syncs"]
        model = mean_rows(m)
        tag = "(fitted)" if i == fit_on else f"{100 * (model / got - 1):+.1f}%"
        corpus = "all en-mix" if not r["words"] else f"{r['words'] / 1e6:g}M words"
        print(f"| {i + 1} | {corpus} | {r['ranks']} | {n:,.0f} | {'overlapped' if ov else 'blocking'} | {rare:g} | "
              f"{m['due']:,.0f} | {got:,.0f} | {model:,.0f} | {tag} |")
    return g


def _words(n: float) -> str:
    """Three significant figures: 681M, 18.7k."""
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= div:
            return f"{n / div:.3g}{unit}"
    return f"{n:.0f}"


def predict(g: float, a) -> None:
    d, R, alpha, c0 = a.dim, a.threads * a.thread_rate, a.alpha_us * 1e-6, a.c0_ms * 1e-3
    costs = {key: tuple(c / a.row_threads for c in pair) for key, pair in row_costs(d).items()}
    big = zipf_counts(a.big_words, a.big_vocab)
    N = big.sum()
    (b_scan, b_take, b_apply), (o_take, o_apply) = costs["blocking"], costs["overlapped"]
    n_scan, n_take, n_apply = costs["numpy"]
    print(f"\nrows (d = {d}, this machine, {a.row_threads} thread(s), Numba kernels): blocking: scan {b_scan * 1e9:.0f} ns "
          f"per due row, take {b_take * 1e9:.0f} ns, apply {b_apply * 1e9:.0f} ns per sent row (NumPy's spelling before "
          f"2026-12-03: {n_scan * 1e9:.0f} / {n_take * 1e9:.0f} / {n_apply * 1e9:.0f} ns); overlapped (bfloat16): take "
          f"{o_take * 1e9:.0f}, apply {o_apply * 1e9:.0f} ns per due row; "
          f"R = {a.threads} x {a.thread_rate:,.0f} = {R:,.0f} words/s per machine; c0 = {a.c0_ms} ms, "
          f"alpha = {a.alpha_us:.0f} us per ring step")
    print(f"prediction: {a.big_words:.0e} words, V = {a.big_vocab:,} Zipf, d = {d}, --sync-rare 16 (blocking, "
          f"bytes float32) or 64 (overlapped, bfloat16)\n")

    def cost(P, n, B, overlapped):
        m = rows_per_sync(big, n, 64.0 if overlapped else 16.0, g, overlapped)
        tc = n / P / R
        if overlapped:
            wire = 2 * (P - 1) / P * 2 * d * m["sent"]
            ts = m["due"] * (o_take + o_apply) + max(0.0, c0 + 2 * (P - 1) * alpha + 8 * wire / B - tc)
        else:
            wire = 2 * (P - 1) / P * (m["due"] + 4 * d * m["sent"])
            ts = m["due"] * b_scan + m["sent"] * (b_take + b_apply) + 2 * (c0 + 2 * (P - 1) * alpha) + 8 * wire / B
        return tc / (tc + ts), m, wire

    def s80(P, B, overlapped):
        """The fewest words of all ranks per sync, on a grid of 10 per decade, with >= 80%;
        None when one sync per epoch is not enough."""
        for k in range(math.ceil(10 * math.log10(P)), math.floor(10 * math.log10(N)) + 1):
            if cost(P, 10 ** (k / 10), B, overlapped)[0] >= 0.8:
                return 10 ** (k / 10)
        return None

    print("| machines | link | ideal epoch | firth's 3+ default (6,250 words, blocking hot): efficiency, epoch | "
          "blocking: words of all ranks per sync for >= 80% | per rank | syncs/epoch | MiB sent/sync/rank | "
          "overlapped: words for >= 80% | per rank | syncs/epoch | MiB sent/sync/rank |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for P in (8, 32, 128):
        for gb in (10, 100):
            B = gb * 1e9
            ideal = N / (P * R)
            e0 = cost(P, 6_250.0, B, False)[0]
            cells = []
            for ov in (False, True):
                n = s80(P, B, ov)
                if n is None:
                    e1 = cost(P, N, B, ov)[0]
                    cells.append(f"none (1 sync per epoch: {100 * e1:.0f}%) | | 1 | ")
                    continue
                _, m, wire = cost(P, n, B, ov)
                cells.append(f"{_words(n)} | {_words(n / P)} | {math.ceil(N / n):,} | {wire / 2**20:,.1f}")
            print(f"| {P} | {gb} Gb/s | {ideal:.1f} s | {100 * e0:.1f}%, {ideal / e0:,.0f} s | {cells[0]} | {cells[1]} |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("logs", nargs="+", help="bench_distributed.py --log output (JSON lines)")
    ap.add_argument("--fit", type=int, default=1, help="fit g on this run (1-based, in the order printed)")
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--threads", type=int, default=16, help="threads per machine in the prediction")
    ap.add_argument("--thread-rate", type=float, default=1.11e6, help="training words/s of one thread")
    ap.add_argument("--alpha-us", type=float, default=50.0, help="seconds per ring step (us)")
    ap.add_argument("--c0-ms", type=float, default=0.3, help="fixed cost of one collective (ms)")
    ap.add_argument("--row-threads", type=int, default=1,
                    help="threads that take and apply the rows of a sync (firth: 1; divides the measured per-row costs)")
    ap.add_argument("--big-vocab", type=int, default=1_000_000)
    ap.add_argument("--big-words", type=float, default=1e9)
    a = ap.parse_args(argv)
    runs = []
    for path in a.logs:
        for line in open(path, encoding="utf-8"):
            r = json.loads(line) if line.strip() else {}
            if r.get("ranks", 0) >= 1 and r.get("rows_synced") and r.get("model", "sg") == "sg":
                runs.append(r)
    if not runs:
        raise SystemExit("no distributed word2vec skip-gram runs with rows_synced in the logs")
    if not 1 <= a.fit <= len(runs):
        raise SystemExit(f"--fit: a run number between 1 and {len(runs)}")
    g = check(runs, a.fit - 1)
    predict(g, a)


if __name__ == "__main__":
    main()
