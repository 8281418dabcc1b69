"""biLSTM tasks and language models on 2 ranks (torchrun, DistributedDataParallel over gloo)
vs one process: test accuracy and whole-process time on TREC (classify, random init) and the
ptb-sample POS data (tag), test perplexity on en-mix-lm (`lm train`, a 2x200 tied LSTM, the
same token budget), same options and seeds, in one run.

    python benchmarks/bench_ddp_tasks.py --seeds 0,1,2 --tasks trec,pos --pos-epochs 10
    python benchmarks/bench_ddp_tasks.py --seeds 1,2,3 --tasks lm --lm-tokens 487140

Every run uses 1 thread per process (``--threads 1``); each is a child process timed here
under the shared lock. The 2-rank job takes half of every batch per rank and averages the
gradients (firth/rnn/ddp.py), so it optimises the same way as the single process; the
difference left is word dropout's random draws and rounding.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_distributed import timed  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TASKS = ROOT.parent / "shared" / "data" / "tasks"
LM = ROOT.parent / "shared" / "data" / "lm" / "en-mix-lm"
PY = sys.executable


def run(cmd, use_lock):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    wall, p = timed(cmd, env, use_lock)
    return wall, p.stdout + p.stderr


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--tasks", default="trec,pos")
    ap.add_argument("--pos-epochs", type=int, default=10)
    ap.add_argument("--lm-tokens", type=int, default=487_140, help="lm: the token budget (the same for every run)")
    ap.add_argument("--ranks", default="1,2", help="1 = the single process (no torchrun)")
    ap.add_argument("--no-lock", action="store_true")
    ap.add_argument("--log", default=None)
    a = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="firth-bench-ddp-"))
    res = {}
    for task in a.tasks.split(","):
        for seed in (int(s) for s in a.seeds.split(",")):
            for ranks in (int(r) for r in a.ranks.split(",")):
                out = tmp / f"{task}-{seed}-{ranks}"
                launch = [PY, "-m", "firth"] if ranks == 1 else \
                    [PY, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(ranks), "-m", "firth"]
                if task == "trec":
                    d = TASKS / "classify" / "trec"
                    train = launch + ["classify", "train", str(d / "train.tsv"), "-o", str(out), "--arch", "bilstm",
                                      "--seed", str(seed), "--threads", "1", "--quiet"]
                    test = [PY, "-m", "firth", "classify", "test", str(out), str(d / "test.tsv")]
                elif task == "lm":
                    train = launch + ["lm", "train", str(LM / "train.txt"), "--valid", str(LM / "valid.txt"), "-o",
                                      str(out), "--tied", "--token-budget", str(a.lm_tokens), "--seed", str(seed),
                                      "--workers", "1", "--quiet"]
                    test = [PY, "-m", "firth", "lm", "eval", str(out), str(LM / "test.txt")]
                else:
                    d = TASKS / "pos" / "ptb-sample"
                    train = launch + ["tag", "train", str(d / "train.txt"), "--dev", str(d / "dev.txt"), "-o", str(out),
                                      "--epochs", str(a.pos_epochs), "--seed", str(seed), "--threads", "1", "--quiet"]
                    test = [PY, "-m", "firth", "tag", "test", str(out), str(d / "test.txt")]
                wall, log = run(train, not a.no_lock)
                _, rep = run(test, False)
                m = re.search(r"(?:accuracy|perplexity)\s+([\d.]+)", rep)
                acc = float(m.group(1)) if m else None
                epochs = len(json.loads((out / "config.json").read_text()).get("history", []))
                key = "perplexity" if task == "lm" else "accuracy"
                r = {"task": task, "seed": seed, "ranks": ranks, key: acc, "wall_s": round(wall, 1), "epochs": epochs,
                     "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
                res.setdefault((task, ranks), []).append(r)
                print(json.dumps(r), flush=True)
                if a.log:
                    with open(a.log, "a") as f:
                        f.write(json.dumps(r) + "\n")
    for (task, ranks), rows in sorted(res.items()):
        key = "perplexity" if task == "lm" else "accuracy"
        accs = [r[key] for r in rows]
        print(f"{task} ranks {ranks}: {key} median {statistics.median(accs):.4f} {accs}, "
              f"time median {statistics.median(r['wall_s'] for r in rows):.1f} s", flush=True)


if __name__ == "__main__":
    main()
