"""firth vs gensim word2vec quality on the full en-mix (40.9M words).

Same settings for both: dim 100, window 5, negative 5, sample 1e-3, min_count 5, 5 epochs,
2 workers, corpus written 1,000 words per line. The judge is gensim's own evaluation on
the exported vectors: ``evaluate_word_analogies(questions-words, restrict_vocab=30000)``
(word2vec's compute-accuracy restriction) and ``evaluate_word_pairs`` on WS353 (and RW).
Each training run is a child process holding /tmp/firth-heavy.lock; results are appended
to ``--log`` (JSON lines) as they come.

    nohup python benchmarks/quality_word2vec.py --log /tmp/w2v-quality.jsonl > /tmp/w2v-quality.out 2>&1 &
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_word2vec import GENSIM_CHILD, SHARED, heavy_lock, make_corpus, run_child  # noqa: E402

CONFIGS = {
    "gensim-cbow": ("gensim", "cbow", []),
    "gensim-sg": ("gensim", "sg", []),
    "firth-cbow": ("firth", "cbow", []),
    "firth-sg": ("firth", "sg", ["--kernel", "pairs"]),
    "firth-sg-batch": ("firth", "sg", ["--kernel", "batch"]),
    "firth-cbow-tied": ("firth", "cbow", ["--tied"]),
    "firth-sg-tied": ("firth", "sg", ["--tied"]),
}


def evaluate(path: Path) -> dict:
    from gensim.models import KeyedVectors

    kv = KeyedVectors.load_word2vec_format(str(path), binary=True)
    ev = SHARED / "eval"
    acc, sections = kv.evaluate_word_analogies(str(ev / "analogy" / "questions-words.txt"), restrict_vocab=30000)
    n = sum(len(s["correct"]) + len(s["incorrect"]) for s in sections if s["section"] != "Total accuracy")
    out = {"google_acc": round(100 * acc, 2), "google_answered": n}
    for name in ("ws353", "rw"):
        pear, spear, oov = kv.evaluate_word_pairs(str(ev / "similarity" / f"{name}.tsv"))
        out[f"{name}_spearman"] = round(float(spear[0]), 4)
        out[f"{name}_oov_pct"] = round(float(oov), 1)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", default="firth-cbow,gensim-cbow,firth-sg,firth-sg-batch,gensim-sg,firth-cbow-tied")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--words", type=int, default=None, help="use only a prefix (default: all of en-mix)")
    ap.add_argument("--log", default="w2v-quality.jsonl")
    ap.add_argument("--no-lock", action="store_true")
    args = ap.parse_args(argv)
    corpus = make_corpus(args.words)
    print(f"corpus {corpus}", flush=True)
    with tempfile.TemporaryDirectory(prefix="firth-quality-") as tmp:
        for name in args.configs.split(","):
            tool, model, extra = CONFIGS[name]
            out = Path(tmp) / f"{name}.bin"
            if tool == "gensim":
                stats = Path(tmp) / "stats.json"
                cmd = [sys.executable, "-c", GENSIM_CHILD, str(corpus), str(out), model, str(args.workers), str(args.epochs), str(stats)]
            else:
                cmd = [sys.executable, "-m", "firth.cli", "train", str(corpus), "-o", str(out), "--format", "word2vec-binary",
                       "--model", model, "--epochs", str(args.epochs), "--workers", str(args.workers), "-q", *extra]
            with heavy_lock(not args.no_lock):
                t0 = time.time()
                wall, rss = run_child(cmd)
            res = {"config": name, "wall_s": round(wall, 1), "rss_mib": round(rss), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t0))}
            res.update(evaluate(out))
            print(json.dumps(res), flush=True)
            with open(args.log, "a") as f:
                f.write(json.dumps(res) + "\n")
            out.unlink()


if __name__ == "__main__":
    main()
