"""``firth ngrams``: the character n-grams that make a fastText word vector, and their share.

Only argparse-level code at import time; numpy and the vectors load inside the handler.
"""

from __future__ import annotations

from firth.cli import add_parser


def register(sub) -> None:
    p = add_parser(
        sub,
        "ngrams",
        "show the character n-grams of a word in fastText vectors and each one's share of its vector",
        description=(
            "For each WORD, list the rows averaged into its fastText vector: the word's own row when it "
            "is in the vocabulary, then every character n-gram of <word> (minn..maxn characters, in "
            "Facebook's order, repeats included) with its hash bucket. 'share' is the row's contribution "
            "to the vector, (row / n) . v / |v|^2: the shares sum to 1. 'cos' is the row's cosine with v."
        ),
    )
    p.add_argument("vectors", help="fastText vectors (firth archive from --model fasttext-*, or Facebook .bin)")
    p.add_argument("words", nargs="+", help="words to decompose (seen in training or not)")
    p.add_argument("--sort", action="store_true", help="order the rows by share, largest first")
    p.set_defaults(func=cmd_ngrams)


def ngram_shares(kv, word: str):
    """(info, rows, v): rows = [(unit, bucket id or None, share, cos)] for the word's vector v."""
    import numpy as np

    info = kv.word_info(word)
    v = kv.get_vector(word).astype(np.float64)
    n = info["n_rows"]
    vv = float(v @ v)
    nv = float(np.sqrt(vv))
    rows = []

    def add(unit, bucket, row):
        row = np.asarray(row, dtype=np.float64)
        share = float((row / n) @ v / vv) if vv > 0 else 0.0
        nr = float(np.linalg.norm(row))
        cos = float(row @ v / (nr * nv)) if nr > 0 and nv > 0 else 0.0
        rows.append((unit, bucket, share, cos))

    key = info["word"]
    if info["in_vocab"]:
        add(f"{key} (word row)", None, kv.vectors_vocab[kv.key_to_index[key]])
    for g, h in zip(kv.ngrams(key), kv.ngram_ids(key)):
        add(g, h, kv.vectors_ngrams[h])
    return info, rows, v


def cmd_ngrams(args) -> int:
    from firth.embeddings.fasttext_vectors import FastTextVectors
    from firth.embeddings.formats import load_vectors
    from firth.errors import FirthError

    kv = load_vectors(args.vectors)
    if not isinstance(kv, FastTextVectors):
        raise FirthError(
            f"{args.vectors}: plain word vectors, not fastText: they have no n-grams "
            "(train with --model fasttext-sg or fasttext-cbow, or read a Facebook .bin)"
        )
    for i, word in enumerate(args.words):
        info, rows, v = ngram_shares(kv, word)
        if i:
            print()
        status = "in the vocabulary" if info["in_vocab"] else "not in the vocabulary (vector from its n-grams)"
        print(f"{info['word']}: {status}; {info['n_ngrams']} n-grams of {kv.minn}..{kv.maxn} characters, "
              f"{info['n_rows']} rows averaged")
        if info["zero_vector"]:
            print(f"  no n-gram of {kv.minn}..{kv.maxn} characters: its vector is zero (as in Facebook's fastText)")
            continue
        if args.sort:
            rows = sorted(rows, key=lambda r: -r[2])
        width = max(len(r[0]) for r in rows)
        print(f"  {'unit':<{width}}  {'bucket':>9}  {'share':>7}  {'cos':>6}")
        for unit, bucket, share, cos in rows:
            b = "-" if bucket is None else str(bucket)
            print(f"  {unit:<{width}}  {b:>9}  {share:>7.3f}  {cos:>6.3f}")
    return 0
