"""firth language models vs pytorch/examples word_language_model on en-mix-lm, same wall-clock budget.

Each configuration is one external process (``firth lm train ... --time-budget M``, then
``firth lm eval`` on test.txt), run under the shared lock one at a time, 2 threads; peak
RSS from ``/usr/bin/time``. The anchor (``main.py``, unmodified) has no time limit, only
whole epochs (one epoch here is ~12 minutes at 2 threads), so it is run with a ``timeout``
for its training speed (its own ``ms/batch`` log line, batches of 20×35 tokens) and, with
``--anchor-epochs N``, to completion for its test perplexity.

    flock is taken per run:  python benchmarks/bench_lm.py --minutes 3 --configs lstm,lstm-tied,slstm
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "lm" / "en-mix-lm"
ANCHOR = ROOT.parent / "shared" / "anchors" / "pytorch-word-language-model"
LOCK = "/tmp/firth-heavy.lock"
PY = sys.executable
FIRTH = str(Path(sys.executable).with_name("firth"))

# Zaremba's "small" is 2×200; every firth configuration has 2 layers, bptt 35, batch 20 like the anchor.
CONFIGS = {
    "lstm": ["--cell", "lstm", "--dropout", "0.2"],  # the anchor's own settings (SGD 20, clip 0.25)
    "lstm-tied": ["--cell", "lstm", "--dropout", "0.5", "--tied"],
    "gru": ["--cell", "gru", "--dropout", "0.2"],
    "srnn": ["--cell", "srnn", "--dropout", "0.2", "--lr", "1", "--clip", "0.25"],
    "slstm": ["--cell", "slstm", "--dropout", "0.2", "--optimizer", "adam", "--lr", "0.002", "--clip", "1"],
    "mlstm": ["--cell", "mlstm", "--dropout", "0.2", "--optimizer", "adam", "--lr", "0.002", "--clip", "1"],
    "lstm-adaptive": ["--cell", "lstm", "--dropout", "0.2", "--adaptive-softmax", "1000,4000"],
}


def timed(cmd, env=None, timeout=None, cwd=None):
    """Run under the shared lock with /usr/bin/time: (returncode, output, seconds, peak RSS MiB).
    ``timeout`` (seconds) is applied inside the lock, to the program itself (coreutils timeout)."""
    inner = (["timeout", str(int(timeout))] if timeout else []) + cmd
    full = ["flock", LOCK, "/usr/bin/time", "-f", "MAXRSS %M"] + inner
    t0 = time.perf_counter()
    p = subprocess.run(full, env=env, cwd=cwd, capture_output=True, text=True)
    out, rc = p.stdout + p.stderr, p.returncode
    secs = time.perf_counter() - t0
    m = re.findall(r"MAXRSS (\d+)", out)
    return rc, out, secs, (int(m[-1]) / 1024 if m else float("nan"))


def run_firth(name, minutes, out_dir, threads):
    model = out_dir / f"lm-{name}"
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    cmd = [FIRTH, "lm", "train", str(DATA / "train.txt"), "--valid", str(DATA / "valid.txt"),
           "-o", str(model), "--workers", str(threads), "--time-budget", str(minutes),
           "--quiet"]  # one validation, when the budget ends: seconds = training only + CONFIGS[name]
    # train and test in one hold of the lock (the machine is shared: one wait, not two)
    evaluate = [FIRTH, "lm", "eval", str(model), str(DATA / "test.txt"), "--workers", str(threads)]
    script = " ".join(map(shlex.quote, cmd)) + " && echo TRAINED && " + " ".join(map(shlex.quote, evaluate))
    rc, out, secs, rss = timed(["bash", "-c", script], env=env)
    if rc != 0:
        return {"config": name, "error": out.strip().splitlines()[-1:]}
    hist = json.loads((model / "config.json").read_text())["history"]
    tokens = max(r["tokens"] for r in hist)
    train_secs = max(r["seconds"] for r in hist)
    ppl = float(out.split("perplexity ")[1].split()[0])
    best = min(r["valid_ppl"] for r in hist if r.get("valid_ppl") is not None)
    return {"config": name, "test_ppl": round(ppl, 2), "valid_ppl": round(best, 2), "train_tokens": tokens,
            "tokens_per_s": round(tokens / train_secs), "peak_rss_mib": round(rss), "args": CONFIGS[name]}


def run_anchor(seconds, epochs, out_dir, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD="1")
    cmd = [PY, "main.py", "--data", str(DATA), "--emsize", "200", "--nhid", "200", "--epochs", str(epochs),
           "--save", str(out_dir / "anchor.pt")]
    rc, out, secs, rss = timed(cmd, env=env, cwd=ANCHOR, timeout=seconds)
    ms = [float(x) for x in re.findall(r"ms/batch\s+([\d.]+)", out)]
    res = {"config": "anchor (pytorch/examples main.py, LSTM 2x200, dropout 0.2)",
           "tokens_per_s": round(20 * 35 / (sorted(ms)[len(ms) // 2] / 1000)) if ms else None,
           "peak_rss_mib": round(rss), "completed": rc == 0}
    m = re.search(r"End of training \| test loss\s+([\d.]+) \| test ppl\s+([\d.]+)", out)
    if m:
        res["test_ppl"] = float(m.group(2))
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=3.0, help="training budget per firth configuration")
    ap.add_argument("--configs", default="lstm,lstm-tied,gru,srnn,slstm,mlstm", help="comma-separated, of " +
                    ",".join(CONFIGS))
    ap.add_argument("--anchor-seconds", type=float, default=90, help="timeout for the anchor's speed run")
    ap.add_argument("--anchor-epochs", type=int, default=1, help="epochs for the anchor (1 epoch ~ 12 min here)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="/tmp/bench_lm", help="scratch directory for models")
    ap.add_argument("--json", help="append results (one JSON object per line) to this file")
    args = ap.parse_args()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    if args.anchor_seconds > 0:
        results.append(run_anchor(args.anchor_seconds, args.anchor_epochs, out_dir, args.threads))
        print(json.dumps(results[-1]), flush=True)
    for name in [c for c in args.configs.split(",") if c]:
        results.append(run_firth(name, args.minutes, out_dir, args.threads))
        print(json.dumps(results[-1]), flush=True)
    anchor_speed = results[0].get("tokens_per_s") if args.anchor_seconds > 0 else None
    for r in results[1:] if anchor_speed else []:
        if r.get("tokens_per_s"):
            print(f"{r['config']}: tokens/s ratio firth/anchor = {r['tokens_per_s'] / anchor_speed:.2f}")
    if args.json:
        with open(args.json, "a") as f:
            for r in results:
                f.write(json.dumps({**r, "date": time.strftime("%Y-%m-%d %H:%M"), "minutes": args.minutes}) + "\n")


if __name__ == "__main__":
    main()
