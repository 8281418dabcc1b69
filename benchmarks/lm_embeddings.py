"""Embeddings as a by-product: a language model's input embeddings vs firth word2vec
skip-gram trained on the same ``train.txt`` (en-mix-lm, 2.0M tokens, 10k vocabulary),
both through ``firth evaluate`` (WS353, SimLex-999, MEN: Spearman rho over the pairs whose
two words are in the 10k vocabulary; Google analogies, 3CosAdd, over answered questions).

The language models are directories written by ``firth lm train`` (e.g. by bench_lm.py);
their input embedding matrices are exported with ``firth lm embeddings``. word2vec is
trained here, under the shared lock, with the same dimension as the LM embeddings.

    python benchmarks/lm_embeddings.py --lm /tmp/bench_lm/lm-lstm-tied --lm /tmp/bench_lm/lm-lstm --dim 200
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "lm" / "en-mix-lm"
SIM = ROOT / "firth" / "data" / "eval" / "similarity"
LOCK = "/tmp/firth-heavy.lock"
FIRTH = str(Path(sys.executable).with_name("firth"))
SETS = ("ws353", "simlex999", "men")


def sh(cmd, lock=False):
    full = (["flock", LOCK] if lock else []) + [str(c) for c in cmd]
    p = subprocess.run(full, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(full)} failed: {(p.stderr or p.stdout).strip().splitlines()[-1:]}")
    return p.stdout


def scores(vectors):
    res = json.loads(sh([FIRTH, "evaluate", vectors, "--json", "--similarity", *[SIM / f"{s}.tsv" for s in SETS],
                         "--analogies"]))
    row = {s: (res[s]["spearman"], res[s]["coverage"]) for s in SETS}
    g = next(v for v in res.values() if isinstance(v, dict) and v.get("type") == "analogy")["total"]
    row["google"] = (g["add"]["accuracy"], g["answered"] / g["questions"])
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lm", action="append", default=[], help="a firth lm model directory (repeatable)")
    ap.add_argument("--dim", type=int, default=200, help="word2vec dimension (the LM's --emb)")
    ap.add_argument("--epochs", type=int, default=5, help="word2vec epochs")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="/tmp/lm_embeddings")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for m in args.lm:
        v = out / f"{Path(m).name}.firth"
        sh([FIRTH, "lm", "embeddings", m, "-o", v])
        hist = json.loads((Path(m) / "config.json").read_text())
        cfg, h = hist["config"], hist["history"]
        what = (f"LM input embeddings: {cfg['cell']}{' tied' if cfg.get('tied') else ''}, "
                f"{max(r['tokens'] for r in h):,} tokens, {max(r['seconds'] for r in h):.0f} s")
        rows.append((what, scores(v)))
    w2v, timing = out / "w2v-sg.firth", out / "w2v-sg.seconds.json"
    if not (w2v.exists() and timing.exists()):  # trained once; a later run (more --lm) reuses it
        # timed inside the lock: the training process alone, not the wait
        script = (f"s=$(date +%s.%N); {FIRTH} train {DATA / 'train.txt'} -o {w2v} --model sg --dim {args.dim} "
                  f"--epochs {args.epochs} --min-count 1 --workers {args.threads} --seed 1 --quiet && "
                  f"echo $(date +%s.%N) $s")
        end, start = map(float, sh(["bash", "-c", script], lock=True).split()[-2:])
        timing.write_text(json.dumps({"seconds": end - start, "epochs": args.epochs, "dim": args.dim}))
    t = json.loads(timing.read_text())
    rows.append((f"word2vec skip-gram (firth train), {t['epochs']} epochs, {t['seconds']:.0f} s", scores(w2v)))
    head = "| vectors | " + " | ".join(f"{s} rho (cov.)" for s in SETS) + " | Google 3CosAdd (answered) |"
    print(head)
    print("|" + "---|" * (len(SETS) + 2))
    for what, r in rows:
        print(f"| {what} | " + " | ".join(f"{r[s][0]:.3f} ({r[s][1]:.0%})" for s in SETS) +
              f" | {r['google'][0]:.1%} ({r['google'][1]:.0%}) |")
    print(json.dumps({w: r for w, r in rows}))


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    main()
