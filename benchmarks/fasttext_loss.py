"""Why fastText-style training reports a loss that rises every epoch while the lr falls.

firth's ``epoch_losses`` are the *online* loss: the mean negative-sampling loss of a
(centre, context) pair, each computed just before that pair's update, over one epoch.
This script trains ``--model`` for 5 epochs and, after every epoch, also measures the
*frozen* loss: the same kernel run with lr 0 (no update at all, same seed: the same pairs
and the same negatives every time) over the first ``--probe`` tokens. It also prints the
number fastText itself would show: the running mean since the start of training.

If the frozen loss falls while the online loss rises, the model does get better at its
objective every epoch and the rise is an artefact of the online measure (see docs/fasttext.md).

    flock /tmp/firth-heavy.lock .venv/bin/python benchmarks/fasttext_loss.py --words 2000000
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def frozen_loss(model, probe_tokens: int, seed: int = 12345) -> float:
    """Mean loss per pair over the first ``probe_tokens`` tokens, lr 0 (weights untouched)."""
    import numpy as np

    off = model._encoded.offsets
    s1 = max(1, int(np.searchsorted(off, probe_tokens, side="left")))
    loss, _, ex = model._job_fn()(0, s1, 0.0, 0.0, np.uint64(seed))
    return loss / max(ex, 1)


def run(corpus: Path, model: str, probe: int, workers: int, **cfg) -> list[tuple[float, float, float]]:
    from firth.train.fasttext import FastText
    from firth.train.word2vec import Word2Vec

    rows = []
    ft = model.startswith("fasttext-")
    cls = FastText if ft else Word2Vec
    m = cls(model=model.rsplit("-", 1)[-1], workers=workers, seed=1, progress=False, **cfg)

    def cb(mm, epoch, mean):
        rows.append((mean, frozen_loss(mm, probe)))

    m.train(str(corpus), callbacks=[cb])
    out, tot_loss, tot_ex = [], 0.0, 0
    ex_per_epoch = [s / l if l else 0 for s, l in zip(m.epoch_loss_sums, m.epoch_losses)]
    for (mean, frozen), s, n in zip(rows, m.epoch_loss_sums, ex_per_epoch):
        tot_loss += s
        tot_ex += n
        out.append((mean, tot_loss / tot_ex, frozen))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--words", type=int, default=2_000_000)
    ap.add_argument("--probe", type=int, default=300_000, help="tokens of the frozen-loss probe")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--bucket", type=int, default=500_000)
    ap.add_argument("--workdir", default="/tmp/firth-bench-fasttext")
    a = ap.parse_args(argv)
    from bench_fasttext import prepare_corpus

    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    corpus = prepare_corpus(work / f"en-mix-{a.words}-1000.txt", a.words)
    old = dict(alpha=0.025, min_alpha=1e-4, sample=1e-3, ns_exponent=0.75)  # firth's fastText defaults before issue 18
    cases = [
        ("fasttext-sg, defaults before issue 18 (lr .025, t 1e-3, ns .75)", "fasttext-sg", dict(old)),
        ("fasttext-sg, fastText defaults (lr .05, t 1e-4, ns .5)", "fasttext-sg", {}),
        ("fasttext-sg, fastText defaults, constant lr .05", "fasttext-sg", dict(min_alpha=0.05)),
        ("fasttext-sg, fastText defaults, maxn 0 (no n-grams)", "fasttext-sg", dict(maxn=0, bucket=0)),
        ("sg (word2vec), defaults", "sg", {}),
    ]
    print(f"corpus {corpus} ({a.words:,} words), 5 epochs, {a.workers} workers, bucket {a.bucket:,}; "
          f"frozen probe: first {a.probe:,} tokens", flush=True)
    for name, model, cfg in cases:
        if model.startswith("fasttext") and "bucket" not in cfg:
            cfg["bucket"] = a.bucket
        rows = run(corpus, model, a.probe, a.workers, **cfg)
        print(f"\n{name}")
        print("| epoch | online loss (firth's epoch_losses) | running mean since start (fastText's display) | frozen loss, lr 0 |")
        print("|---|---|---|---|")
        for e, (on, cum, fr) in enumerate(rows, 1):
            print(f"| {e} | {on:.4f} | {cum:.4f} | {fr:.4f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
