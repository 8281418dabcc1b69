"""biLSTM tagger / acceptor figures: one run per configuration, default settings.

    flock /tmp/firth-heavy.lock python benchmarks/tasks_neural.py tag ptb [--chars] [--vectors V]
    flock /tmp/firth-heavy.lock python benchmarks/tasks_neural.py classify mr [--vectors V]

Prints one result line (data set, options, test score, training seconds, epochs) and
appends it as JSON to benchmarks/tasks_neural.jsonl.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "tasks"

TAG = {
    "ptb": ("pos/ptb-sample/train.txt", "pos/ptb-sample/dev.txt", "pos/ptb-sample/test.txt"),
    "brown": ("pos/brown-universal/train.txt", "pos/brown-universal/dev.txt", "pos/brown-universal/test.txt"),
    "conll2000": ("chunk/conll2000/train.txt", None, "chunk/conll2000/test.txt"),
}
CLS = {k: (f"classify/{k}/train.tsv", f"classify/{k}/dev.tsv" if k not in ("trec", "trec50") else None,
           f"classify/{k}/test.tsv") for k in ("mr", "subj", "trec", "sst2", "trec50")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("task", choices=["tag", "classify"])
    ap.add_argument("data")
    ap.add_argument("--chars", action=argparse.BooleanOptionalAction, default=True, help="tagger: character encoder (default on)")
    ap.add_argument("--vectors")
    ap.add_argument("--max-minutes", type=float, default=None)
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--freeze", action="store_true")
    ap.add_argument("--freeze-epochs", type=int, default=None, help="classify: pretrained embedding fixed for N epochs")
    args = ap.parse_args()
    kv = None
    if args.vectors:
        from firth.vectors import load_vectors

        kv = load_vectors(args.vectors)
    opts = {"max_minutes": args.max_minutes, "epochs": args.epochs, "freeze": args.freeze}
    if args.freeze_epochs is not None:
        opts["freeze_epochs"] = args.freeze_epochs
    t0 = time.perf_counter()
    log = lambda m: print(m, flush=True)  # noqa: E731
    if args.task == "tag":
        from firth.tasks.tagging import evaluate_tagger, train_tagger

        tr, dv, te = TAG[args.data]
        m = train_tagger(DATA / tr, DATA / dv if dv else None, vectors=kv, seed=args.seed, progress=False,
                         options=dict(opts, chars=args.chars), log=log)
        acc, span = evaluate_tagger(m, DATA / te)
        res = {"accuracy": round(100 * acc, 2)}
        if span is not None:
            res["f1"] = round(100 * span.f1, 2)
    else:
        from firth.tasks.classify import evaluate_classifier, train_classifier

        tr, dv, te = CLS[args.data]
        m = train_classifier(DATA / tr, DATA / dv if dv else None, arch="bilstm", vectors=kv, seed=args.seed,
                             progress=False, rnn_options=opts, log=log)
        rep = evaluate_classifier(m, DATA / te)
        res = {"accuracy": round(100 * rep.accuracy, 2), "macro_f1": round(100 * rep.macro_f1, 2)}
    out = {"task": args.task, "data": args.data, "chars": args.chars, "vectors": args.vectors, "freeze": args.freeze,
           **({"freeze_epochs": args.freeze_epochs} if args.freeze_epochs is not None else {}),
           "seed": args.seed, **res, "train_seconds": round(m.train_seconds, 1), "epochs_run": len(m.history),
           "best_epoch": m.best_epoch,
           "best_dev": round(100 * max((h["dev"] for h in m.history if "dev" in h), default=float("nan")), 2), "wall_seconds": round(time.perf_counter() - t0, 1),
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    print("RESULT", json.dumps(out), flush=True)
    with open(ROOT / "benchmarks" / "tasks_neural.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
