"""``firth train``: train word2vec (or fastText) vectors on a corpus.

Only argparse-level code at import time: numba, numpy-heavy modules and the trainers are
imported inside the handler, and nothing here (or in the trainers) ever imports torch.
"""

from __future__ import annotations

from firth.cli import add_parser

MODELS = ("sg", "cbow", "fasttext-sg", "fasttext-cbow")


def register(sub) -> None:
    p = add_parser(
        sub,
        "train",
        "train word vectors (word2vec skip-gram/CBOW with negative sampling, or fastText)",
        description=(
            "Train word vectors on CORPUS (files with one sentence per line, or text8-style one-line "
            "files; .gz/.bz2/.xz read transparently; directories give all their files). "
            "The output is written atomically."
        ),
    )
    p.add_argument("corpus", nargs="+", help="corpus files or directories")
    p.add_argument("-o", "--output", required=True, help="output vectors file")
    p.add_argument("--format", choices=["native", "word2vec-text", "word2vec-binary", "vec"], default="native",
                   help="output format: firth native archive (keeps counts, settings, normalisation), word2vec C text or binary, fastText .vec")
    p.add_argument("--model", choices=MODELS, default="sg",
                   help="skip-gram or CBOW (word2vec), or their fastText subword versions")
    p.add_argument("--dim", type=int, default=100, help="vector dimensions")
    p.add_argument("--window", type=int, default=5, help="maximum context window (shrunk at random per position)")
    p.add_argument("--negative", type=int, default=5, help="negative samples per positive example")
    p.add_argument("--epochs", type=int, default=5, help="passes over the corpus")
    p.add_argument("--min-count", type=int, default=5, help="ignore words occurring fewer times")
    p.add_argument("--max-vocab", type=int, default=None, help="keep only the N most frequent words (None: no limit)")
    p.add_argument("--sample", type=float, default=1e-3, help="subsampling threshold for frequent words (0 = off)")
    p.add_argument("--alpha", type=float, default=0.025, help="initial learning rate")
    p.add_argument("--min-alpha", type=float, default=1e-4, help="final learning rate (linear decay over all epochs)")
    p.add_argument("--ns-exponent", type=float, default=0.75,
                   help="noise distribution = unigram ** this (1.0 = corpus frequency, 0 = uniform)")
    p.add_argument("--workers", type=int, default=None, help="training threads (None: the number of CPU cores, at most 8)")
    p.add_argument("--seed", type=int, default=1, help="random seed (with --workers 1 results are bit-identical)")
    p.add_argument("--lowercase", action="store_true", help="lowercase tokens (saved with the vectors, applied to lookups)")
    p.add_argument("--digits", choices=["keep", "zero"], default="keep", help="map every digit to 0 (saved with the vectors)")
    p.add_argument("--punct", choices=["keep", "strip"], default="keep",
                   help="strip punctuation at both ends of tokens (saved with the vectors)")
    p.add_argument("--cbow-sum", action="store_true", help="CBOW: sum the context vectors instead of averaging them")
    p.add_argument("--tied", action="store_true",
                   help="one matrix for words and contexts (the 'only learnable parameter is E' variant)")
    p.add_argument("--kernel", choices=["auto", "pairs", "batch"], default="auto",
                   help="skip-gram kernel: word2vec.c per-pair updates, or HogBatch (negatives shared across a window); auto = batch (measured equal quality, faster)")
    p.add_argument("--checkpoint", metavar="DIR", default=None,
                   help="save a checkpoint to DIR after every epoch, and resume from it if one is there (None: no checkpoints)")
    p.add_argument("--max-sentence-length", type=int, default=10_000,
                   help="longer lines are cut into pieces of this many tokens (no token is dropped)")
    p.add_argument("--minn", type=int, default=3, help="fastText: minimum character n-gram length")
    p.add_argument("--maxn", type=int, default=6, help="fastText: maximum character n-gram length")
    p.add_argument("--bucket", type=int, default=2_000_000, help="fastText: number of hash buckets for n-grams")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    p.add_argument("--distributed", action="store_true",
                   help="one rank of a torchrun job (torchrun --nproc-per-node N -m firth train ... --distributed): "
                        "each rank reads its byte range of the corpus, the ranks keep one model (docs/distributed.md)")
    p.add_argument("--sync-words", type=int, default=1_000_000,
                   help="--distributed: words each rank trains between two synchronisations of the model")
    p.add_argument("--sync-mode", choices=["sum", "mean"], default="sum",
                   help="--distributed: add the ranks' updates (as Hogwild threads do), or average them (model averaging, as Spark MLlib; loses quality, kept for measurement)")
    p.add_argument("--dist-timeout", type=float, default=900.0,
                   help="--distributed: seconds a rank waits for the others before the job fails")
    p.set_defaults(func=cmd_train)


def _check_output(path) -> None:
    from pathlib import Path

    from firth.errors import FirthError

    out = Path(path)
    if out.is_dir():
        raise FirthError(f"{out}: is a directory; give an output file name")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise FirthError(f"{out}: directory {parent} does not exist")


def make_trainer(args):
    """The trainer object for ``args`` (Word2Vec, or fastText's FastText)."""
    from firth.text import Normalizer

    normalizer = Normalizer(lowercase=args.lowercase, digits=args.digits, punct=args.punct)
    common = dict(
        dim=args.dim, window=args.window, negative=args.negative, epochs=args.epochs, min_count=args.min_count,
        sample=args.sample, alpha=args.alpha, min_alpha=args.min_alpha, ns_exponent=args.ns_exponent,
        workers=args.workers, seed=args.seed, max_vocab=args.max_vocab, cbow_mean=not args.cbow_sum,
        tied=args.tied, normalizer=normalizer, kernel=args.kernel, progress=not args.quiet,
        max_sentence_length=args.max_sentence_length,
    )
    if args.model.startswith("fasttext-"):
        from firth.train.fasttext import FastText

        return FastText(model=args.model.split("-", 1)[1], minn=args.minn, maxn=args.maxn, bucket=args.bucket, **common)
    from firth.train.word2vec import Word2Vec

    return Word2Vec(model=args.model, **common)


def cmd_train(args) -> int:
    import sys
    import time

    t0 = time.perf_counter()
    _check_output(args.output)
    if args.distributed:  # torch is imported on this path only
        from firth.train.distributed import run, torchrun_env

        torchrun_env()
        return run(make_trainer(args), args.corpus, args.output, fmt=args.format, checkpoint=args.checkpoint,
                   sync_words=args.sync_words, mode=args.sync_mode, timeout_s=args.dist_timeout, quiet=args.quiet)
    trainer = make_trainer(args)
    try:
        trainer.train(args.corpus, checkpoint=args.checkpoint)
        kv = trainer.vectors(copy=False)  # saved and done: no copy of the matrix
        kv.save(args.output, format=args.format)
    finally:
        close = getattr(trainer, "close", None)
        if close is not None:
            close()
    if not args.quiet:
        losses = ", ".join(f"{x:.4f}" for x in getattr(trainer, "epoch_losses", []))
        words = getattr(trainer, "words_trained", 0)
        secs = getattr(trainer, "train_seconds", 0.0) or 1e-9
        print(
            f"wrote {args.output}: {len(kv):,} words x {kv.vector_size} dims; "
            f"{words:,} words trained in {secs:.1f} s ({words / secs:,.0f} words/s); "
            f"loss per epoch: {losses}; total {time.perf_counter() - t0:.1f} s",
            file=sys.stderr,
        )
    return 0


def main(argv=None) -> int:
    """``python -m firth.train.cli ...``: the train command alone (no other areas imported)."""
    import argparse
    import sys

    from firth.errors import FirthError

    ap = argparse.ArgumentParser(prog="firth")
    sub = ap.add_subparsers(dest="command", required=True)
    register(sub)
    args = ap.parse_args(["train", *(sys.argv[1:] if argv is None else argv)])
    try:
        return cmd_train(args)
    except FirthError as e:
        print(f"firth: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
