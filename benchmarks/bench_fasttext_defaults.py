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

Run-to-run spread (issue 18: is a gap noise?): ``--seeds 1,2,3`` runs both sides once per seed
(firth ``--seed``; fastText's Python module takes no seed, and with 2 threads neither side is
deterministic anyway) and judges every run, printing each and the median; ``--sample 1e-3`` gives both sides
that threshold instead of the default; ``--one-line`` writes the prefix as one line (as all of
en-mix is), so that firth cuts it into 10,000-token sentences and fastText into 1,024-token
chunks. ``--judge MODEL...`` only judges models already written (no training, no lock needed
beyond the judge's few seconds).

    flock /tmp/firth-heavy.lock .venv/bin/python benchmarks/bench_fasttext_defaults.py --seeds 1,2,3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

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
    ap.add_argument("--seeds", default=None,
                    help="comma-separated seeds, one run each (both sides); every run is judged")
    ap.add_argument("--sample", type=float, default=None, help="sampling threshold for both sides (default: theirs, 1e-4)")
    ap.add_argument("--one-line", action="store_true", help="the prefix as one line (as all of en-mix is)")
    ap.add_argument("--judge", nargs="+", default=None, metavar="MODEL", help="only judge these models")
    ap.add_argument("--by-pair", action="store_true",
                    help="with --judge: also the family section per asked pair (questions right of the 2 x 18 "
                         "that ask for one of its words)")
    a = ap.parse_args(argv)
    if a.judge:
        return judge_only(a.judge, by_pair=a.by_pair)
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    if a.words == 0:
        corpus = full_corpus(work / "en-mix.txt")
    else:
        corpus = prepare_corpus(work / f"en-mix-{a.words}-1000.txt", a.words)
        if a.one_line:
            corpus = one_line(corpus, work / f"en-mix-{a.words}-oneline.txt")
    seeds = [int(x) for x in a.seeds.split(",")] if a.seeds else None
    if seeds:
        a.runs = len(seeds)
    fb_model = "cbow" if a.cbow else "skipgram"
    ours = "fasttext-cbow" if a.cbow else "fasttext-sg"
    tag = f"{a.words}" + (f"-t{a.sample:g}" if a.sample is not None else "") + ("-oneline" if a.one_line else "")
    out_f, out_b = work / f"defaults-{ours}-{tag}.firth", work / f"defaults-fb-{fb_model}-{tag}.bin"
    label = "defaults" if a.sample is None else f"defaults, t={a.sample:g}"

    def firth_cmd(out, seed):
        cmd = [sys.executable, "-m", "firth.cli", "train", str(corpus), "-o", str(out), "--model", ours,
               "--workers", str(a.threads)]
        cmd += ["--seed", str(seed)] if seed is not None else []
        return cmd + (["--sample", repr(a.sample)] if a.sample is not None else [])

    def fb_cmd(out, seed):
        # the Python module takes no seed (train_unsupervised rejects it): its runs differ by thread timing
        extra = f", t={a.sample!r}" if a.sample is not None else ""
        return [sys.executable, "-c", "import fasttext, sys\n"
                f"m = fasttext.train_unsupervised({str(corpus)!r}, model={fb_model!r}, thread={a.threads}, verbose=0{extra})\n"
                f"m.save_model({str(out)!r})\n"]

    def out_of(path, r):  # one model per run when every run is judged
        return path if seeds is None else path.with_name(f"{path.stem}-s{seeds[r]}{path.suffix}")

    systems = {
        f"firth --model {ours} ({label})": (firth_cmd, out_f),
        f"fastText {fb_model} ({label})": (fb_cmd, out_b),
    }
    print(f"corpus {corpus}; {a.threads} threads; {a.runs} interleaved run(s)", flush=True)
    import json

    times: dict[str, list] = {k: [] for k in systems}
    saved = work / f"defaults-times-{ours}-{tag}-t{a.threads}.json"
    for r in range(a.runs):
        for name, (cmd, out) in (list(systems.items()) if r % 2 == 0 else list(systems.items())[::-1]):
            if a.only and not name.lower().startswith(a.only):
                continue
            wall, rss = run_child(cmd(out_of(out, r), seeds[r] if seeds else None))
            times[name].append((wall, rss))
            print(f"run {r + 1} {name}: {wall:.1f} s, peak RSS {rss:.0f} MB", flush=True)
    if seeds:
        print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; every run judged")
        return judge_only([str(out_of(out, r)) for name, (_, out) in systems.items()
                           if not (a.only and not name.lower().startswith(a.only)) for r in range(a.runs)])
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


def one_line(src: Path, out: Path) -> Path:
    """``src`` with its lines joined into one (as all of en-mix is)."""
    if not out.exists():
        tmp = out.with_suffix(".tmp")
        tmp.write_text(src.read_text(encoding="utf-8").replace("\n", " ").rstrip(" ") + "\n", encoding="utf-8")
        tmp.replace(out)
    return out


def judge_only(models, by_pair: bool = False) -> int:
    """Judge written models (each row, then per side the median); the same judge as above
    plus the semantic / syntactic split of Google and its family section (``by_pair``: and
    that section per word pair: at 30k words it is every ordered couple of 19 pairs, so each
    pair is asked for in 18 questions and one pair's vectors move up to ~10 points)."""
    from bench_fasttext import ANALOGY, SIM, read_pairs, similarity_score
    from gensim.models import KeyedVectors as GKV

    from firth.vectors import load_vectors

    sets = [s for s in SETS if (SIM / f"{s}.tsv").exists()]
    print("| model | " + " | ".join(sets) + " | Google | semantic | syntactic | family |")
    print("|---|" + "---|" * (len(sets) + 4))
    rows: dict[str, list] = {}
    pairs: list = []
    for m in models:
        kv = load_vectors(m)
        sims = [similarity_score(kv, read_pairs(SIM / f"{s}.tsv"))[0] for s in sets]
        with tempfile.TemporaryDirectory() as td:
            path = Path(td) / "vecs.txt"
            kv.limit(30_000).save(path, format="word2vec-text")
            g = GKV.load_word2vec_format(str(path), binary=False)
            acc, secs = g.evaluate_word_analogies(str(ANALOGY), restrict_vocab=30_000, case_insensitive=True)

        def part(ss):
            n = sum(len(x["correct"]) + len(x["incorrect"]) for x in ss)
            return sum(len(x["correct"]) for x in ss) / max(n, 1)

        sections = [x for x in secs if x["section"] != "Total accuracy"]
        syn = part([x for x in sections if x["section"].startswith("gram")])
        sem = part([x for x in sections if not x["section"].startswith("gram")])
        fam = part([x for x in sections if x["section"] == "family"])  # the most subsampled words (he, his, king)
        if by_pair:
            fs = [x for x in sections if x["section"] == "family"][0]
            pairs.append((Path(m).name, family_by_pair(fs), answer_ranks(g, fs, 30_000)))
        vals = sims + [100 * acc, 100 * sem, 100 * syn, 100 * fam]
        side = "fastText" if m.endswith(".bin") else "firth"
        rows.setdefault(side, []).append(vals)
        print(f"| {Path(m).name} | " + " | ".join(f"{v:.3f}" for v in sims) + f" | {100 * acc:.2f}% | {100 * sem:.2f}% | "
              f"{100 * syn:.2f}% | {100 * fam:.1f}% |", flush=True)
    for side, vs in rows.items():
        med = [statistics.median(col) for col in zip(*vs)]
        print(f"| **{side} median of {len(vs)}** | " + " | ".join(f"{v:.3f}" for v in med[:len(sets)])
              + " | " + " | ".join(f"{v:.2f}%" for v in med[len(sets):]) + " |")
    if pairs:
        keys = sorted({k for _, d, _ in pairs for k in d})
        print("\nfamily section, questions right per asked pair (of the 18 asking for its second word)")
        print("| pair | " + " | ".join(n for n, _, _ in pairs) + " |")
        print("|---|" + "---|" * len(pairs))
        for k in keys:
            print(f"| {k} | " + " | ".join(f"{d.get(k, (0, 0))[0]}/{d.get(k, (0, 0))[1]}" for _, d, _ in pairs) + " |")
        print("| mean reciprocal rank of the answer | " + " | ".join(f"{np.mean(1 / r):.3f}" for _, _, r in pairs) + " |")
        print("| median rank of the answer | " + " | ".join(f"{np.median(r):.0f}" for _, _, r in pairs) + " |")
    return 0


def answer_ranks(g, section, top: int) -> np.ndarray:
    """Rank (1 = gensim's answer) of the expected word for every question of ``section``, by
    3CosAdd over the ``top`` first words of gensim's KeyedVectors ``g`` (a, b, c excluded): a
    figure that moves less from run to run than right / wrong."""
    m = g.vectors[:top] / np.linalg.norm(g.vectors[:top], axis=1, keepdims=True)
    idx = {w.upper(): i for i, w in reversed(list(enumerate(g.index_to_key[:top])))}
    out = []
    for a, b, c, d in section["correct"] + section["incorrect"]:
        ia, ib, ic, id_ = (idx[x.upper()] for x in (a, b, c, d))
        sims = m @ (m[ib] - m[ia] + m[ic])
        sims[[ia, ib, ic]] = -np.inf
        out.append(1 + int(np.sum(sims > sims[id_])))
    return np.array(out, np.float64)


def family_by_pair(section) -> dict:
    """{"a:b": (right, asked)} over the questions whose expected word is a or b (pairs unordered
    as written in the file: a male word first)."""
    out: dict = {}
    qs = [(q, 1) for q in section["correct"]] + [(q, 0) for q in section["incorrect"]]
    for (a, b, c, d), ok in qs:
        key = f"{c.lower()}:{d.lower()}"
        r, n = out.get(key, (0, 0))
        out[key] = (r + ok, n + 1)
    return out


if __name__ == "__main__":
    sys.exit(main())
