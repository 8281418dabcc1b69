"""``firth classify`` and ``firth tag``: train, test and use text classifiers and taggers.

Nothing heavy (torch, numba) is imported here at module level: only in the handlers.
"""

from __future__ import annotations

import argparse
import sys

from firth.errors import check


def _add_common_train(p):
    p.add_argument("--dev", metavar="DEV", help="dev file for early stopping (default: hold out 10%% of train, seeded)")
    p.add_argument("-o", "--output", required=True, metavar="MODEL", help="model directory to write (atomically)")
    p.add_argument("--vectors", metavar="V", help="pretrained firth vectors (any format) to initialise the word embeddings")
    p.add_argument("--epochs", type=int, default=None, help="maximum epochs (default: per architecture)")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: per architecture)")
    p.add_argument("--dim", type=int, default=None, help="embedding size when no --vectors are given (default 100)")
    p.add_argument("--patience", type=int, default=None, help="stop after this many epochs without dev improvement")
    p.add_argument("--seed", type=int, default=0, help="random seed (data split, initialisation, order)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: all cores)")
    p.add_argument("--max-minutes", type=float, default=None, help="stop training after this wall-clock time (neural models)")
    p.add_argument("--freeze", action="store_true", help="keep pretrained vectors fixed (neural models)")
    p.add_argument("--cell", choices=["lstm", "gru", "srnn", "slstm", "mlstm"], default=None,
                   help="recurrent cell of the biRNN (neural models; default lstm; slstm/mlstm: xLSTM, one head)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _test_parser(sub, kind: str, help: str, data_metavar: str, data_help: str, func):
    from firth.cli import add_parser

    p = add_parser(sub, "test", help)
    p.add_argument("model", help=f"model directory from 'firth {kind} train'")
    p.add_argument("test", metavar=data_metavar, help=data_help)
    p.set_defaults(func=func)
    return p


def register(sub):
    from firth.cli import add_group, add_parser
    from firth.tasks.avg import AvgConfig  # the defaults (numpy at import; no numba, no torch)

    # ---------------------------------------------------------------- classify
    csub = add_group(sub, "classify", "text classification: label<TAB>text or fastText '__label__X text' files",
                     "classify_command")
    p = add_parser(csub, "train", "train a classifier on label<TAB>text lines")
    p.add_argument("train", metavar="TRAIN.tsv",
                   help="training file, one 'label<TAB>text' per line, or fastText's '__label__X [__label__Y] text' "
                   "(detected from the content)")
    p.add_argument("--arch", choices=["avg", "bilstm"], default="avg",
                   help="avg: mean of word and word n-gram embeddings -> softmax (fastText style); bilstm: biLSTM acceptor -> MLP")
    p.add_argument("--ngrams", type=int, default=AvgConfig.ngrams, help="word n-grams up to this length (avg; 1: words only)")
    p.add_argument("--bucket", type=int, default=AvgConfig.bucket, help="hash slots for word n-grams (avg)")
    p.add_argument("--loss", choices=["softmax", "ova"], default="softmax",
                   help="avg: softmax (one label per text) or ova, one-vs-all logistic losses for several labels "
                   "per text (fastText's -loss ova); ova predicts every label with probability >= 0.5")
    p.add_argument("--freeze-epochs", type=int, default=None, metavar="N",
                   help="bilstm with --vectors: keep the pretrained vectors fixed for the first N epochs, then fine-tune (default 1; 0 fine-tunes from the start)")
    _add_common_train(p)
    p.set_defaults(func=_classify_train)
    _test_parser(csub, "classify", "evaluate a classifier: accuracy, macro-F1, per-class table, confusion matrix",
                 "TEST.tsv", "test file, 'label<TAB>text' lines", _classify_test)
    p = add_parser(csub, "predict", "label texts (one per line on stdin): prints label<TAB>probability "
                   "(ova models: every label predicted, as label<TAB>probability pairs on the line)")
    p.add_argument("model", help="model directory from 'firth classify train'")
    p.add_argument("input", nargs="?", default="-", help="text file (default: stdin)")
    p.add_argument("-k", type=int, default=None, metavar="K",
                   help="print the K most probable labels (fastText's predict k; default 1, ova: every label)")
    p.add_argument("--threshold", type=float, default=None, metavar="T",
                   help="print only labels with probability >= T, possibly none: an empty line "
                   "(fastText's predict threshold; default 0, ova: 0.5 and at least the top label)")
    p.set_defaults(func=_classify_predict)

    # ---------------------------------------------------------------- tag
    tsub = add_group(sub, "tag", "sequence tagging (POS, chunking, NER): CoNLL column files", "tag_command")
    p = add_parser(tsub, "train", "train a biLSTM tagger on a CoNLL file (token first, tag in --column)")
    p.add_argument("train", metavar="TRAIN.conll", help="training file: one token per line, blank line between sentences")
    p.add_argument("--column", type=int, default=-1, help="the gold tag column (Python index; -1: the last)")
    p.add_argument("--chars", action=argparse.BooleanOptionalAction, default=True,
                   help="concatenate a character biLSTM encoding of every token to its word vector (--no-chars: words only)")
    _add_common_train(p)
    p.set_defaults(func=_tag_train)
    p = _test_parser(tsub, "tag", "evaluate a tagger: token accuracy, and span P/R/F1 (conlleval rules) for BIO data",
                     "TEST.conll", "test file in the training file's format", _tag_test)
    p.add_argument("--column", type=int, default=None, help="gold tag column (default: the model's training column)")
    p = add_parser(tsub, "predict", "tag sentences (one per line, tokens separated by spaces): prints token/TAG")
    p.add_argument("model", help="model directory from 'firth tag train'")
    p.add_argument("input", nargs="?", default="-", help="text file (default: stdin)")
    p.set_defaults(func=_tag_predict)


def _say(msg):
    """Log to stderr; under torchrun only rank 0 does (every rank runs the same command)."""
    from firth.rnn.ddp import is_writer

    if is_writer():
        print(msg, file=sys.stderr)


def _check_common(args):
    for name in ("epochs", "dim", "patience"):
        v = getattr(args, name, None)
        check(v is None or v >= (0 if name == "patience" else 1), f"--{name} {v}: must be a positive number")
    check(args.lr is None or args.lr > 0, f"--lr {args.lr}: must be positive")
    check(args.threads >= 0, f"--threads {args.threads}: must be 0 (all cores) or more")


def _vectors(args):
    if not args.vectors:
        return None
    from firth.vectors import load_vectors

    kv = load_vectors(args.vectors)
    _say(f"vectors: {args.vectors} ({len(kv)} words, dim {kv.vector_size})")
    return kv


def _neural_options(args):
    opts = {}
    for name in ("epochs", "lr", "patience", "dim", "cell"):
        v = getattr(args, name)
        if v is not None:
            opts[name] = v
    if args.max_minutes is not None:
        opts["max_minutes"] = args.max_minutes
    opts["freeze"] = args.freeze
    opts["threads"] = args.threads
    return opts


def _check_output(args, kind):
    """Before any training: the model directory can be written and replaces nothing of the user's."""
    from firth.io import check_output

    check_output(args.output, kind, is_dir=True, option="-o", inputs=[args.train, args.dev, args.vectors])


def _classify_train(args):
    _check_common(args)
    _check_output(args, "classifier")
    check(args.ngrams >= 1, f"--ngrams {args.ngrams}: must be 1 or more")
    check(args.bucket >= 1, f"--bucket {args.bucket}: must be 1 or more")
    from firth.tasks.classify import train_classifier

    kv = _vectors(args)
    avg_config = rnn_options = None
    if args.arch == "avg":
        from firth.tasks.avg import AvgConfig

        given = {name: getattr(args, name) for name in ("epochs", "lr", "patience", "dim")}
        avg_config = AvgConfig(ngrams=args.ngrams, bucket=args.bucket, seed=args.seed, threads=args.threads,
                               loss=args.loss, **{k: v for k, v in given.items() if v is not None})
    else:
        check(args.loss == "softmax", f"--loss {args.loss}: one-vs-all is an option of --arch avg")
        rnn_options = _neural_options(args)
        if args.freeze_epochs is not None:
            check(args.freeze_epochs >= 0, f"--freeze-epochs {args.freeze_epochs}: must be 0 or more")
            rnn_options["freeze_epochs"] = args.freeze_epochs
    model = train_classifier(args.train, args.dev, arch=args.arch, vectors=kv, seed=args.seed, progress=not args.quiet,
                             avg_config=avg_config, rnn_options=rnn_options, log=_say)
    h = model.history
    key = "dev_accuracy" if h and "dev_accuracy" in h[-1] else "dev"
    if h and key in h[-1]:
        best = max(r.get(key, 0) for r in h)
        _say(f"trained {len(h)} epochs; best dev accuracy {best:.4f} (epoch {model.best_epoch}); {model.train_seconds:.1f}s")
    model.save(args.output, inputs=[args.train, args.dev, args.vectors])
    _say(f"model: {args.output}")
    return 0


def _classify_test(args):
    from firth.tasks.classify import evaluate_classifier, load_classifier

    model = load_classifier(args.model)
    rep = evaluate_classifier(model, args.test)
    print(rep.format())
    return 0


def _input_lines(path):
    if path == "-":
        return sys.stdin.read().splitlines()
    from firth.io import open_text

    with open_text(path) as f:
        return f.read().splitlines()


def _classify_predict(args):
    from firth.tasks.avg import OVA_THRESHOLD, AvgClassifier
    from firth.tasks.classify import load_classifier, top_labels

    check(args.k is None or args.k >= 1, f"-k {args.k}: must be 1 or more")
    check(args.threshold is None or 0.0 <= args.threshold <= 1.0,
          f"--threshold {args.threshold}: must be a probability between 0 and 1")
    model = load_classifier(args.model)
    lines = _input_lines(args.input)
    docs = [line.split() for line in lines]
    nonempty = [i for i, d in enumerate(docs) if d]
    multi = isinstance(model, AvgClassifier) and model.config.loss == "ova"
    picks = {}
    if nonempty:
        proba = model.predict_proba([docs[i] for i in nonempty])
        if args.k is None and args.threshold is None and multi:
            chosen = model.predict_labels([docs[i] for i in nonempty], threshold=OVA_THRESHOLD)
        else:
            k = args.k if args.k is not None else (None if multi else 1)
            chosen = top_labels(proba, k, args.threshold if args.threshold is not None else 0.0)
        picks = {i: (proba[n], chosen[n]) for n, i in enumerate(nonempty)}
    out = []
    for i in range(len(docs)):
        if i not in picks:
            out.append("")  # keep line alignment: an empty text gets an empty answer
            continue
        p, js = picks[i]
        out.append("\t".join(f"{model.labels.names[j]}\t{float(p[j]):.4f}" for j in js))
    sys.stdout.write("\n".join(out) + ("\n" if out else ""))
    return 0


def _tag_train(args):
    _check_common(args)
    _check_output(args, "tagger")
    from firth.tasks.tagging import train_tagger

    kv = _vectors(args)
    opts = _neural_options(args)
    opts["chars"] = args.chars
    model = train_tagger(args.train, args.dev, column=args.column, vectors=kv, seed=args.seed,
                         progress=not args.quiet, options=opts, log=_say)
    model.save(args.output, inputs=[args.train, args.dev, args.vectors])
    _say(f"model: {args.output}")
    return 0


def _tag_test(args):
    from firth.tasks.tagging import evaluate_tagger, load_tagger

    model = load_tagger(args.model)
    acc, span = evaluate_tagger(model, args.test, column=args.column)
    print(f"accuracy {acc:.4f}")
    if span is not None:
        print(f"precision {span.precision:.4f}")
        print(f"recall {span.recall:.4f}")
        print(f"f1 {span.f1:.4f}")
        print()
        print(span.format())
    return 0


def _tag_predict(args):
    from firth.tasks.tagging import load_tagger

    model = load_tagger(args.model)
    lines = _input_lines(args.input)
    sents = [line.split() for line in lines]
    idx = [i for i, s in enumerate(sents) if s]
    tags = model.predict([sents[i] for i in idx]) if idx else []
    res = dict(zip(idx, tags))
    out = []
    for i, s in enumerate(sents):
        out.append(" ".join(f"{t}/{g}" for t, g in zip(s, res[i])) if s else "")
    sys.stdout.write("\n".join(out) + ("\n" if out else ""))
    return 0
