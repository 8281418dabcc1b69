"""``firth lm``: train, evaluate, sample from word-level RNN language models; export their embeddings.

Nothing heavy is imported at module level (torch only inside the handlers).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from firth.errors import FirthError, check
from firth.lm.config import CELLS, HELP, OPTIMIZERS, LMConfig


def _vectors_api():
    from firth.vectors import KeyedVectors, load_vectors

    return KeyedVectors, load_vectors


def _cutoffs(text):
    try:
        return tuple(int(c) for c in text.split(",") if c.strip()) if text else ()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give comma-separated integers, e.g. 2000,10000") from None



def _on_model(lsub, name: str, help: str):
    """A sub-command whose first argument is a trained model directory."""
    from firth.cli import add_parser

    p = add_parser(lsub, name, help)
    p.add_argument("model", help="model directory from 'firth lm train'")
    return p

def register(sub):
    from firth.cli import add_group, add_parser

    lsub = add_group(sub, "lm", "word-level RNN language models (LSTM, GRU, S-RNN, sLSTM, mLSTM)", "lm_command")

    p = add_parser(lsub, "train", "train a language model (truncated BPTT, best model on --valid kept)")
    p.add_argument("train", metavar="TRAIN.txt", help="training text: tokens separated by spaces; <eos> added at line ends")
    p.add_argument("--valid", metavar="VALID.txt", help="validation text: drives the learning rate and picks the saved model")
    p.add_argument("-o", "--output", required=True, metavar="MODEL", help="model directory to write (atomically)")
    p.add_argument("--vectors", metavar="V", help="firth vectors (any format) to initialise the input embeddings")
    p.add_argument("--checkpoint", metavar="DIR", help="checkpoint directory: rewritten at every validation, resumed from")
    p.add_argument("--max-vocab", type=int, default=0, help="keep the N most frequent training words (0: all); others -> <unk>")
    p.add_argument("--quiet", action="store_true", help="no progress bar or log")
    defaults = LMConfig()
    for f in dataclasses.fields(LMConfig):
        opt = "--" + f.name.replace("_", "-")
        d = getattr(defaults, f.name)
        if f.name == "tied":
            p.add_argument(opt, action="store_true", help=HELP[f.name])
        elif f.name == "adaptive_softmax":
            p.add_argument(opt, type=_cutoffs, default=(), metavar="CUTOFFS", help=HELP[f.name])
        elif f.name == "cell":
            p.add_argument(opt, choices=CELLS, default=d, help=HELP[f.name])
        elif f.name == "optimizer":
            p.add_argument(opt, choices=OPTIMIZERS, default=d, help=HELP[f.name])
        else:
            p.add_argument(opt, type=type(d), default=d, help=HELP[f.name])
    p.set_defaults(func=_train)

    p = _on_model(lsub, "eval", "perplexity of a text (first line 'perplexity X'), tokens, out-of-vocabulary rate")
    p.add_argument("text", metavar="TEXT", help="text file, same conventions as training")
    p.add_argument("--batch", type=int, default=10, help="parallel streams (each starts after an <eos>)")
    p.add_argument("--workers", type=int, default=1, help="torch threads")
    p.set_defaults(func=_eval)

    p = _on_model(lsub, "generate", "sample text from a language model")
    p.add_argument("--prompt", default="", help="words to start from (unknown ones read as <unk>)")
    p.add_argument("--words", type=int, default=50, help="how many words to sample")
    p.add_argument("--temperature", type=float, default=1.0, help="softmax temperature (<1: safer, >1: wilder)")
    p.add_argument("--top-k", type=int, default=0, help="sample among the K most likely words only (0: all)")
    p.add_argument("--seed", type=int, default=1, help="random seed: the same seed gives the same text")
    p.set_defaults(func=_generate)

    p = _on_model(lsub, "embeddings", "write the model's input embeddings as firth vectors")
    p.add_argument("-o", "--output", required=True, metavar="V.firth", help="vectors file to write (native format)")
    p.set_defaults(func=_embeddings)


def _say(msg):
    """Log to stderr; under torchrun only rank 0 does (every rank runs the same command)."""
    from firth.rnn.ddp import is_writer

    if is_writer():
        print(msg, file=sys.stderr)


def _train(args):
    check(args.max_vocab >= 0, f"--max-vocab {args.max_vocab}: must be 0 (all) or more")
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(LMConfig)}
    cfg = LMConfig(**values)
    from firth.io import check_output
    from firth.lm.train import train

    check_output(args.output, "language-model", is_dir=True, inputs=[args.train, args.valid, args.vectors],
                 option="--output")
    kv = None
    if args.vectors:
        kv = _vectors_api()[1](args.vectors)
    log = None if args.quiet else _say
    model, vocab, history = train(cfg, args.train, args.valid, output=args.output, vectors=kv,
                                  checkpoint=args.checkpoint, progress=not args.quiet, log=log,
                                  max_vocab=args.max_vocab)
    best = [r["valid_ppl"] for r in history if r.get("best")]
    if not args.quiet:
        _say(f"model: {args.output}" + (f" (validation perplexity {best[-1]:.2f})" if best else ""))
    return 0


def _eval(args):
    check(args.batch >= 1, f"--batch {args.batch}: must be 1 or more")
    check(args.workers >= 1, f"--workers {args.workers}: must be 1 or more")
    import torch

    from firth.lm.data import read_ids
    from firth.lm.evaluate import evaluate
    from firth.lm.store import load_lm

    torch.set_num_threads(args.workers)
    model, vocab, _ = load_lm(args.model)
    ids, oov = read_ids(args.text, vocab)
    res = evaluate(model, ids, vocab.eos, args.batch, model.cfg.bptt)
    print(f"perplexity {res['perplexity']:.2f}")
    print(f"tokens {res['tokens']}")
    print(f"oov_rate {oov / res['tokens']:.4f}")
    return 0


def _generate(args):
    from firth.lm.generate import generate
    from firth.lm.store import load_lm

    model, vocab, _ = load_lm(args.model)
    words = generate(model, vocab, args.prompt, args.words, args.temperature, args.top_k, args.seed)
    print(" ".join(words).replace(" <eos> ", "\n").replace(" <eos>", "\n"))
    return 0


def _embeddings(args):
    from firth.lm.store import load_lm

    KeyedVectors, _ = _vectors_api()
    model, vocab, meta = load_lm(args.model)
    weights = model.encoder.weight.detach().numpy()
    counts = vocab.counts
    if counts is None:
        raise FirthError(f"{args.model}: the model has no word counts; it cannot be exported")
    import numpy as np

    kv = KeyedVectors(list(vocab.itos), weights.astype(np.float32), counts=np.asarray(counts, dtype=np.int64),
                      meta={"source": "firth lm", "model": str(args.model), "cell": model.cfg.cell})
    kv.save(args.output)
    _say(f"vectors: {args.output} ({len(vocab)} words, dim {weights.shape[1]})")
    return 0
