"""The HogBatch skip-gram kernel: where a whole `firth train` run's time goes, and kernel A/B.

    flock /tmp/firth-heavy.lock .venv/bin/python benchmarks/ab_hogbatch.py --stages --ab 07aa84c

``--stages``: one child process per thread count runs what ``firth train ... --model sg``
runs (the CLI's imports and parser, reading + vocabulary + encoding, the kernel's Numba
cache load, training, writing the word2vec binary file), timestamped from launch to exit,
on the first ``--words`` words of en-mix (bench_word2vec's cached corpus; 5M: the issue-18
setting, dim 100, window 5, negative 5, sample 1e-3, min-count 5, 1 epoch).

``--ab REV``: the kernel of git revision REV (``firth/train/word2vec/hogbatch.py`` as it was
there, loaded from a temporary module; from the repository ``$FIRTH_GIT`` when this runs
from a snapshot of the tree) against the working tree's, one thread, in this
process, on the same encoded corpus and the same starting weights (trained once on another
part of the corpus), runs interleaved, CPU time, medians of ``--runs``; also prints the loss
per pair and the number of pairs (equal when the draws are), whether the two gave
bit-identical matrices and loss, and the ``NRT_incref`` calls each compiled kernel makes
outside its entry block (``ab_kernels.loop_increfs``). Either side may take its parameters
one by one (the kernel before issue 12) or grouped (``Sentences``, ``Job``, ``Sampling``).

``--fold``: the working tree's kernel without subsampling on the full vocabulary and on the
same ids folded onto 1,000 words (both matrices then fit in L2): the share of the time that
is cache misses on the rows.

``--quality REV``: `firth train --model sg` from a copy of revision REV (``git archive``) and
from the working tree, ``--q-epochs`` epochs, 2 workers, seeds ``--q-seeds``, on the
``--words`` corpus, each training under the heavy lock; vectors judged as in
quality_word2vec.py (gensim: Google analogies over the 30,000 most frequent words, WS353).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GIT = Path(os.environ.get("FIRTH_GIT", ROOT))  # the repository REV is read from (ROOT may be a snapshot)
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

CHILD = r"""
import json, sys, time
T = [("interpreter start", time.time())]
from firth.cli import build_parser
build_parser()
T.append(("imports + CLI parser", time.time()))
from firth.train.word2vec import Word2Vec
import numpy as np
m = Word2Vec(model="sg", dim=100, window=5, negative=5, sample=1e-3, min_count=5, alpha=0.025, epochs=1,
             workers=int(sys.argv[2]), seed=1)
m.build_vocab(sys.argv[1])
T.append(("read + tokenize + count + vocabulary + remap (Numba cache loads of the reader included)", time.time()))
from firth.train.kernels import Job, Sampling, Sentences
from firth.train.word2vec.hogbatch import train_sg_batch
z = np.zeros((2, 100), np.float32)
train_sg_batch(Sentences(np.zeros(2, np.int32), np.array([0, 2])), Job(0, 1, 0.025, 0.025, np.uint64(1)), z.copy(),
               z.copy(), Sampling(np.ones(2, np.float32), np.ones(2, np.float32), np.zeros(2, np.int32), 5, 5))
T.append(("kernel: Numba cache load", time.time()))
m.train()
T.append(("training", time.time()))
m.vectors(copy=False).save(sys.argv[3], format="word2vec-binary")
T.append(("write word2vec binary", time.time()))
m.close() if hasattr(m, "close") else None
print(json.dumps(T))
"""


def stages(corpus: Path, threads: list[int], runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="firth-abhb-") as tmp:
        for w in threads:
            rows: dict[str, list[float]] = {}
            for _ in range(runs):
                t0 = time.time()
                p = subprocess.run([sys.executable, "-c", CHILD, str(corpus), str(w), f"{tmp}/v.bin"], cwd=ROOT,
                                   capture_output=True, text=True)
                t_end = time.time()
                if p.returncode:
                    sys.exit(p.stderr[-2000:])
                T = json.loads(p.stdout.strip().splitlines()[-1])
                prev = t0
                for name, t in T:
                    rows.setdefault(name, []).append(t - prev)
                    prev = t
                rows.setdefault("exit (freeing, interpreter shutdown)", []).append(t_end - prev)
                rows.setdefault("whole process", []).append(t_end - t0)
            print(f"\n{w} thread(s), medians of {runs} (s):\n\n| stage | seconds |\n|---|---|")
            for name, v in rows.items():
                print(f"| {name} | {statistics.median(v):.2f} |")


def hogbatch_call(fn, ids, offsets, s0, s1, syn0, syn1, sampling, alpha0, alpha1, seed):
    """Call a HogBatch kernel whichever its signature: grouped parameters (5) or one by one."""
    from firth.train.kernels import Job, Sentences

    if fn.py_func.__code__.co_argcount == 5:
        return fn(Sentences(ids, offsets), Job(s0, s1, alpha0, alpha1, seed), syn0, syn1, sampling)
    return fn(ids, offsets, s0, s1, syn0, syn1, *sampling, alpha0, alpha1, seed)


def ab(corpus: Path, rev: str, words: int, runs: int) -> None:
    import numpy as np
    from ab_kernels import loop_increfs

    from firth.train.corpus import encode_corpus
    from firth.train.kernels import Sampling
    from firth.train.vocab import Vocab
    from firth.train.word2vec.hogbatch import train_sg_batch as new

    src = subprocess.run(["git", "show", f"{rev}:firth/train/word2vec/hogbatch.py"], cwd=GIT, capture_output=True,
                         text=True, check=True).stdout
    with tempfile.TemporaryDirectory(prefix="firth-abhb-") as tmp:
        path = Path(tmp) / "hogbatch_old.py"
        path.write_text(src)
        spec = importlib.util.spec_from_file_location("hogbatch_old", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        old = mod.train_sg_batch
        enc = encode_corpus(str(corpus))
        vocab, mapping = Vocab.from_counts(enc.words, enc.counts, 5)
        enc.remap(mapping)
        keep = vocab.keep_probs(1e-3)
        prob, alias = vocab.noise_table(0.75)
        ids, offsets = np.asarray(enc.ids), np.asarray(enc.offsets)
        ns = int(np.searchsorted(offsets, words))
        V, d = len(vocab), 100
        rng = np.random.default_rng(1)
        w0 = ((rng.random((V, d), dtype=np.float32) - 0.5) / d).astype(np.float32)
        w1 = np.zeros_like(w0)
        sampling = Sampling(keep, prob, alias, 5, 5)
        hogbatch_call(new, ids, offsets, ns, min(2 * ns, len(offsets) - 1), w0, w1, sampling, 0.025, 0.0001,
                      np.uint64(3))  # warm weights
        kernels = {f"{rev} (before)": old, "working tree": new}
        for fn in kernels.values():  # Numba compile / cache load outside the timings
            hogbatch_call(fn, ids, offsets, 0, 2, w0.copy(), w1.copy(), sampling, 0.025, 0.0001, np.uint64(1))
        res: dict[str, list] = {k: [] for k in kernels}
        mats: dict[str, tuple] = {}
        for r in range(runs):
            for name in (list(kernels) if r % 2 == 0 else list(kernels)[::-1]):
                a, b = w0.copy(), w1.copy()
                t = time.process_time()
                out = hogbatch_call(kernels[name], ids, offsets, 0, ns, a, b, sampling, 0.025, 0.0001, np.uint64(7))
                res[name].append((time.process_time() - t, out))
                mats[name] = (a, b, out)
        base = statistics.median(t for t, _ in res[f"{rev} (before)"])
        (a0, b0, o0), (a1, b1, o1) = mats.values()
        same = np.array_equal(a0, a1) and np.array_equal(b0, b1) and o0 == o1
        small = (ids, offsets, 0, 3, w0.copy(), w1.copy(), sampling, 0.025, 0.0001, np.uint64(1))
        print(f"\n{offsets[ns]:,} words, 1 thread, CPU s, medians of {runs} (interleaved); "
              f"bit-identical matrices and loss: {same}\n")
        best = min(t for t, _ in res[f"{rev} (before)"])
        print("| kernel | CPU s (runs) | speed vs before (medians) | (fastest runs) | loss per pair | pairs | "
              "loop NRT_incref |\n|---|---|---|---|---|---|---|")
        for name, v in res.items():
            med = statistics.median(t for t, _ in v)
            out = v[-1][1]
            inc = loop_increfs(kernels[name], _raw_args(kernels[name], small))
            print(f"| {name} | {med:.3f} ({', '.join(f'{t:.2f}' for t, _ in v)}) | {base / med:.3f}x | "
                  f"{best / min(t for t, _ in v):.3f}x | {out[0] / out[2]:.4f} | {out[2]:,} | {inc} |")
        enc.close()


def _raw_args(fn, a):
    """The positional arguments ``hogbatch_call(fn, *a)`` passes (for recompiling ``fn``)."""
    from firth.train.kernels import Job, Sentences

    ids, offsets, s0, s1, syn0, syn1, sampling, alpha0, alpha1, seed = a
    if fn.py_func.__code__.co_argcount == 5:
        return Sentences(ids, offsets), Job(s0, s1, alpha0, alpha1, seed), syn0, syn1, sampling
    return ids, offsets, s0, s1, syn0, syn1, *sampling, alpha0, alpha1, seed


def quality(corpus: Path, rev: str, epochs: int, seeds: list[int]) -> None:
    from bench_word2vec import heavy_lock
    from quality_word2vec import evaluate

    small = make_small()
    with tempfile.TemporaryDirectory(prefix="firth-abhb-q-") as tmp:
        old = Path(tmp) / "old"
        old.mkdir()
        arch = subprocess.run(["git", "archive", rev], cwd=GIT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=arch, check=True)
        trees = {f"{rev} (before)": old, "working tree": ROOT}
        for tree in trees.values():  # Numba compile / cache outside the lock
            subprocess.run(train_cmd(small, Path(tmp) / "w.bin", 1, 1, 1), cwd=tree, capture_output=True, check=True)
        rows = []
        for seed in seeds:
            for name, tree in trees.items():
                out = Path(tmp) / "v.bin"
                with heavy_lock(True):
                    t0 = time.perf_counter()
                    subprocess.run(train_cmd(corpus, out, epochs, 2, seed), cwd=tree, capture_output=True, check=True)
                    wall = time.perf_counter() - t0
                q = evaluate(out)
                rows.append((name, seed, wall, q))
                print(f"  {name}, seed {seed}: {wall:.1f} s, {q}", flush=True)
        print(f"\n{epochs} epochs, 2 workers\n\n| kernel | seed | wall s | Google % | WS353 |\n|---|---|---|---|---|")
        for name, seed, wall, q in rows:
            print(f"| {name} | {seed} | {wall:.1f} | {q['google_acc']:.2f} | {q['ws353_spearman']:.3f} |")


def fold(corpus: Path, words: int, runs: int) -> None:
    import numpy as np

    from firth.train.corpus import encode_corpus
    from firth.train.kernels import Sampling
    from firth.train.vocab import Vocab
    from firth.train.word2vec.hogbatch import train_sg_batch

    enc = encode_corpus(str(corpus))
    vocab, mapping = Vocab.from_counts(enc.words, enc.counts, 5)
    enc.remap(mapping)
    ids, offsets = np.asarray(enc.ids), np.asarray(enc.offsets)
    ns = int(np.searchsorted(offsets, words))
    folded = (ids % 1000).astype(np.int32)
    small = Vocab([str(i) for i in range(1000)], np.bincount(folded, minlength=1000) + 1)
    cases = {f"full vocabulary ({len(vocab):,} words)": (ids, len(vocab), vocab.noise_table(0.75)),
             "ids folded onto 1,000 words": (folded, 1000, small.noise_table(0.75))}
    res: dict[str, list[float]] = {}
    for r in range(runs):
        for name, (ii, V, (prob, alias)) in cases.items():
            rng = np.random.default_rng(1)
            w0 = ((rng.random((V, 100), dtype=np.float32) - 0.5) / 100).astype(np.float32)
            sampling = Sampling(np.ones(V, np.float32), prob, alias, 5, 5)
            if r == 0:  # cache load outside the timing
                hogbatch_call(train_sg_batch, ii, offsets, 0, 2, w0.copy(), np.zeros_like(w0), sampling, 0.025, 0.0001,
                              np.uint64(1))
            t = time.process_time()
            hogbatch_call(train_sg_batch, ii, offsets, 0, ns, w0, np.zeros_like(w0), sampling, 0.025, 0.0001,
                          np.uint64(7))
            res.setdefault(name, []).append(time.process_time() - t)
    full = statistics.median(next(iter(res.values())))
    print(f"\n{offsets[ns]:,} words, no subsampling, 1 thread, CPU s, medians of {runs}\n")
    print("| rows | CPU s | time saved |\n|---|---|---|")
    for name, v in res.items():
        print(f"| {name} | {statistics.median(v):.3f} | {1 - statistics.median(v) / full:.0%} |")
    enc.close()


def make_small() -> Path:
    return ROOT.parent / "shared" / "data" / "corpora" / "small" / "en-100k.txt"


def train_cmd(corpus: Path, out: Path, epochs: int, workers: int, seed: int) -> list[str]:
    return [sys.executable, "-m", "firth.cli", "train", str(corpus), "-o", str(out), "--format", "word2vec-binary",
            "--model", "sg", "--dim", "100", "--window", "5", "--negative", "5", "--sample", "1e-3", "--min-count", "5",
            "--alpha", "0.025", "--epochs", str(epochs), "--workers", str(workers), "--seed", str(seed), "-q"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--words", type=int, default=5_000_000, help="corpus: prefix of en-mix in words")
    ap.add_argument("--stages", action="store_true")
    ap.add_argument("--threads", default="1,2", help="--stages: thread counts")
    ap.add_argument("--ab", metavar="REV", help="compare the kernel of git revision REV with the working tree's")
    ap.add_argument("--ab-words", type=int, default=1_000_000, help="--ab: words of the corpus trained per run")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--fold", action="store_true", help="cache-miss share: full vocabulary vs 1,000 words")
    ap.add_argument("--quality", metavar="REV", help="train with REV's firth and the working tree's, score both")
    ap.add_argument("--q-epochs", type=int, default=5)
    ap.add_argument("--q-seeds", default="1,2")
    a = ap.parse_args(argv)
    if not (a.stages or a.ab or a.quality or a.fold):
        ap.error("give --stages, --ab REV, --fold and/or --quality REV")
    from bench_word2vec import make_corpus

    corpus = make_corpus(a.words)
    print(f"corpus {corpus}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load {os.getloadavg()[0]:.2f}")
    if a.stages:
        stages(corpus, [int(t) for t in a.threads.split(",")], a.runs)
    if a.ab:
        ab(corpus, a.ab, a.ab_words, a.runs)
    if a.fold:
        fold(corpus, a.ab_words, a.runs)
    if a.quality:
        quality(corpus, a.quality, a.q_epochs, [int(x) for x in a.q_seeds.split(",")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
