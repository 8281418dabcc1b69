"""Averaged-embedding classifier (firth) vs fastText supervised (fasttext-numpy2), 5 seeds each.

Same data, same epochs (25), lr 0.5, dim 100, bigrams, 2 threads, softmax loss. firth uses
its defaults (which include early stopping on the dev set where the data has one; without
one, 10% of train is held out, as `firth classify train` does). fastText trains on the full
train file. Training time is measured in process around the training call (data reading
and dictionary building included for both; Numba JIT compiled beforehand by a warm-up).

Run under the shared lock:  flock /tmp/firth-heavy.lock python benchmarks/tasks_avg_vs_fasttext.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "tasks" / "classify"


def ft_file(path, tmpdir):
    out = Path(tmpdir) / (path.parent.name + "-" + path.stem + ".ft")
    with open(path, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as g:
        for line in f:
            lab, text = line.rstrip("\n").split("\t", 1)
            g.write(f"__label__{lab} {text}\n")
    return out


def run_fasttext(train, test, seed, epochs, threads, tmpdir):
    import fasttext

    tr = ft_file(train, tmpdir)
    t0 = time.perf_counter()
    m = fasttext.train_supervised(
        input=str(tr), epoch=epochs, lr=0.5, dim=100, wordNgrams=2, thread=threads, seed=seed, verbose=0, loss="softmax"
    )
    dt = time.perf_counter() - t0
    gold, texts = [], []
    with open(test, encoding="utf-8") as f:
        for line in f:
            lab, text = line.rstrip("\n").split("\t", 1)
            gold.append("__label__" + lab)
            texts.append(text)
    pred = m.predict(texts)[0]
    acc = float(np.mean([p[0] == g for p, g in zip(pred, gold)]))
    return acc, dt


def run_firth(train, dev, test, seed, epochs, threads):
    from firth.tasks.classify import train_classifier, load_examples
    from firth.tasks.avg import AvgConfig

    t0 = time.perf_counter()
    model = train_classifier(str(train), str(dev) if dev else None, arch="avg", seed=seed, progress=False,
                             avg_config=AvgConfig(epochs=epochs, threads=threads, seed=seed))
    dt = time.perf_counter() - t0
    ex = load_examples(str(test), model.labels.names)
    pred = model.predict([e.tokens for e in ex])
    acc = float((pred == model.labels.encode([e.label for e in ex])).mean())
    return acc, dt, model.best_epoch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", nargs="+", default=["mr", "subj", "trec", "sst2"])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    # warm-up: JIT-compile the Numba kernels (cached on disk) outside the timings
    from firth.tasks.avg import AvgClassifier, AvgConfig

    AvgClassifier(AvgConfig(epochs=1, threads=args.threads)).fit([["a", "b"], ["c"]], ["x", "y"], progress=False)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sets:
            d = DATA / name
            train, test = d / "train.tsv", d / "test.tsv"
            dev = d / "dev.tsv" if (d / "dev.tsv").exists() else None
            fa, ft_t, fi, fi_t, be = [], [], [], [], []
            for seed in range(args.seeds):
                a, t = run_fasttext(train, test, seed + 1, args.epochs, args.threads, tmp)
                fa.append(a)
                ft_t.append(t)
                a, t, b = run_firth(train, dev, test, seed, args.epochs, args.threads)
                fi.append(a)
                fi_t.append(t)
                be.append(b)
                print(f"{name} seed {seed}: fastText {100 * fa[-1]:.2f} ({ft_t[-1]:.2f}s)  firth {100 * fi[-1]:.2f} ({fi_t[-1]:.2f}s, best epoch {b})", flush=True)
            row = (name, statistics.median(fa), statistics.median(fi), statistics.median(ft_t), statistics.median(fi_t),
                   min(fa), max(fa), min(fi), max(fi))
            rows.append(row)
    print()
    print("| data | fastText median (min–max) | firth avg median (min–max) | diff | fastText time | firth time | ratio |")
    print("|---|---|---|---|---|---|---|")
    for name, mf, mi, tf, ti, lf, hf, li, hi in rows:
        print(f"| {name} | {100 * mf:.2f} ({100 * lf:.1f}–{100 * hf:.1f}) | {100 * mi:.2f} ({100 * li:.1f}–{100 * hi:.1f}) | "
              f"{100 * (mi - mf):+.2f} | {tf:.2f}s | {ti:.2f}s | {ti / tf:.2f}× |")


if __name__ == "__main__":
    main()
