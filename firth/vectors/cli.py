"""``firth similar | analogy | convert | info | ngrams``: using trained vectors from the shell.

Only argparse-level code at import time; numpy and the vectors load inside the handlers.
"""

from __future__ import annotations

from firth.cli import add_parser

FORMAT_HELP = "any of: firth native, word2vec text/binary, fastText .vec/.bin (detected from content)"


def _vectors_arg(p):
    p.add_argument("vectors", help=f"vectors file ({FORMAT_HELP})")
    p.add_argument("--limit", type=int, default=None, help="load only the N most frequent words")


def _search_args(p, topn: int, what: str) -> None:
    p.add_argument("--topn", type=int, default=topn, help=f"how many {what} to show")
    p.add_argument("--restrict", type=int, default=None, help="search only the N most frequent words")


def register(sub) -> None:
    p = add_parser(sub, "similar", "nearest neighbours of words (cosine similarity)")
    _vectors_arg(p)
    p.add_argument("words", nargs="+", help="query words (normalised as the vectors were trained)")
    _search_args(p, 10, "neighbours")
    p.set_defaults(func=cmd_similar)

    p = add_parser(sub, "analogy", "solve A : B :: C : ? (man king woman -> queen)")
    _vectors_arg(p)
    p.add_argument("a", help="A (e.g. man)")
    p.add_argument("b", help="B (e.g. king)")
    p.add_argument("c", help="C (e.g. woman)")
    p.add_argument("--method", choices=["add", "mul"], default="add", help="3CosAdd (b - a + c) or 3CosMul (Levy & Goldberg 2014)")
    _search_args(p, 5, "answers")
    p.set_defaults(func=cmd_analogy)

    p = add_parser(sub, "convert", "convert vectors between formats (input format detected from content)")
    _vectors_arg(p)
    p.add_argument("output", help="output file (written atomically)")
    p.add_argument(
        "--format",
        choices=["native", "word2vec-text", "word2vec-binary", "vec", "fasttext-bin"],
        default="native",
        help="output format: firth native archive, word2vec C text or binary, fastText .vec, "
        "or a Facebook fastText .bin (fastText vectors only)",
    )
    p.set_defaults(func=cmd_convert)

    p = add_parser(sub, "info", "show size, dimensions, text normalisation and training settings of vectors")
    _vectors_arg(p)
    p.set_defaults(func=cmd_info)

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


def _check_positive(name, value):
    from firth.errors import check

    if value is not None:
        check(value > 0, f"--{name} {value}: must be a positive number")


def _load(args):
    from firth.vectors import load_vectors

    _check_positive("limit", args.limit)
    return load_vectors(args.vectors, limit=args.limit)


def cmd_similar(args) -> int:
    _check_positive("topn", args.topn)
    _check_positive("restrict", args.restrict)
    kv = _load(args)
    for word in args.words:
        hits = kv.most_similar(positive=[word], topn=args.topn, restrict_vocab=args.restrict)
        print(f"{word}:")
        for w, s in hits:
            print(f"  {s:.4f}  {w}")
    return 0


def cmd_analogy(args) -> int:
    _check_positive("topn", args.topn)
    _check_positive("restrict", args.restrict)
    kv = _load(args)
    hits = kv.analogy(args.a, args.b, args.c, method=args.method, topn=args.topn, restrict_vocab=args.restrict)
    print(f"{args.a} : {args.b} :: {args.c} : ?   (3Cos{args.method.capitalize()})")
    for w, s in hits:
        print(f"  {s:.4f}  {w}")
    return 0


def cmd_convert(args) -> int:
    from firth.io import check_file_output

    from firth.vectors.formats import is_vectors_file

    check_file_output(args.output, inputs=[args.vectors], option="output", accept=is_vectors_file)  # before loading
    kv = _load(args)
    kv.save(args.output, format=args.format)
    if args.format != "native" and not kv.normalizer.is_identity:
        _warn_normalisation_dropped(kv.normalizer, args.output, args.format)
    print(f"wrote {len(kv)} vectors of {kv.vector_size} dims to {args.output} ({args.format})")
    return 0


def _warn_normalisation_dropped(normalizer, output, fmt) -> None:
    """Only firth's native format records the text normalisation: gensim, word2vec and fastText
    read the others as plain word lists, so ``Москва`` misses ``москва`` there."""
    import sys

    rules = ", ".join(f"{k}={v}" for k, v in normalizer.to_dict().items() if v not in (False, "keep"))
    print(f"firth convert: warning: {output}: the {fmt} format does not keep the text normalisation "
          f"({rules}); other tools will not apply it: normalise queries yourself (e.g. lowercase them), "
          "or keep --format native", file=sys.stderr)


def cmd_info(args) -> int:
    import json

    from firth.vectors import detect_format

    kv = _load(args)
    print(f"file        {args.vectors} ({detect_format(args.vectors)})")
    print(f"class       {type(kv).__name__}")
    print(f"words       {len(kv)}")
    print(f"dimensions  {kv.vector_size}")
    print(f"normaliser  {kv.normalizer.describe()}")
    if kv.meta:
        print("settings    " + json.dumps(kv.meta, sort_keys=True))
    return 0


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
    from firth.vectors import FastTextVectors
    from firth.vectors import load_vectors
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
