"""fastText-style training with *default options*: firth vs Facebook's fastText, in one run.

A user who picks ``firth train --model fasttext-sg`` expects what ``fasttext skipgram`` gives
with its defaults. Each side gets only the corpus, the output and the thread count:

- firth: ``firth train CORPUS -o OUT --model fasttext-sg --workers T`` (``--model fasttext-cbow``
  with ``--cbow``);
- fastText: ``fasttext.train_unsupervised(CORPUS, model="skipgram", thread=T)`` and
  ``save_model`` (the ``fasttext-numpy2`` package, Facebook's C++).

Both defaults: dim 100, ws 5, epoch 5, neg 5, minCount 5, minn 3, maxn 6, bucket 2M, lr 0.05,
t 1e-4, noise unigram^0.5. Whole process timed launch to exit, peak RSS from ``wait4``,
runs interleaved, medians; quality of the last run of each, judged by the same code
(Facebook's ``.bin`` read by firth's reader): Spearman on every similarity set in
../shared/data/eval/similarity (all pairs counted: unseen words get their n-gram vectors) and
Google analogies over the 30,000 most frequent words (gensim's judge, case-insensitive).

    flock /tmp/firth-heavy.lock .venv/bin/python benchmarks/bench_fasttext_defaults.py            # 5M words
    flock /tmp/firth-heavy.lock .venv/bin/python benchmarks/bench_fasttext_defaults.py --words 0 --only firth  # all en-mix

(``--only`` runs one side; the table then holds the sides that have run, fastText's taken from
an earlier run when there is one: on all of en-mix fastText takes ~25 min at 2 threads.)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

SETS = ("ws353", "simlex999", "men", "rw", "mturk287", "rg65")


def main(argv=None) -> int:
    from bench_fasttext import SIM, analogy_score, full_corpus, prepare_corpus, read_pairs, run_child, similarity_score

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--words", type=int, default=5_000_000, help="prefix of en-mix (0: all of it, one line)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--cbow", action="store_true", help="fasttext-cbow vs fastText cbow")
    ap.add_argument("--workdir", default="/tmp/firth-bench-fasttext")
    ap.add_argument("--only", choices=["firth", "fasttext"], default=None,
                    help="run one side only; the other side's timings and model are read from an earlier run")
    a = ap.parse_args(argv)
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    corpus = full_corpus(work / "en-mix.txt") if a.words == 0 else prepare_corpus(work / f"en-mix-{a.words}-1000.txt", a.words)
    fb_model = "cbow" if a.cbow else "skipgram"
    ours = "fasttext-cbow" if a.cbow else "fasttext-sg"
    out_f, out_b = work / f"defaults-{ours}-{a.words}.firth", work / f"defaults-fb-{fb_model}-{a.words}.bin"
    systems = {
        f"firth --model {ours} (defaults)": ([sys.executable, "-m", "firth.cli", "train", str(corpus), "-o", str(out_f),
                                             "--model", ours, "--workers", str(a.threads)], out_f),
        f"fastText {fb_model} (defaults)": ([sys.executable, "-c",
                                             "import fasttext, sys\n"
                                             f"m = fasttext.train_unsupervised({str(corpus)!r}, model={fb_model!r}, "
                                             f"thread={a.threads}, verbose=0)\n"
                                             f"m.save_model({str(out_b)!r})\n"], out_b),
    }
    print(f"corpus {corpus}; {a.threads} threads; {a.runs} interleaved run(s)", flush=True)
    import json

    times: dict[str, list] = {k: [] for k in systems}
    saved = work / f"defaults-times-{ours}-{a.words}-t{a.threads}.json"
    for r in range(a.runs):
        for name, (cmd, _) in (list(systems.items()) if r % 2 == 0 else list(systems.items())[::-1]):
            if a.only and not name.lower().startswith(a.only):
                continue
            wall, rss = run_child(cmd)
            times[name].append((wall, rss))
            print(f"run {r + 1} {name}: {wall:.1f} s, peak RSS {rss:.0f} MB", flush=True)
    if a.only:
        old = json.loads(saved.read_text()) if saved.exists() else {}
        times = {k: v or old.get(k, []) for k, v in times.items()}
    saved.write_text(json.dumps(times))
    missing = [k for k, v in times.items() if not v]
    if missing:  # e.g. the full corpus, where fastText's own run takes ~25 min: judge the side that ran
        print(f"no timings for {', '.join(missing)}: run that side (--only) for the side-by-side figures", flush=True)
        if len(missing) == len(times):
            return 0
    from firth.vectors import load_vectors

    sets = [s for s in SETS if (SIM / f"{s}.tsv").exists()]
    print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; whole process median of {a.runs}; "
          "quality of the last run (Spearman, all pairs; Google over the top 30k words)")
    print("| system | whole process s | peak RSS MB | " + " | ".join(sets) + " | Google |")
    print("|---|---|---|" + "---|" * (len(sets) + 1))
    q = {}
    with tempfile.TemporaryDirectory() as td:
        for name, (_, out) in systems.items():
            if name in missing:
                continue
            kv = load_vectors(out)
            q[name] = [similarity_score(kv, read_pairs(SIM / f"{s}.tsv"))[0] for s in sets] + [analogy_score(kv, Path(td))]
            walls = [w for w, _ in times[name]]
            print(f"| {name} | {statistics.median(walls):.1f} ({', '.join(f'{w:.1f}' for w in walls)}) | "
                  f"{max(m for _, m in times[name]):.0f} | " + " | ".join(f"{v:.3f}" for v in q[name][:-1])
                  + f" | {100 * q[name][-1]:.2f}% |", flush=True)
    if missing:
        return 0
    (f, fv), (b, bv) = q.items()
    print("firth - fastText: " + ", ".join(f"{s} {x - y:+.3f}" for s, x, y in zip(sets, fv, bv))
          + f", Google {100 * (fv[-1] - bv[-1]):+.2f} points")
    tf = statistics.median(w for w, _ in times[f])
    tb = statistics.median(w for w, _ in times[b])
    print(f"speed: firth {tb / tf:.2f}x fastText's; peak memory firth / fastText "
          f"{max(m for _, m in times[f]) / max(m for _, m in times[b]):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
