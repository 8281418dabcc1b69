"""``firth train``: train word2vec (or fastText) vectors on a corpus.

Only argparse-level code at import time: numba, numpy-heavy modules and the trainers are
imported inside the handler, and nothing here (or in the trainers) ever imports torch.
"""

from __future__ import annotations

import argparse

from firth.cli import add_parser
from firth.train.config import cli_options

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
    for flag, kw in cli_options():  # every setting, its default and help from firth.train.config
        p.add_argument(flag, **kw)
    p.add_argument("--lowercase", action="store_true", help="lowercase tokens (saved with the vectors, applied to lookups)")
    p.add_argument("--digits", choices=["keep", "zero"], default="keep", help="map every digit to 0 (saved with the vectors)")
    p.add_argument("--punct", choices=["keep", "strip"], default="keep",
                   help="strip punctuation at both ends of tokens (saved with the vectors)")
    p.add_argument("--checkpoint", metavar="DIR", default=None,
                   help="save a checkpoint to DIR after every epoch, and resume from it if one is there (None: no checkpoints)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    p.add_argument("--distributed", action="store_true",
                   help="one rank of a torchrun job (torchrun --nproc-per-node N -m firth train ... --distributed): "
                        "each rank reads its byte range of the corpus, the ranks keep one model (docs/distributed.md)")
    p.add_argument("--sync-words", type=int, default=None,
                   help="--distributed: words each rank trains between two synchronisations of the model "
                        "(default 100,000 / the number of ranks at 1-2 ranks, 6,250 / the number of ranks from 3: "
                        "docs/distributed.md)")
    p.add_argument("--sync-mode", default=None, metavar="{sum,mean,touched,hot,adasum,bound}",
                   help="--distributed (default: sum at 1-2 ranks for word2vec, hot for fastText and from 3): add the ranks' updates (as Hogwild "
                        "threads do), average them (model averaging, "
                        "as Spark MLlib; loses quality, kept for measurement), or average each row over the ranks "
                        "that changed it, or that for the hot rows only (--sync-hot) and the sum for the others, "
                        "or combine each row's updates by Adasum, or sum them with each row's move capped "
                        "(--sync-bound) (docs/distributed.md)")
    p.add_argument("--sync-bound", type=float, default=2.0,
                   help="--sync-mode bound: a row's summed move is at most this many times the longest move one "
                        "rank made (default 2)")
    p.add_argument("--sync-hot", type=float, default=None,
                   help="--sync-mode hot: a row (a word's, or an n-gram's counted by the words that hold it) "
                        "expected at least this many times between two syncs, in all ranks' text together, is "
                        "averaged over the ranks (default 16; 1.5 for fastText from 3 ranks: docs/distributed.md)")
    p.add_argument("--sync-rare", type=float, default=None,
                   help="--distributed: sync a word's rows about once per this many of its expected occurrences "
                        "(all ranks), rare words less often than hot ones, every row at an epoch's end "
                        "(default: 64 at 1-2 ranks with --sync-overlap, 0 (every touched row at every sync) "
                        "without; 16 from 3 ranks; docs/distributed.md)")
    p.add_argument("--sync-overlap", action=argparse.BooleanOptionalAction, default=None,
                   help="--distributed: post each synchronisation's all-reduce and train on; its sum is applied at "
                        "the next one (the other ranks' updates arrive one interval later; --sync-mode sum or hot) "
                        "(default: on at 1-2 ranks for word2vec; off for fastText and from 3 ranks; "
                        "docs/distributed.md)")
    p.add_argument("--sync-wire", choices=["float32", "bfloat16"], default=None,
                   help="--distributed: send the synchronised updates as float32, or as bfloat16 (half the bytes; "
                        "summed into the float32 model) (default: bfloat16 with --sync-overlap, else float32)")
    p.add_argument("--dist-timeout", type=float, default=900.0,
                   help="--distributed: seconds a rank waits for the others before the job fails")
    p.set_defaults(func=cmd_train)


def _check_output(args) -> None:
    """Fail fast, before hours of training: -o must be a new file or a vectors file in a
    writable place, not an input (nor inside a corpus directory), not the checkpoint."""
    import os

    from firth.errors import FirthError
    from firth.io import check_file_output

    from firth.vectors.formats import is_vectors_file

    check_file_output(args.output, inputs=list(args.corpus), option="-o", accept=is_vectors_file)
    if args.checkpoint is not None:
        if os.path.abspath(args.checkpoint) == os.path.abspath(args.output):
            raise FirthError(f"{args.output}: -o and --checkpoint name the same path; give them different ones")
        from firth.train.checkpoint import check_checkpoint_dir

        check_checkpoint_dir(args.checkpoint, inputs=list(args.corpus))


def make_trainer(args):
    """The trainer object for ``args`` (Word2Vec, or fastText's FastText), its config from the options."""
    import dataclasses

    from firth.text import Normalizer

    normalizer = Normalizer(lowercase=args.lowercase, digits=args.digits, punct=args.punct)
    if args.model.startswith("fasttext-"):
        from firth.train.fasttext import FastText as Trainer
    else:
        from firth.train.word2vec import Word2Vec as Trainer
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(Trainer.Config) if f.name != "model"}
    config = Trainer.Config(model=args.model.rsplit("-", 1)[-1],
                            **{k: v for k, v in given.items() if v is not None})  # None: the config's default
    return Trainer(config, normalizer=normalizer, progress=not args.quiet)


def cmd_train(args) -> int:
    import sys
    import time

    t0 = time.perf_counter()
    _check_output(args)
    if args.distributed:  # torch is imported on this path only
        from firth.train.distributed import run, torchrun_env

        torchrun_env()
        return run(make_trainer(args), args.corpus, args.output, fmt=args.format, checkpoint=args.checkpoint,
                   sync_words=args.sync_words, mode=args.sync_mode, timeout_s=args.dist_timeout, quiet=args.quiet,
                   sync_rare=args.sync_rare, wire=args.sync_wire, sync_hot=args.sync_hot,
                   sync_bound=args.sync_bound, overlap=args.sync_overlap)
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
    import signal

    from firth.cli import _terminate

    previous = signal.signal(signal.SIGTERM, _terminate)  # SIGTERM unwinds like Ctrl-C, as in `firth`
    try:
        return cmd_train(args)
    except FirthError as e:
        print(f"firth: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("firth: interrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    raise SystemExit(main())
