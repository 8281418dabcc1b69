"""Speed of `firth evaluate`'s analogy search: all 19,544 Google questions, 3CosAdd and
3CosMul, over the full vocabulary of a 100,000-word x 300-d model.

    flock /tmp/firth-heavy.lock python benchmarks/bench_evaluate.py [--words 100000] [--dim 300]

The model is synthetic (random Gaussian vectors; the question words placed among the
100,000, so every question is answerable): speed does not depend on what the vectors mean.
The search runs over all 100,000 words (restrict = vocabulary size). The Numba kernel is
compiled (or loaded from its cache) in a warm-up call first; the timed call is the second.
Threads: NUMBA_NUM_THREADS / OPENBLAS_NUM_THREADS default to all cores (2 here).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--words", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--gensim", action="store_true", help="also time gensim on 500 questions (3CosAdd)")
    a = ap.parse_args()

    from firth.vectors import KeyedVectors
    from firth.evaluate.analogy import evaluate_analogies
    from firth.evaluate.datasets import ANALOGY_FILE, read_analogies

    sections = read_analogies(ANALOGY_FILE)
    qwords = sorted({w.lower() for s in sections for q in s.questions for w in q})
    rng = np.random.default_rng(0)
    filler = [f"w{i}" for i in range(a.words - len(qwords))]
    words = filler[:]
    pos = np.sort(rng.choice(a.words, size=len(qwords), replace=False))
    for p, w in zip(pos, qwords):
        words.insert(int(p), w)
    vecs = rng.standard_normal((a.words, a.dim), dtype=np.float32)
    kv = KeyedVectors(words, vecs)
    kv.get_normed()
    nq = sum(len(s.questions) for s in sections)

    t = time.perf_counter()
    evaluate_analogies(kv, sections[:1], restrict=a.words)  # compile / load the Numba kernel
    print(f"warm-up (Numba compile or cache load): {time.perf_counter() - t:.2f} s")
    times = []
    for _ in range(a.repeats):
        t = time.perf_counter()
        r = evaluate_analogies(kv, sections, restrict=a.words)
        times.append(time.perf_counter() - t)
    print(f"questions: {nq} ({r['total']['answered']} answered), vocabulary searched: {r['searched_words']} x {a.dim}, "
          f"methods: 3CosAdd + 3CosMul, cores: {os.cpu_count()}")
    print(f"evaluate_analogies total: best {min(times):.2f} s, median {sorted(times)[len(times) // 2]:.2f} s "
          f"(search only: {r['seconds']:.2f} s)")
    if a.gensim:
        from gensim.models import KeyedVectors as GKV
        g = GKV(a.dim)
        g.add_vectors(words, vecs)
        qs = [q for s in sections for q in s.questions][:500]
        t = time.perf_counter()
        for qa, qb, qc, _ in qs:
            g.most_similar(positive=[qb.lower(), qc.lower()], negative=[qa.lower()], topn=5)
        dt = time.perf_counter() - t
        print(f"gensim most_similar, 500 questions one at a time: {dt:.2f} s "
              f"(-> ~{dt * nq / 500:.0f} s for all {nq}, 3CosAdd only)")


if __name__ == "__main__":
    main()
