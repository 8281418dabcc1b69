"""firth's HogBatch skip-gram vs Intel's pWord2Vec (Ji et al. 2016), whole process, one run.

Same text and settings for both: the first ``--words`` words of en-mix, 1,000 words per line
(benchmarks/bench_word2vec.py's cached corpus), dim 100, window 5, negative 5, sample 1e-3,
min-count 5, lr 0.025, ``--epochs`` epochs, 1 and 2 threads. Each run is a child process
timed from launch to exit (reading, vocabulary, training, writing a binary word2vec file),
peak RSS from ``wait4``. Runs are interleaved (pWord2Vec, firth SG, firth CBOW per round, the
order alternating between rounds); medians over ``--runs`` rounds; the ratio printed is
pWord2Vec's median time / firth's (above 1: firth is faster).

pWord2Vec is built by ../shared/anchors/pWord2Vec/build.sh (g++ -O3 -march=native -fopenmp,
OpenBLAS) into ``--pw-dir``, once. It has skip-gram only: firth's CBOW is timed beside it
for reference, not as a like-for-like ratio. pWord2Vec runs with ``-batch-size 11``
(2·window+1, its scripts' setting). OpenBLAS core type: pWord2Vec runs with the environment
as it is and, when OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set, also with both unset; the
faster of the two is its figure (and is named).

``--quality`` also scores the last run's vectors of each (WS353 Spearman, Google analogies
over the 30,000 most frequent words, gensim's judge) -- meaningful on the full corpus.

    flock /tmp/firth-heavy.lock .venv/bin/python benchmarks/bench_pword2vec.py --runs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
ANCHOR = ROOT.parent / "shared" / "anchors" / "pWord2Vec"
BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def build(pw_dir: Path) -> Path:
    exe = pw_dir / "pWord2Vec"
    if not exe.exists():
        if not (ANCHOR / "build.sh").exists():
            sys.exit(f"{ANCHOR}/build.sh not found: the shared anchors are missing")
        r = subprocess.run(["bash", str(ANCHOR / "build.sh"), str(pw_dir)], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"building pWord2Vec failed (needs g++ and libopenblas-dev):\n{r.stderr[-2000:]}")
    return exe


def timed(cmd, env=None) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one child process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT, env=env)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{err.decode(errors='replace')[-2000:]}")
    return wall, ru.ru_maxrss / 1024.0


def pw_cmd(exe, corpus, out, threads, epochs):
    return [str(exe), "-train", str(corpus), "-output", str(out), "-size", "100", "-window", "5", "-negative", "5",
            "-sample", "1e-3", "-min-count", "5", "-alpha", "0.025", "-iter", str(epochs), "-threads", str(threads),
            "-binary", "1", "-batch-size", "11", "-debug", "0"]


def firth_cmd(corpus, out, model, threads, epochs):
    return [sys.executable, "-m", "firth.cli", "train", str(corpus), "-o", str(out), "--format", "word2vec-binary",
            "--model", model, "--dim", "100", "--window", "5", "--negative", "5", "--sample", "1e-3", "--min-count", "5",
            "--alpha", "0.025", "--epochs", str(epochs), "--workers", str(threads), "--seed", "1", "-q"]


def quality(path: Path, tmp: Path) -> str:
    from bench_fasttext import SIM, analogy_score, read_pairs, similarity_score
    from firth.vectors import load_vectors

    kv = load_vectors(str(path))
    ws, cov = similarity_score(kv, read_pairs(SIM / "ws353.tsv"))
    return f"WS353 {ws:.3f} ({cov:.0%} covered), Google {100 * analogy_score(kv, tmp):.1f}%"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--words", type=int, default=5_000_000, help="prefix of en-mix in words (0: all of it)")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-cbow", action="store_true", help="skip firth's CBOW reference runs")
    ap.add_argument("--quality", action="store_true", help="score the last run's vectors (WS353, Google)")
    ap.add_argument("--pw-dir", default="/tmp/pw2v", help="where pWord2Vec is built (once)")
    a = ap.parse_args(argv)
    from bench_word2vec import make_corpus

    exe = build(Path(a.pw_dir))
    corpus = make_corpus(a.words or None)
    envs = {"environment as is": None}
    if any(v in os.environ for v in BLAS_VARS):
        envs["OPENBLAS_CORETYPE/L2_SIZE unset"] = {k: v for k, v in os.environ.items() if k not in BLAS_VARS}
    print(f"corpus {corpus}; {a.epochs} epoch(s); {a.runs} interleaved rounds; pWord2Vec {exe} "
          f"(OpenBLAS variants: {', '.join(envs)}); load average {os.getloadavg()[0]:.2f}", flush=True)
    res: dict[tuple, list] = {}
    with tempfile.TemporaryDirectory(prefix="firth-pw2v-") as tmp:
        tmp = Path(tmp)
        # warm Numba's cache outside the timings
        small = ROOT.parent / "shared" / "data" / "corpora" / "small" / "en-100k.txt"
        for model in ("sg", "cbow"):
            subprocess.run(firth_cmd(small, tmp / "warm.bin", model, 1, 1), cwd=ROOT, capture_output=True)
        for threads in map(int, a.threads.split(",")):
            systems = [(f"pWord2Vec ({name})", lambda o, env=env: (pw_cmd(exe, corpus, o, threads, a.epochs), env))
                       for name, env in envs.items()]
            systems.append(("firth sg (HogBatch)", lambda o: (firth_cmd(corpus, o, "sg", threads, a.epochs), None)))
            if not a.no_cbow:
                systems.append(("firth cbow", lambda o: (firth_cmd(corpus, o, "cbow", threads, a.epochs), None)))
            for r in range(a.runs):
                order = systems if r % 2 == 0 else systems[::-1]
                for name, mk in order:
                    out = tmp / f"{abs(hash(name))}-{threads}.bin"
                    cmd, env = mk(out)
                    wall, rss = timed(cmd, env)
                    res.setdefault((threads, name), []).append((wall, rss, out))
                    print(f"  {threads} thread(s), round {r + 1}, {name}: {wall:.2f} s, {rss:.0f} MiB", flush=True)
        print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average {os.getloadavg()[0]:.2f} "
              f"(other jobs running when above ~1); medians of {a.runs}; "
              "ratio = pWord2Vec's best time / this row's (above 1: faster than pWord2Vec)")
        print("| threads | system | whole process s (median; runs) | vs pWord2Vec | peak RSS MiB |" +
              (" quality |" if a.quality else ""))
        print("|---|---|---|---|---|" + ("---|" if a.quality else ""))
        for threads in map(int, a.threads.split(",")):
            rows = {name: v for (t, name), v in res.items() if t == threads}
            pw = min(statistics.median(w for w, _, _ in v) for n, v in rows.items() if n.startswith("pWord2Vec"))
            for name, v in rows.items():
                med = statistics.median(w for w, _, _ in v)
                runs = ", ".join(f"{w:.1f}" for w, _, _ in v)
                q = f" {quality(v[-1][2], tmp)} |" if a.quality else ""
                print(f"| {threads} | {name} | {med:.2f} ({runs}) | {pw / med:.2f}x | {max(m for _, m, _ in v):.0f} |{q}",
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
