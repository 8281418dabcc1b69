"""A/B of the training kernels against their version at an older commit, in one process.

    flock /tmp/firth-heavy.lock python benchmarks/ab_kernels.py [--base 07aa84c] [--words 2000000] [--runs 3]

For skip-gram (per-pair), CBOW, fastText skip-gram and fastText CBOW: the kernel of this
working tree and the one in ``--base`` (loaded from ``git show``; there every kernel took
its parameters one by one, before issue 12 grouped them) train the same encoded corpus
(the first ``--words`` words of en-mix) from the same initial matrices, one thread,
alternating (and which goes first), ``--runs`` times each. Prints the medians of the training words/s (CPU time
of the thread), their ratio (new / old), and whether both gave bit-identical matrices and
loss (they should: the grouped kernels only moved code into inlined helpers), and how many
``NRT_incref`` calls each compiled kernel makes outside its entry block (a reference count
taken inside the loops is an atomic add per pair or word: inlined helpers must not add any;
the kernels are recompiled without the cache for this).
"""

from __future__ import annotations

import argparse
import re
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))


def old_module(rev: str, path: str, name: str, tmp: Path):
    src = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{path}"], check=True, capture_output=True,
                         text=True).stdout
    f = tmp / f"{name}.py"
    f.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, f)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def loop_increfs(disp, args) -> int:
    """NRT_incref calls outside the entry block of the kernel's main LLVM function."""
    import numba

    opts = {k: v for k, v in disp.targetoptions.items() if k not in ("cache", "nopython")}
    fresh = numba.njit(**opts)(disp.py_func)
    fresh(*args)
    ir = list(fresh.inspect_llvm().values())[0]
    main = max(re.split(r"\ndefine ", ir), key=len)
    blocks = re.split(r"\n(?=[\w.$-]+:)", main)
    return sum(b.count("@NRT_incref(") for b in blocks[1:] if not b.startswith(("entry:", "B0:")))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", default="07aa84c", help="the commit whose kernels are the 'old' side")
    ap.add_argument("--words", type=int, default=2_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--bucket", type=int, default=200_000, help="fastText hash buckets")
    ap.add_argument("--only", default="", help="run only the kernels whose name contains this (e.g. SG)")
    args = ap.parse_args()
    from bench_word2vec import make_corpus

    from firth.train.corpus import encode_corpus
    from firth.train.fasttext import kernels as FK
    from firth.train.kernels import Job, Sampling, Sentences
    from firth.train.vocab import Vocab
    from firth.train.word2vec import kernels as WK
    from firth.vectors.subwords import subword_table

    enc = encode_corpus(make_corpus(args.words))
    vocab, mapping = Vocab.from_counts(enc.words, enc.counts, 5)
    enc.remap(mapping)
    keep = vocab.keep_probs(1e-3)
    prob, alias = vocab.noise_table(0.75)
    off, rows = subword_table(vocab.words, 3, 6, args.bucket)
    scale = FK.subword_scale(off, rows)
    V, d, ns = len(vocab), args.dim, enc.n_sentences
    sents, sampling, sub = Sentences(enc.ids, enc.offsets), Sampling(keep, prob, alias, 5, 5), FK.Subwords(off, rows, scale)
    old_args = (keep, prob, alias, 5, 5)
    init = np.random.default_rng(1)
    base0 = ((init.random((V + args.bucket, d), dtype=np.float32) - 0.5) / d).astype(np.float32)

    with tempfile.TemporaryDirectory(prefix="firth-ab-") as tmp:
        OW = old_module(args.base, "firth/train/word2vec/kernels.py", "ab_old_w2v_kernels", Path(tmp))
        OF = old_module(args.base, "firth/train/fasttext/kernels.py", "ab_old_ft_kernels", Path(tmp))
        tiny = Job(0, 1, 0.025, 0.025, np.uint64(1))
        w1, w2, w3 = base0[:V].copy(), np.zeros((V, d), np.float32), base0.copy()
        refs = {  # name: (new kernel, its args, old kernel, its args)
            "word2vec SG (pairs)": (WK.train_sg_pairs, (sents, tiny, w1, w2, sampling),
                                    OW.train_sg_pairs, (*sents, 0, 1, w1, w2, *old_args, *tiny[2:])),
            "word2vec CBOW (mean)": (WK.train_cbow, (sents, tiny, w1, w2, sampling, True),
                                     OW.train_cbow, (*sents, 0, 1, w1, w2, *old_args, *tiny[2:], True)),
            "fastText SG": (FK.train_ft_sg, (sents, tiny, w3, w2, sub, sampling),
                            OF.train_ft_sg, (*sents, 0, 1, w3, w2, off, rows, scale, *old_args, *tiny[2:])),
            "fastText CBOW": (FK.train_ft_cbow, (sents, tiny, w3, w2, sub, sampling),
                              OF.train_ft_cbow, (*sents, 0, 1, w3, w2, off, rows, *old_args, *tiny[2:])),
        }
        cases = {  # name: (new call, old call, rows of syn0)
            "word2vec SG (pairs)": (lambda j, a, b: WK.train_sg_pairs(sents, j, a, b, sampling),
                                    lambda j, a, b: OW.train_sg_pairs(*sents, j.s0, j.s1, a, b, *old_args, *j[2:]), V),
            "word2vec CBOW (mean)": (lambda j, a, b: WK.train_cbow(sents, j, a, b, sampling, True),
                                     lambda j, a, b: OW.train_cbow(*sents, j.s0, j.s1, a, b, *old_args, *j[2:], True), V),
            "fastText SG": (lambda j, a, b: FK.train_ft_sg(sents, j, a, b, sub, sampling),
                            lambda j, a, b: OF.train_ft_sg(*sents, j.s0, j.s1, a, b, off, rows, scale, *old_args, *j[2:]),
                            V + args.bucket),
            "fastText CBOW": (lambda j, a, b: FK.train_ft_cbow(sents, j, a, b, sub, sampling),
                              lambda j, a, b: OF.train_ft_cbow(*sents, j.s0, j.s1, a, b, off, rows, *old_args, *j[2:]),
                              V + args.bucket),
        }
        print(f"corpus: {enc.n_tokens:,} tokens, {V:,} words, dim {d}, window 5, negative 5, 1 thread; "
              f"old = {args.base}, medians of {args.runs}")
        print("\n| kernel | old words/s | new words/s | new / old | identical | increfs in loops (old, new) |\n"
              "|---|---|---|---|---|---|")
        for name, (new, old, nrows) in cases.items():
            if args.only not in name:
                continue
            for fn in (new, old):  # compile (or load from cache) outside the timing
                fn(Job(0, 1, 0.025, 0.025, np.uint64(1)), base0[:nrows].copy(), np.zeros((V, d), np.float32))
            times = {"new": [], "old": []}
            outs = {}
            for run in range(args.runs):  # alternate which side goes first
                for side, fn in ((("old", old), ("new", new)) if run % 2 == 0 else (("new", new), ("old", old))):
                    s0, s1 = base0[:nrows].copy(), np.zeros((V, d), np.float32)
                    t = time.process_time()
                    loss, words, _ = fn(Job(0, ns, 0.025, 0.0001, np.uint64(7)), s0, s1)
                    times[side].append(time.process_time() - t)
                    outs[side] = (loss, s0, s1)
            same = outs["new"][0] == outs["old"][0] and all(np.array_equal(a, b) for a, b in zip(outs["new"][1:], outs["old"][1:]))
            if not same:
                print("  differ:", outs["new"][0] - outs["old"][0], [float(np.abs(a - b).max()) for a, b in zip(outs["new"][1:], outs["old"][1:])])
            wo, wn = words / statistics.median(times["old"]), words / statistics.median(times["new"])
            kn, an, ko, ao = refs[name]
            inc = f"{loop_increfs(ko, ao)}, {loop_increfs(kn, an)}"
            print(f"| {name} | {wo / 1e6:.3f}M | {wn / 1e6:.3f}M | {wn / wo:.3f} | {'yes' if same else 'NO'} | {inc} |",
                  flush=True)
    enc.close()


if __name__ == "__main__":
    main()
