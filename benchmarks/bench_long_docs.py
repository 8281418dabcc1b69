"""Long documents: firth's averaged classifier vs fastText supervised, whole process.

Data: author attribution on 250-token passages of the novels in en-mix-raw (76 authors,
20,000 train / 2,500 dev / 2,500 test; built by benchmarks/long_docs_data.py into a temp dir).
Same settings for both: 25 epochs, lr 0.5, dim 100, word bigrams (2M hash buckets), softmax,
2 threads. Each side is a whole process as a user runs it, timed from start to exit with
its peak RSS from ``os.wait4``:

- firth: ``firth classify train train.tsv --dev dev.tsv -o M --threads 2 --quiet`` (reads,
  trains with early stopping on dev, saves the model);
- fastText: a Python process running ``fasttext.train_supervised`` on train and
  ``save_model`` (what ``fasttext supervised`` does: read, train, write the .bin).

Test accuracy is measured afterwards, outside the timings (``firth classify test``; fastText's
``predict``). Runs alternate (fastText first in odd rounds, firth first in even ones) so both
see the same machine load; medians over ``--rounds``. ``--no-dev``: firth without a dev file
(its default: 10% held out for early stopping, then a refit on all of train).

    flock /tmp/firth-heavy.lock .venv/bin/python benchmarks/bench_long_docs.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

FT_TRAIN = """
import sys, fasttext
m = fasttext.train_supervised(input=sys.argv[1], epoch=int(sys.argv[3]), lr=0.5, dim=100, wordNgrams=2,
                              bucket=2000000, thread=int(sys.argv[4]), loss="softmax", verbose=0, seed=int(sys.argv[5]))
m.save_model(sys.argv[2])
"""

FT_TEST = """
import sys, fasttext
m = fasttext.load_model(sys.argv[1])
gold, texts = [], []
for line in open(sys.argv[2], encoding="utf-8"):
    lab, text = line.rstrip("\\n").split(" ", 1)
    gold.append(lab); texts.append(text)
pred = m.predict(texts)[0]
print(sum(p[0] == g for p, g in zip(pred, gold)) / len(gold))
"""


def timed(cmd, env=None):
    """(wall seconds, peak RSS MiB, stdout+stderr) of one child process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    text = out.decode("utf-8", "replace")
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed ({p.returncode}):\n{text}")
    return dt, ru.ru_maxrss / 1024.0, text


def run_fasttext(data, tmp, epochs, threads, seed):
    model = Path(tmp) / "ft.bin"
    dt, rss, _ = timed([PY, "-c", FT_TRAIN, str(data / "train.ft"), str(model), str(epochs), str(threads), str(seed)])
    acc = float(subprocess.run([PY, "-c", FT_TEST, str(model), str(data / "test.ft")], check=True,
                               capture_output=True, text=True).stdout.split()[-1])
    model.unlink()
    return dt, rss, acc


def run_firth(data, tmp, epochs, threads, seed, dev=True):
    model = Path(tmp) / "firth-model"
    shutil.rmtree(model, ignore_errors=True)
    cmd = [PY, "-m", "firth.cli", "classify", "train", str(data / "train.tsv"), "-o", str(model), "--epochs", str(epochs),
           "--lr", "0.5", "--dim", "100", "--ngrams", "2", "--threads", str(threads), "--seed", str(seed), "--quiet"]
    if dev:
        cmd[6:6] = ["--dev", str(data / "dev.tsv")]
    dt, rss, log = timed(cmd)
    rep = subprocess.run([PY, "-m", "firth.cli", "classify", "test", str(model), str(data / "test.tsv")], check=True,
                         capture_output=True, text=True).stdout
    m = re.search(r"accuracy\s*[:=]?\s*([0-9.]+)", rep)
    acc = float(m.group(1))
    acc = acc / 100 if acc > 1 else acc
    best = re.search(r"\(epoch (\d+)\)", log)
    shutil.rmtree(model, ignore_errors=True)
    return dt, rss, acc, int(best.group(1)) if best else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="/tmp/firth-long-docs", help="built here by long_docs_data.py if absent")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-dev", action="store_true", help="firth without --dev (holds out 10%%, then refits)")
    ap.add_argument("--only", choices=["firth", "fasttext"], help="run one side only (profiling)")
    args = ap.parse_args()
    data = Path(args.data)
    if not (data / "info.json").exists():
        subprocess.run([PY, str(ROOT / "benchmarks" / "long_docs_data.py"), "--out", str(data)], check=True)
    print("data:", (data / "info.json").read_text().replace("\n", ""), flush=True)
    # warm the Numba cache outside the timings (a user's second run finds it on disk too)
    subprocess.run([PY, "-c", "from firth.tasks.avg import AvgClassifier, AvgConfig;"
                    "AvgClassifier(AvgConfig(epochs=1, threads=2)).fit([['a','b'],['c']], ['x','y'], ['a'], ['x'], progress=False)"],
                   check=True, cwd=ROOT)
    res = {"fastText": [], "firth": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            order = ["fastText", "firth"] if r % 2 == 0 else ["firth", "fastText"]
            for side in order:
                if args.only and side.lower() != args.only:
                    continue
                if side == "fastText":
                    dt, rss, acc = run_fasttext(data, tmp, args.epochs, args.threads, r + 1)
                    extra = ""
                else:
                    dt, rss, acc, best = run_firth(data, tmp, args.epochs, args.threads, r, dev=not args.no_dev)
                    extra = f", best epoch {best}"
                res[side].append((dt, rss, acc))
                print(f"round {r + 1} {side:8s}: {dt:6.1f} s, peak RSS {rss:6.0f} MiB, test accuracy {100 * acc:.2f}{extra}",
                      flush=True)
    print()
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {args.rounds} rounds, medians (min-max):")
    print("| | whole process | peak RSS | test accuracy |")
    print("|---|---|---|---|")
    med = {}
    for side, rows in res.items():
        if not rows:
            continue
        cols = list(zip(*rows))
        med[side] = [statistics.median(c) for c in cols]
        print(f"| {side} | {med[side][0]:.1f} s ({min(cols[0]):.1f}–{max(cols[0]):.1f}) | {med[side][1]:.0f} MiB "
              f"({min(cols[1]):.0f}–{max(cols[1]):.0f}) | {100 * med[side][2]:.2f} ({100 * min(cols[2]):.2f}–{100 * max(cols[2]):.2f}) |")
    if len(med) == 2:
        f, t = med["firth"], med["fastText"]
        print(f"firth / fastText: time {f[0] / t[0]:.2f}x, memory {f[1] / t[1]:.2f}x, accuracy {100 * (f[2] - t[2]):+.2f} points")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
