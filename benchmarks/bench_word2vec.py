"""firth vs gensim word2vec speed: whole-process time, training words/s, peak RSS.

Each measurement is a separate child process (imports, vocabulary scan, training, saving:
what a user waits for); its wall time is measured by the parent, its peak RSS from
``wait4``'s rusage. Training-only words/s = corpus words (in-vocabulary tokens) x epochs /
the trainer's own training time. Medians of ``--runs`` runs.

    flock /tmp/firth-heavy.lock python benchmarks/bench_word2vec.py            # (locks per group itself)
    python benchmarks/bench_word2vec.py --models sg --workers 2 --runs 1 --words 1000000
    python benchmarks/bench_word2vec.py --scaling --models sg,cbow --epochs 1,5   # 1 -> 2 workers

The corpus is the first ``--words`` words of ../shared/data/corpora/en-mix/en-mix.txt.xz,
written 1,000 words per line to a cache directory (created once).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import lzma
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
ENMIX = SHARED / "corpora" / "en-mix" / "en-mix.txt.xz"
CACHE = Path(os.environ.get("FIRTH_BENCH_CACHE", Path(tempfile.gettempdir()) / "firth-bench"))
LOCK = "/tmp/firth-heavy.lock"


def make_corpus(n_words: int | None, per_line: int = 1000) -> Path:
    """First n_words of en-mix (all if None), per_line words per line, cached."""
    CACHE.mkdir(parents=True, exist_ok=True)
    name = f"en-mix-{'all' if n_words is None else f'{n_words // 1000}k'}-{per_line}.txt"
    out = CACHE / name
    if out.exists():
        return out
    tmp = out.with_suffix(".tmp")
    written = 0
    carry = ""
    buf: list[str] = []
    with lzma.open(ENMIX, "rt", encoding="utf-8") as f, open(tmp, "w", encoding="utf-8") as g:
        while n_words is None or written < n_words:
            block = f.read(1 << 22)
            if not block:
                words = carry.split()
                carry = ""
            else:
                text = carry + block
                cut = text.rfind(" ")
                words, carry = text[:cut].split(), text[cut + 1 :]
            if n_words is not None:
                words = words[: n_words - written]
            buf.extend(words)
            written += len(words)
            while len(buf) >= per_line:
                g.write(" ".join(buf[:per_line]) + "\n")
                del buf[:per_line]
            if not block:
                break
        if buf:
            g.write(" ".join(buf) + "\n")
    os.replace(tmp, out)
    return out


GENSIM_CHILD = r"""
import json, sys, time
from gensim.models import Word2Vec
corpus, out, model, workers, epochs, stats = sys.argv[1:7]
m = Word2Vec(corpus_file=corpus, sg=int(model == "sg"), vector_size=100, window=5, negative=5, hs=0,
             sample=1e-3, min_count=5, epochs=int(epochs), workers=int(workers), seed=1)
m.wv.save_word2vec_format(out, binary=True)
json.dump({"train_seconds": m.total_train_time, "corpus_words": int(m.wv.expandos["count"].sum()) * int(epochs),
           "vocab": len(m.wv)}, open(stats, "w"))
"""


def run_child(cmd, tree: Path = ROOT) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of a child process (run in ``tree``, importing firth from it)."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tree, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace")
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[:4]}... failed ({p.returncode}):\n{err[-2000:]}")
    return wall, ru.ru_maxrss / 1024.0


ENTRY = ["-m", "firth.cli", "train"]


def measure(tool, corpus, model, workers, epochs, tmpdir, kernel="auto", tree: Path = ROOT):
    out = Path(tmpdir) / f"out-{tool}-{model}-{workers}"
    stats = Path(tmpdir) / "stats.json"
    if tool == "gensim":
        cmd = [sys.executable, "-c", GENSIM_CHILD, str(corpus), str(out), model, str(workers), str(epochs), str(stats)]
        wall, rss = run_child(cmd)
        st = json.loads(stats.read_text())
        words = st["corpus_words"]
        return wall, rss, st["train_seconds"], st["vocab"], words
    cmd = [sys.executable, *ENTRY, str(corpus), "-o", str(out), "--model", model, "--dim", "100",
           "--window", "5", "--negative", "5", "--sample", "1e-3", "--min-count", "5", "--epochs", str(epochs),
           "--workers", str(workers), "--kernel", kernel, "-q"]
    wall, rss = run_child(cmd, tree)
    from firth.vectors import load_vectors

    kv = load_vectors(str(out))
    return wall, rss, kv.meta["train_seconds"], len(kv), int(kv.counts.sum()) * epochs


@contextlib.contextmanager
def heavy_lock(enabled: bool):
    if not enabled:
        yield
        return
    with open(LOCK, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def scaling(args, corpus) -> list[dict]:
    """--scaling: per model and epoch count, one lock hold, firth at 1 and 2 workers (and the
    --before tree at 2, gensim at 1 and 2 unless --no-gensim) interleaved, the order reversed
    every other round; prints the 1 -> 2 worker ratios of whole-process and training time (the
    --before tree's against firth's 1-worker runs: pass a tree whose 1-worker path is the same)."""
    before = Path(args.before).resolve() if args.before else None
    rows = []
    with tempfile.TemporaryDirectory(prefix="firth-bench-") as tmpdir:
        for model in args.models.split(","):
            for epochs in map(int, str(args.epochs).split(",")):
                variants = [("firth", 1, ROOT), ("firth", 2, ROOT)]
                if before is not None:
                    variants += [("firth-before", 2, before)]  # its 1-worker path is firth's: not rerun
                if not args.no_gensim:
                    variants += [("gensim", 1, ROOT), ("gensim", 2, ROOT)]
                res = {v: [] for v in variants}
                with heavy_lock(not args.no_lock):
                    print(f"{model}, {epochs} epoch(s): {time.strftime('%H:%M:%S', time.gmtime())} UTC, "
                          f"load average {os.getloadavg()[0]:.2f}", flush=True)
                    for r in range(args.runs):
                        for v in (variants if r % 2 == 0 else variants[::-1]):
                            tool, w, tree = v
                            m = measure("gensim" if tool == "gensim" else "firth", corpus, model, w, epochs, tmpdir,
                                        tree=tree)
                            res[v].append(m)
                            print(f"  round {r + 1} {tool} w={w}: {m[0]:.2f} s (training {m[2]:.2f} s), {m[1]:.0f} MiB",
                                  flush=True)
                    print(f"  end {time.strftime('%H:%M:%S', time.gmtime())} UTC, load average {os.getloadavg()[0]:.2f}")
                med = {v: (statistics.median(r[0] for r in rs), statistics.median(r[2] for r in rs),
                           max(r[1] for r in rs)) for v, rs in res.items()}
                for tool in dict.fromkeys(t for t, _, _ in variants):
                    mine = [v for v in variants if v[0] == tool]
                    if len(mine) == 1:  # --before: 2 workers only, against firth's 1-worker runs
                        mine = [("firth", 1, ROOT)] + mine
                    (w1, t1, m1), (w2, t2, m2) = (med[v] for v in mine)
                    row = {"model": model, "epochs": epochs, "tool": tool,
                           "wall_1": round(w1, 2), "wall_2": round(w2, 2), "train_1": round(t1, 2), "train_2": round(t2, 2),
                           "walls_1": [round(r[0], 2) for r in res[mine[0]]],
                           "walls_2": [round(r[0], 2) for r in res[mine[1]]],
                           "whole_scaling": round(w1 / w2, 2), "train_scaling": round(t1 / t2, 2),
                           "rss_1": round(m1), "rss_2": round(m2)}
                    rows.append(row)
    print("\n| model | epochs | tool | 1 worker s (runs) | 2 workers s (runs) | whole process 1->2 | training 1->2 "
          "| peak RSS MiB (1 / 2) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['epochs']} | {r['tool']} | {r['wall_1']:.2f} ({', '.join(map(str, r['walls_1']))}) | "
              f"{r['wall_2']:.2f} ({', '.join(map(str, r['walls_2']))}) | **{r['whole_scaling']:.2f}x** | "
              f"{r['train_scaling']:.2f}x | {r['rss_1']} / {r['rss_2']} |")
    for r in rows:
        g = [x for x in rows if x["tool"] == "gensim" and x["model"] == r["model"] and x["epochs"] == r["epochs"]]
        if g and r["tool"] != "gensim":
            print(f"{r['model']} {r['epochs']} epoch(s) {r['tool']}: peak RSS vs gensim "
                  f"{r['rss_1'] - g[0]['rss_1']:+d} / {r['rss_2'] - g[0]['rss_2']:+d} MiB (1 / 2 workers)")
    return rows


def encode_profile(corpus, runs: int) -> None:
    """--encode-profile: the reading stage in this process (encode_corpus at 1 and 2 workers,
    then vocabulary, remap, alias table): wall and CPU seconds, medians of ``runs``, after a
    first call that pays Numba's initialisation (timed alone, first)."""
    from firth.train.corpus import encode_corpus
    from firth.train.vocab import Vocab

    t, c = time.perf_counter(), time.process_time()
    encode_corpus(str(make_corpus(100_000)), workers=2).close()
    print(f"first call (Numba initialisation + a 100k-word encode): {time.perf_counter() - t:.2f} s wall, "
          f"{time.process_time() - c:.2f} s CPU")
    res: dict[str, list] = {}
    for r in range(runs):
        for w in ((1, 2) if r % 2 == 0 else (2, 1)):
            t, c = time.perf_counter(), time.process_time()
            enc = encode_corpus(str(corpus), workers=w)
            res.setdefault(f"encode, {w} worker(s)", []).append((time.perf_counter() - t, time.process_time() - c))
            t, c = time.perf_counter(), time.process_time()
            vocab, mapping = Vocab.from_counts(enc.words, enc.counts, 5)
            enc.remap(mapping)
            vocab.noise_table(0.75)
            res.setdefault("vocabulary + remap + alias table", []).append((time.perf_counter() - t, time.process_time() - c))
            enc.close()
    print("| stage | wall s (median) | CPU s (median) |\n|---|---|---|")
    for k, v in res.items():
        print(f"| {k} | {statistics.median(x for x, _ in v):.3f} | {statistics.median(y for _, y in v):.3f} |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--words", type=int, default=5_000_000, help="corpus size in words (prefix of en-mix; 0 = all of it)")
    ap.add_argument("--models", default="sg,cbow")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--epochs", default="1", help="epochs (--scaling: a comma list)")
    ap.add_argument("--scaling", action="store_true",
                    help="thread scaling: firth 1 vs 2 workers (and gensim) interleaved in one lock hold per model/epochs")
    ap.add_argument("--before", default=None, help="--scaling: also time firth from this tree (e.g. a git archive)")
    ap.add_argument("--no-gensim", action="store_true", help="--scaling: firth only")
    ap.add_argument("--encode-profile", action="store_true", help="time the reading stage at 1 and 2 workers in-process")
    ap.add_argument("--kernels", default="pairs,batch", help="firth skip-gram kernels to measure")
    ap.add_argument("--no-lock", action="store_true", help="do not take /tmp/firth-heavy.lock per group")
    ap.add_argument("--json", default=None, help="also write the results here")
    ap.add_argument("--entry", choices=["cli", "module"], default="cli",
                    help="run firth as `python -m firth.cli train` (what users run) or `python -m firth.train.cli` (the train command alone)")
    args = ap.parse_args(argv)
    global ENTRY
    if args.entry == "module":
        ENTRY = ["-m", "firth.train.cli"]
    if not ENMIX.exists():
        sys.exit(f"shared data not found: {ENMIX}")
    corpus = make_corpus(args.words or None)
    size = f'{args.words:,}' if args.words else 'all'
    print(f"corpus: {corpus} ({size} words, 1,000 per line); {args.runs} runs each, medians", flush=True)
    if args.encode_profile:
        encode_profile(corpus, args.runs)
        return
    if args.scaling:
        rows = scaling(args, corpus)
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=1))
        return
    args.epochs = int(args.epochs)
    rows = []
    with tempfile.TemporaryDirectory(prefix="firth-bench-") as tmpdir:
        for model in args.models.split(","):
            for workers in map(int, args.workers.split(",")):
                variants = [("gensim", "auto")]
                kernels = args.kernels.split(",") if model == "sg" else ["auto"]
                variants += [("firth", k) for k in kernels]
                with heavy_lock(not args.no_lock):
                    res = {v: [] for v in variants}
                    for _ in range(args.runs):  # interleave tools so drifting load hits both alike
                        for tool, kernel in variants:
                            res[(tool, kernel)].append(measure(tool, corpus, model, workers, args.epochs, tmpdir, kernel))
                g = res[("gensim", "auto")]
                g_wall = statistics.median(r[0] for r in g)
                g_wps = statistics.median(r[4] / r[2] for r in g)
                for (tool, kernel), rs in res.items():
                    wall = statistics.median(r[0] for r in rs)
                    wps = statistics.median(r[4] / r[2] for r in rs)
                    row = {
                        "model": model, "workers": workers, "tool": tool, "kernel": kernel if tool == "firth" else "-",
                        "wall_s": round(wall, 2), "walls": [round(r[0], 2) for r in rs],
                        "train_words_per_s": round(wps), "rss_mib": round(max(r[1] for r in rs)),
                        "vocab": rs[0][3], "whole_process_ratio": round(g_wall / wall, 2),
                        "train_ratio": round(wps / g_wps, 2),
                    }
                    rows.append(row)
                    print(
                        f"{model:4s} w={workers} {tool:6s} {row['kernel']:5s} wall {wall:6.2f}s {row['walls']} "
                        f"train {wps / 1e6:5.2f}M w/s  RSS {row['rss_mib']:5d} MiB  vocab {row['vocab']}  "
                        f"whole-process x{row['whole_process_ratio']:.2f}  train x{row['train_ratio']:.2f}",
                        flush=True,
                    )
    print("\n| model | workers | tool | kernel | whole process (s) | ratio vs gensim | training words/s | train ratio | peak RSS (MiB) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['workers']} | {r['tool']} | {r['kernel']} | {r['wall_s']:.2f} | {r['whole_process_ratio']:.2f} | "
              f"{r['train_words_per_s'] / 1e6:.2f}M | {r['train_ratio']:.2f} | {r['rss_mib']} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
