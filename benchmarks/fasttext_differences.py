"""How large is each remaining difference between firth's and Facebook's fastText skip-gram
training on a given corpus? Sized from the vocabulary's counts; no training (issue 18).

    .venv/bin/python benchmarks/fasttext_differences.py MODEL CORPUS

MODEL: a firth fastText model trained on CORPUS (its vocabulary counts are used); CORPUS: the
text (its tokens and lines are counted: fastText's ``ntokens`` is every token read plus one
``</s>`` a line). Prints, at t = 1e-4 and 1e-3:

* kept tokens with firth's frequency base (retained tokens) vs fastText's (``ntokens``);
* the share of negative draws that hit the positive word (skipped in firth, redrawn in
  fastText), for positives drawn as subsampled training pairs are;
* the share of (centre, context) pairs lost at line cuts: fastText's 1,025-token chunks vs
  firth's 10,000-token sentences (a cut costs 7 pairs a side: sum over d of d * P(b >= d),
  b uniform in 1..5; a kept token has 6 pairs on average);
* how many more words fastText reads (it stops when its in-vocabulary count reaches
  epoch x ntokens).

``--stream WORD...`` also checks firth's training stream itself: for 3 epochs, the number of
(centre, context) pairs each word gets through the kernels' own helpers (subsampling,
reduced window, job seeds, the draws for the negatives skipped over) against the same
counted with NumPy's generator (independent draws), and the largest z-score over words with
more than 1,000 pairs (a few thousand words: about 4 is chance).
"""

from __future__ import annotations

import sys

import numpy as np


def corpus_tokens(path: str) -> tuple[int, int]:
    """(tokens, lines) of a text file, counted in blocks (a token split across blocks counted once)."""
    tokens = lines = 0
    tail = b""
    with open(path, "rb") as f:
        while block := f.read(1 << 24):
            block = tail + block
            cut = max(block.rfind(b" "), block.rfind(b"\n"))
            if cut < 0:
                tail = block
                continue
            body, tail = block[: cut + 1], block[cut + 1 :]
            tokens += len(body.split())
            lines += body.count(b"\n")
    tokens += len(tail.split())
    lines += 1 if tail.strip() else 0
    return tokens, lines


def main(argv=None) -> int:
    from firth.vectors import load_vectors

    argv = sys.argv[1:] if argv is None else argv
    stream = []
    if "--stream" in argv:
        k = argv.index("--stream")
        argv, stream = argv[:k], argv[k + 1 :]
    if len(argv) != 2:
        print(__doc__)
        return 2
    kv = load_vectors(argv[0])
    c = np.asarray(kv.counts, dtype=np.float64)
    raw, lines = corpus_tokens(argv[1])
    t_firth, t_fb = c.sum(), raw + lines
    print(f"{argv[1]}: {raw:,} tokens, {lines:,} lines; vocabulary {len(c):,} words, {int(t_firth):,} retained tokens")
    q = np.sqrt(c) / np.sqrt(c).sum()  # noise unigram^0.5
    for t in (1e-4, 1e-3):
        kept = []
        for total in (t_firth, t_fb):
            f = c / total
            kept.append(float((c * np.minimum(1.0, np.sqrt(t / f) + t / f)).sum()))
        pos = c * np.minimum(1.0, np.sqrt(t / (c / t_fb)) + t / (c / t_fb))
        pos /= pos.sum()
        per_token = kept[1] / t_firth

        def lost(chunk):
            return 14.0 / (6.0 * chunk * per_token)

        print(f"t={t:g}: kept tokens, firth's base / fastText's {kept[0] / kept[1]:.4f} "
              f"({100 * abs(1 - kept[0] / kept[1]):.2f}% apart); negatives equal to the positive "
              f"{100 * float((pos * q).sum()):.3f}%; pairs lost at cuts: fastText (1,025) {100 * lost(1025):.2f}%, "
              f"firth (10,000) {100 * lost(10000):.3f}%")
    print(f"fastText reads {t_fb / (t_firth + lines):.4f}x the words firth does (epoch x ntokens of in-vocabulary tokens)")
    if stream:
        check_stream(argv[1], stream)
    return 0


def check_stream(corpus: str, words: list[str], epochs: int = 3, sample: float = 1e-4, seed: int = 1) -> None:
    from numba import njit

    from firth.train.corpus import encode_corpus
    from firth.train.kernels import Job, Sentences, job_seed, job_start, lcg, reduced_window, sentence
    from firth.train.runner import make_jobs, split_shares
    from firth.train.vocab import Vocab

    enc = encode_corpus(corpus)
    vocab, mapping = Vocab.from_counts(enc.words, enc.counts, 5)
    enc.remap(mapping)
    keep = vocab.keep_probs(sample)
    sents = Sentences(np.asarray(enc.ids), np.asarray(enc.offsets))

    @njit
    def firth_pairs(sents, job, keep, out):
        total, buf, r = job_start(sents, job)
        for s in range(job.s0, job.s1):
            n, alpha, r = sentence(sents, s, job, total, keep, buf, r)
            for i in range(n):
                lo, hi, r = reduced_window(i, n, 5, r)
                for j in range(lo, hi):
                    if j != i:
                        out[buf[i]] += 1
                        for _ in range(5):  # the negatives' draws
                            r = lcg(r)

    @njit
    def numpy_pairs(ids, offsets, keep, u, b, out):
        buf = np.empty(ids.shape[0], np.int32)
        m = 0
        for s in range(offsets.shape[0] - 1):
            n = 0
            for k in range(offsets[s], offsets[s + 1]):
                if u[k] <= keep[ids[k]]:
                    buf[n] = ids[k]
                    n += 1
            for i in range(n):
                bw = b[m]
                m += 1
                out[buf[i]] += min(n, i + bw + 1) - max(0, i - bw) - 1

    a, b = np.zeros(len(vocab), np.int64), np.zeros(len(vocab), np.int64)
    rng = np.random.default_rng(seed + 4)
    for e in range(epochs):
        jid = 0
        for s0_, s1_ in split_shares(sents.offsets, 2):
            for s0, s1 in make_jobs(sents.offsets, s0_, s1_):
                firth_pairs(sents, Job(s0, s1, 0.05, 0.0, np.uint64(job_seed(seed, e, jid))), keep, a)
                jid += 1
        numpy_pairs(sents.ids, sents.offsets, keep, rng.random(len(sents.ids)), rng.integers(1, 6, len(sents.ids)), b)
    for w in words:
        i = vocab.index.get(w)
        if i is not None:
            print(f"  {w:10s} count {vocab.counts[i]:8,d} keep {keep[i]:.3f}: pairs firth {a[i]:9,d}, NumPy {b[i]:9,d} "
                  f"({a[i] / max(b[i], 1) - 1:+.2%})")
    big = b > 1000
    z = (a - b)[big] / np.sqrt((a + b)[big] * 3.0)  # ~3 pairs a kept occurrence: the variance of a sum of windows
    print(f"  {int(big.sum()):,} words with > 1,000 pairs: largest |z| {np.abs(z).max():.2f}; all pairs firth {a.sum():,}, "
          f"NumPy {b.sum():,} ({a.sum() / b.sum() - 1:+.3%})")


if __name__ == "__main__":
    sys.exit(main())
