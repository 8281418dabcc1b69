"""A sync's row loops split between threads (``DeltaSync(threads=T)``): nanoseconds per row of
the blocking sync's scan, take and apply and the overlapped sync's take and apply, with 1 and
with T threads, on this machine, and the ratio. No collectives: the loops alone, on a model of
``--rows`` x 100 with ``--due`` sorted rows due (each changed), best of ``--runs``.

    python benchmarks/sync_threads.py --threads 2          # under the shared lock

The rows are independent, so the bits do not depend on T (tests/train/test_sync.py); this says
what the split buys. On this 2-core machine only T = 2 can show a gain.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench_word2vec import heavy_lock  # noqa: E402

from firth.train.sync import DeltaSync  # noqa: E402
from firth.train.sync_kernels import apply_sums, changed_flags, set_sums, take_deltas  # noqa: E402


def loops(threads: int, rows: int, due: int, d: int, runs: int) -> dict:
    """Best seconds per row of each loop, run through DeltaSync.split with ``threads``."""
    rng = np.random.default_rng(0)
    m = rng.standard_normal((rows, d), dtype=np.float32)
    base = m - np.float32(1e-3)
    idx = np.sort(rng.choice(rows, due, replace=False)).astype(np.int64)
    flags = np.empty(due, np.uint8)
    own, wire32 = np.empty((due, d), np.float32), np.empty((due, d), np.float32)
    wire16, no16, no32 = np.empty((due, d), np.uint16), np.empty((0, d), np.uint16), np.empty((0, d), np.float32)
    nodiv = np.empty(0, np.float32)
    zero = np.zeros((due, d), np.float32)  # set_sums of a zero sum: base[r] stays, m[r] = base[r]
    s = DeltaSync([m], comm=None, threads=threads)
    work = {
        "blocking scan": lambda a, b: changed_flags(m, base, idx[a:b], flags[a:b]),
        "blocking take": lambda a, b: take_deltas(m, base, idx[a:b], own, wire32, no16, a, False),
        "blocking apply": lambda a, b: set_sums(m, base, idx[a:b], zero, a),
        "overlapped take": lambda a, b: take_deltas(m, base, idx[a:b], own, no32, wire16, a, True),
        "overlapped apply": lambda a, b: apply_sums(m, base, idx[a:b], own, no32, wire16, a, True, nodiv),
    }
    out = {}
    for name, fn in work.items():
        fn(0, 1)  # compile (or load the cache) outside the timing
        best = np.inf
        for _ in range(runs):
            t = time.perf_counter()
            s.split(fn, due)
            best = min(best, time.perf_counter() - t)
        out[name] = best / due
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--due", type=int, default=20_000)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--runs", type=int, default=41)
    ap.add_argument("--no-lock", action="store_true")
    a = ap.parse_args(argv)
    with heavy_lock(not a.no_lock):
        one = loops(1, a.rows, a.due, a.dim, a.runs)
        many = loops(a.threads, a.rows, a.due, a.dim, a.runs)
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {a.due:,} sorted rows of {a.rows:,} x {a.dim}, "
          f"best of {a.runs}, ns per row")
    print(f"| loop | 1 thread | {a.threads} threads | speed-up |")
    print("|---|---|---|---|")
    for name in one:
        print(f"| {name} | {one[name] * 1e9:.0f} | {many[name] * 1e9:.0f} | {one[name] / many[name]:.2f}x |")


if __name__ == "__main__":
    main()
