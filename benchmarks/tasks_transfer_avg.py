"""Transfer learning with the averaged classifier: firth vectors (trained on en-mix) vs random init.

    flock /tmp/firth-heavy.lock python benchmarks/tasks_transfer_avg.py VECTORS [--sets mr sst2] [--seeds 5]

Default settings otherwise (25 epochs, lr 0.5, bigrams, early stopping on dev); median of seeds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "tasks" / "classify"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vectors")
    ap.add_argument("--sets", nargs="+", default=["mr", "sst2"])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--ngrams", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    from firth.vectors import load_vectors
    from firth.tasks.avg import AvgConfig
    from firth.tasks.classify import evaluate_classifier, train_classifier

    kv = load_vectors(args.vectors)
    print("| data | n-grams | random init (median, min–max) | firth en-mix vectors (median, min–max) | gain |")
    print("|---|---|---|---|---|")
    for name in args.sets:
        d = DATA / name
        dev = d / "dev.tsv" if (d / "dev.tsv").exists() else None
        for ng in args.ngrams:
            res = {}
            for label, vec in (("random", None), ("vectors", kv)):
                accs = []
                for seed in range(args.seeds):
                    m = train_classifier(d / "train.tsv", dev, arch="avg", vectors=vec, seed=seed, progress=False,
                                         avg_config=AvgConfig(seed=seed, ngrams=ng))
                    accs.append(100 * evaluate_classifier(m, d / "test.tsv").accuracy)
                res[label] = accs
            r, v = res["random"], res["vectors"]
            print(f"| {name} | {ng} | {statistics.median(r):.2f} ({min(r):.1f}–{max(r):.1f}) | "
                  f"{statistics.median(v):.2f} ({min(v):.1f}–{max(v):.1f}) | "
                  f"{statistics.median(v) - statistics.median(r):+.2f} |", flush=True)


if __name__ == "__main__":
    main()
