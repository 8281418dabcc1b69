"""Sequence tagging from CoNLL files: train / load / evaluate the biLSTM tagger."""

from __future__ import annotations

from firth.errors import FirthError
from firth.tasks.data import holdout_split, read_conll
from firth.tasks.metrics import conlleval, is_span_tagset, token_accuracy


def train_tagger(train_path, dev_path=None, column=-1, vectors=None, seed=0, progress=True, options=None, log=None):
    """Train from files. Without ``dev_path`` 10% of the training sentences (seeded) are held out."""
    from firth.tasks.neural import RNNTagger, format_epoch

    train = read_conll(train_path, column)
    if dev_path:
        dev = read_conll(dev_path, column)
        note = f"dev: {dev_path} ({len(dev)} sentences)"
    elif len(train) >= 10:
        tr, dv = holdout_split(len(train), 0.1, seed)
        train, dev = [train[i] for i in tr], [train[i] for i in dv]
        note = f"dev: 10% of train held out ({len(dev)} sentences, seed {seed})"
    else:
        dev, note = None, "dev: none (fewer than 10 sentences; no early stopping)"
    if log:
        log(note)
    span = is_span_tagset({t for s in train for t in s.tags})
    m = RNNTagger(seed=seed, **(options or {}))
    m.extra["column"] = column
    m.fit([s.tokens for s in train], [s.tags for s in train],
          [s.tokens for s in dev] if dev else None, [s.tags for s in dev] if dev else None,
          vectors=vectors, progress=progress, log=(lambda r: log(format_epoch(r))) if log else None, span=span)
    return m


def load_tagger(path):
    from firth.tasks.classify import read_model_config
    from firth.tasks.neural import TAGGER_FORMAT, RNNTagger

    cfg = read_model_config(path)
    if cfg.get("format") != TAGGER_FORMAT:
        raise FirthError(f"{path}: not a tagger model (format {cfg.get('format')!r}); use 'firth classify' for classifiers")
    return RNNTagger.load(path, cfg)


def evaluate_tagger(model, test_path, column=None):
    """(token accuracy, SpanReport or None). Span scores when the model's tags are BIO-like."""
    col = model.extra.get("column", -1) if column is None else column
    sents = read_conll(test_path, col)
    known = set(model.labels.names)
    gold_tags = [t for s in sents for t in s.tags]
    unknown = [t for t in gold_tags if t not in known]
    if unknown and len(unknown) == len(gold_tags):
        read_conll(test_path, col, tags=known)  # raises, naming the first line
    if unknown:
        # real test sets can hold tags the training data lacks (CoNLL-2000: I-LST); they are
        # scored as errors, as conlleval does, and reported
        import sys

        kinds = sorted(set(unknown))
        print(f"firth: warning: {test_path}: {len(unknown)} tokens have gold tags the model never saw in training "
              f"({', '.join(kinds[:5])}{', ...' if len(kinds) > 5 else ''}); they count as errors", file=sys.stderr)
    pred = model.predict([s.tokens for s in sents])
    gold = [s.tags for s in sents]
    acc = token_accuracy(gold, pred)
    span = conlleval(gold, pred) if model.extra.get("span") or is_span_tagset(model.labels.names) else None
    return acc, span
