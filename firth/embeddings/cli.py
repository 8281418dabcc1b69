"""``firth similar | analogy | convert | info``: using trained vectors from the shell."""

from __future__ import annotations

from firth.cli import add_parser

FORMAT_HELP = "any of: firth native, word2vec text/binary, fastText .vec/.bin (detected from content)"


def _vectors_arg(p):
    p.add_argument("vectors", help=f"vectors file ({FORMAT_HELP})")
    p.add_argument("--limit", type=int, default=None, help="load only the N most frequent words")


def register(sub) -> None:
    p = add_parser(sub, "similar", "nearest neighbours of words (cosine similarity)")
    _vectors_arg(p)
    p.add_argument("words", nargs="+", help="query words (normalised as the vectors were trained)")
    p.add_argument("--topn", type=int, default=10, help="how many neighbours to show")
    p.add_argument("--restrict", type=int, default=None, help="search only the N most frequent words")
    p.set_defaults(func=cmd_similar)

    p = add_parser(sub, "analogy", "solve A : B :: C : ? (man king woman -> queen)")
    _vectors_arg(p)
    p.add_argument("a", help="A (e.g. man)")
    p.add_argument("b", help="B (e.g. king)")
    p.add_argument("c", help="C (e.g. woman)")
    p.add_argument("--method", choices=["add", "mul"], default="add", help="3CosAdd (b - a + c) or 3CosMul (Levy & Goldberg 2014)")
    p.add_argument("--topn", type=int, default=5, help="how many answers to show")
    p.add_argument("--restrict", type=int, default=None, help="search only the N most frequent words")
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


def _check_positive(name, value):
    from firth.errors import check

    if value is not None:
        check(value > 0, f"--{name} {value}: must be a positive number")


def _load(args):
    from firth.embeddings.formats import load_vectors

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
    kv = _load(args)
    kv.save(args.output, format=args.format)
    print(f"wrote {len(kv)} vectors of {kv.vector_size} dims to {args.output} ({args.format})")
    return 0


def cmd_info(args) -> int:
    import json

    from firth.embeddings.formats import detect_format

    kv = _load(args)
    print(f"file        {args.vectors} ({detect_format(args.vectors)})")
    print(f"class       {type(kv).__name__}")
    print(f"words       {len(kv)}")
    print(f"dimensions  {kv.vector_size}")
    print(f"normaliser  {kv.normalizer.describe()}")
    if kv.meta:
        print("settings    " + json.dumps(kv.meta, sort_keys=True))
    return 0
