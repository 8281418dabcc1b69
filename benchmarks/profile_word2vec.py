"""Where the time of a `firth train` run goes: stages of the whole process, then kernel ablations.

    python benchmarks/profile_word2vec.py [--words 5000000] [--model sg]

Stages are timed in one process (CPU time of the main thread, wall time); the ablations run
one thread on the same encoded corpus, each variant of the skip-gram kernel removing one
cost: the cache misses
(vocabulary cut to the 1,000 most frequent words, so both matrices fit in L2).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

T0 = time.perf_counter()
import numpy as np  # noqa: E402

T_NUMPY = time.perf_counter()
import numba  # noqa: E402, F401

T_NUMBA = time.perf_counter()

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--words", type=int, default=5_000_000)
    ap.add_argument("--model", default="sg")
    args = ap.parse_args()
    from bench_word2vec import make_corpus

    from firth.train.corpus import encode_corpus
    from firth.train.kernels import Job, Sampling, Sentences
    from firth.train.word2vec import kernels as K
    from firth.train.word2vec.hogbatch import train_sg_batch
    from firth.train.vocab import Vocab

    corpus = make_corpus(args.words)
    stages = {"python + numpy import": T_NUMPY - T0, "numba import": T_NUMBA - T_NUMPY}
    t = time.perf_counter()
    enc = encode_corpus(corpus)
    stages["read + tokenize + count (incl. first Numba cache load)"] = time.perf_counter() - t
    t = time.perf_counter()
    vocab, mapping = Vocab.from_counts(enc.words, enc.counts, 5)
    enc.remap(mapping)
    keep = vocab.keep_probs(1e-3)
    prob, alias = vocab.noise_table(0.75)
    stages["prune, sort, remap ids, tables"] = time.perf_counter() - t
    V, d = len(vocab), 100
    rng = np.random.default_rng(1)

    def weights(v=V):
        return ((rng.random((v, d), dtype=np.float32) - 0.5) / d).astype(np.float32), np.zeros((v, d), np.float32)

    kern = K.train_cbow if args.model == "cbow" else K.train_sg_pairs
    extra = (True,) if args.model == "cbow" else ()
    s0, s1 = weights()
    t = time.perf_counter()
    kern(Sentences(enc.ids, enc.offsets), Job(0, 1, 0.025, 0.025, np.uint64(1)), s0, s1, Sampling(keep, prob, alias, 5, 5),
         *extra)
    stages["kernel cache load"] = time.perf_counter() - t
    ns = enc.n_sentences

    def timed(fn, syn0, syn1, ids=enc.ids, keep=keep, prob=prob, alias=alias, *more):
        t = time.process_time()
        out = fn(Sentences(ids, enc.offsets), Job(0, ns, 0.025, 0.0001, np.uint64(7)), syn0, syn1,
                 Sampling(keep, prob, alias, 5, 5), *more)
        dt = time.process_time() - t
        return dt, out[1] / dt

    dt, wps = timed(kern, *weights(), enc.ids, keep, prob, alias, *extra)
    stages[f"training, 1 thread ({args.model})"] = dt
    print(f"corpus {corpus}: {enc.n_tokens:,} tokens, {V:,} words")
    print("\n| stage | seconds |\n|---|---|")
    for k, v in stages.items():
        print(f"| {k} | {v:.2f} |")

    print("\n| skip-gram kernel variant (1 thread) | words/s | time share removed |\n|---|---|---|")
    base_dt, base = timed(K.train_sg_pairs, *weights())
    print(f"| per-pair kernel as shipped | {base / 1e6:.2f}M | - |")
    dt, w = timed(train_sg_batch, *weights())
    print(f"| HogBatch kernel as shipped | {w / 1e6:.2f}M | {1 - dt / base_dt:+.0%} |")
    # cache misses: same token stream folded onto 1,000 ids (ids % 1000), no subsampling in both
    ones = np.ones(V, np.float32)
    dt0, w0 = timed(K.train_sg_pairs, *weights(), enc.ids, ones, prob, alias)
    print(f"| no subsampling (reference for the next line) | {w0 / 1e6:.2f}M | - |")
    ids_small = (enc.ids % 1000).astype(np.int32)
    v_small = Vocab([str(i) for i in range(1000)], np.bincount(ids_small, minlength=1000) + 1)
    pb, ab = v_small.noise_table(0.75)
    dt, w = timed(K.train_sg_pairs, *weights(1000), ids_small, np.ones(1000, np.float32), pb, ab)
    print(f"| ... with ids folded onto 1,000 words (both matrices fit in L2) | {w / 1e6:.2f}M | {1 - dt / dt0:.0%} |")
    enc.close()


if __name__ == "__main__":
    main()
