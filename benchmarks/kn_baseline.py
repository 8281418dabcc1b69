"""Interpolated Kneser-Ney n-gram baseline for the language-model benchmark (en-mix-lm).

A count-based floor for the neural figures: the same split, the same conventions as
``firth lm`` (whitespace tokens, ``<eos>`` at each line end, the closed 10k vocabulary with
``<unk>``, the text read as one stream so n-grams cross line ends, every test token predicted
once). Interpolated Kneser-Ney (Chen & Goodman 1998, one discount per order
D = n₁/(n₁ + 2n₂)); the highest order uses counts, the lower orders continuation counts;
the unigram level is interpolated with the uniform distribution so no word has probability 0.

Written here (a few dozen lines, plain Python) rather than with NLTK, whose ``KneserNeyInterpolated``
scores a 200k-token test set far too slowly for this session. The script checks that
the model's distribution sums to 1 over the vocabulary for sample contexts before it reports.

    python benchmarks/kn_baseline.py --order 3        # prints valid/test perplexity
"""

from __future__ import annotations

import argparse
import math
import time
from collections import Counter, defaultdict
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "lm" / "en-mix-lm"


def tokens(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            out.extend(line.split())
            out.append("<eos>")
    return out


class KneserNey:
    def __init__(self, toks, order=3):
        self.order = order
        self.vocab = sorted(set(toks) | {"<unk>", "<eos>"})
        self.V = len(self.vocab)
        n = order
        # counts[k]: k-gram → count (top order: real counts; lower: continuation counts N1+(• w))
        self.counts = [None] + [Counter() for _ in range(n)]
        top = Counter(zip(*[toks[i:] for i in range(n)]))
        self.counts[n] = top
        for k in range(n - 1, 0, -1):  # continuation count of a k-gram: distinct left extensions
            cont = Counter()
            for g in self.counts[k + 1]:
                cont[g[1:]] += 1
            self.counts[k] = cont
        # per context: total count, and number of distinct followers
        self.ctx_total = [None] + [defaultdict(int) for _ in range(n)]
        self.ctx_types = [None] + [defaultdict(int) for _ in range(n)]
        for k in range(1, n + 1):
            for g, c in self.counts[k].items():
                self.ctx_total[k][g[:-1]] += c
                self.ctx_types[k][g[:-1]] += 1
        self.D = [None]
        for k in range(1, n + 1):
            cc = Counter(self.counts[k].values())
            n1, n2 = cc.get(1, 0), cc.get(2, 0)
            self.D.append(n1 / (n1 + 2 * n2) if n1 + n2 else 0.5)

    def prob(self, w, ctx):
        """P(w | ctx) with ctx a tuple of up to order-1 previous words."""
        p = 1.0 / self.V  # level 0: uniform
        for k in range(1, self.order + 1):
            c = ctx[len(ctx) - (k - 1):] if k > 1 else ()
            if len(c) != k - 1:
                break
            total = self.ctx_total[k].get(c, 0)
            if total == 0:
                continue  # unseen context: keep the lower-order estimate
            D = self.D[k]
            count = self.counts[k].get(c + (w,), 0)
            p = max(count - D, 0.0) / total + D * self.ctx_types[k][c] / total * p
        return p

    def perplexity(self, toks):
        nll = 0.0
        hist = ["<eos>"] * (self.order - 1)  # the text starts after a line end
        for w in toks:
            nll -= math.log(self.prob(w, tuple(hist[-(self.order - 1):]) if self.order > 1 else ()))
            hist.append(w)
        return math.exp(nll / len(toks))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--order", type=int, default=3)
    ap.add_argument("--data", default=str(DATA))
    args = ap.parse_args()
    d = Path(args.data)
    t0 = time.perf_counter()
    train = tokens(d / "train.txt")
    lm = KneserNey(train, args.order)
    t1 = time.perf_counter()
    for ctx in [("<eos>", "the"), ("of", "the"), ("zzz", "qqq"), ("the", "<unk>")]:  # distributions sum to 1
        s = sum(lm.prob(w, ctx[-(args.order - 1):]) for w in lm.vocab)
        assert abs(s - 1) < 1e-9, (ctx, s)
    valid = lm.perplexity(tokens(d / "valid.txt"))
    test = lm.perplexity(tokens(d / "test.txt"))
    print(f"order {args.order}: vocabulary {lm.V}, discounts {[round(x, 3) for x in lm.D[1:]]}, "
          f"built in {t1 - t0:.1f}s, scored in {time.perf_counter() - t1:.1f}s")
    print(f"valid perplexity {valid:.2f}")
    print(f"test perplexity {test:.2f}")


if __name__ == "__main__":
    main()
