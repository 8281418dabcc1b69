"""A/B of the averaged classifier's epoch kernels against their version at an older commit.

    flock /tmp/firth-heavy.lock python benchmarks/ab_tasks_kernels.py [--base 0c8aff2] [--docs 60000] [--runs 3]

Synthetic documents (Zipf word ids, 5-40 features, 20 classes, dim 100): one softmax epoch and
one one-vs-all epoch (``train_epoch`` / ``train_epoch_ova``, one thread) and ``predict_proba``
with the kernels of this working tree and of ``--base`` (loaded from ``git show``), from the
same weights, alternating (and which goes first), ``--runs`` times each. Prints the medians of
the CPU time, their ratio (new / old time) and whether both gave bit-identical weights and
probabilities.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from ab_kernels import old_module  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", default="0c8aff2", help="the commit whose tasks/kernels.py is the 'old' side")
    ap.add_argument("--docs", type=int, default=60_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from firth.tasks import kernels as new

    rng = np.random.default_rng(0)
    V, d, C, n = 50_000, 100, 20, args.docs
    lens = rng.integers(5, 41, n)
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    ids = np.minimum(rng.zipf(1.3, int(offsets[-1])) - 1, V - 1).astype(np.int64)
    labels = rng.integers(0, C, n).astype(np.int64)
    ptr = np.arange(n + 1, dtype=np.int64)
    order = rng.permutation(n).astype(np.int64)
    W0 = ((rng.random((V, d), dtype=np.float32) - 0.5) / d).astype(np.float32)
    with tempfile.TemporaryDirectory(prefix="firth-ab-") as tmp:
        old = old_module(args.base, "firth/tasks/kernels.py", "ab_old_tasks_kernels", Path(tmp))
        cases = {
            "softmax epoch": lambda K, a, b: K.train_epoch(a, b, ids, offsets, labels, order, 0.5, 0.05, 1),
            "one-vs-all epoch": lambda K, a, b: K.train_epoch_ova(a, b, ids, offsets, ptr, labels, order, 0.5, 0.05, 1),
            "predict_proba": lambda K, a, b: K.predict_proba(a, b, ids, offsets),
        }
        print(f"{n:,} documents, {int(offsets[-1]):,} features, {V:,} rows, dim {d}, {C} classes, 1 thread; "
              f"old = {args.base}, medians of {args.runs}")
        print("\n| kernel | old s | new s | new / old time | identical |\n|---|---|---|---|---|")
        for name, fn in cases.items():
            times = {"old": [], "new": []}
            outs = {}
            for run in range(args.runs + 1):  # run 0 compiles (or loads the cache), not timed
                for side, K in ((("old", old), ("new", new)) if run % 2 == 0 else (("new", new), ("old", old))):
                    a, b = W0.copy(), np.full((C, d), 0.01, np.float32)
                    t = time.process_time()
                    out = fn(K, a, b)
                    if run:
                        times[side].append(time.process_time() - t)
                    outs[side] = (out, a, b)
            same = all(np.array_equal(x, y) for x, y in zip(outs["old"], outs["new"]))
            to, tn = statistics.median(times["old"]), statistics.median(times["new"])
            print(f"| {name} | {to:.3f} | {tn:.3f} | {tn / to:.3f} | {'yes' if same else 'NO'} |", flush=True)


if __name__ == "__main__":
    main()
