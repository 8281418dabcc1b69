"""Text classification: train / load / evaluate, whatever the architecture (avg or bilstm).

A model is a directory holding ``config.json`` (its ``format`` says which architecture) and
its weights as ``.npy`` (avg) or a torch state dict (bilstm, loaded with
``weights_only=True``); nothing is pickled.
"""

from __future__ import annotations

import os

import numpy as np

from firth.errors import FirthError
from firth.tasks.data import holdout_split, read_classification


def load_examples(path, labels=None):
    return read_classification(path, labels)


def split_train_dev(train, dev_path, seed, labels=None):
    """(train, dev, note): dev read from ``dev_path``, or 10% of train held out (seeded)."""
    if dev_path:
        dev = read_classification(dev_path)
        known = {lab for e in train for lab in e.labels}
        for e in dev:
            for lab in e.labels:
                if lab not in known:
                    raise FirthError(f"{dev_path}:{e.line}: label {lab!r} does not occur in the training data")
        return train, dev, f"dev: {dev_path} ({len(dev)} examples)"
    if len(train) < 10:
        return train, None, "dev: none (fewer than 10 training examples; no early stopping)"
    tr, dv = holdout_split(len(train), 0.1, seed)
    return [train[i] for i in tr], [train[i] for i in dv], f"dev: 10% of train held out ({len(dv)} examples, seed {seed})"


def train_classifier(train_path, dev_path=None, arch="avg", vectors=None, seed=0, progress=True, avg_config=None,
                     rnn_options=None, log=None, refit=True):
    """Train a classifier from files. Without ``dev_path``, 10% of train is held out (seeded)
    for early stopping; the averaged classifier is then refitted on all of train for the
    chosen number of epochs (cheap, and the held-out tenth is not wasted)."""
    if arch == "avg":
        from firth.rnn import ddp

        ddp.refuse("--arch avg")  # under torchrun: the biLSTM only
    full = read_classification(train_path)
    ova = arch == "avg" and avg_config is not None and avg_config.loss == "ova"
    if not ova:
        for e in full:
            if len(e.labels) > 1:
                raise FirthError(f"{train_path}:{e.line}: {len(e.labels)} labels on one line; a softmax classifier "
                                 "learns one label per text: use --loss ova (one-vs-all, several labels) with --arch avg")
    train, dev, note = split_train_dev(full, dev_path, seed)
    target = (lambda e: e.labels) if ova else (lambda e: e.label)
    if log:
        log(note)
    if arch == "avg":
        from firth.tasks.avg import AvgClassifier, AvgConfig

        cfg = avg_config or AvgConfig(seed=seed)
        m = AvgClassifier(cfg)
        m.fit(
            [e.tokens for e in train], [target(e) for e in train],
            [e.tokens for e in dev] if dev else None, [target(e) for e in dev] if dev else None,
            vectors=vectors, progress=progress,
        )
        if refit and not dev_path and dev:
            if log:
                log(f"refitting on all {len(full)} training examples for {m.best_epoch} epochs")
            history = m.history
            best = m.best_epoch
            import dataclasses

            # the same number of epochs, the learning rate decaying to 0 over them
            m = AvgClassifier(dataclasses.replace(cfg, epochs=best))
            m.fit([e.tokens for e in full], [target(e) for e in full], vectors=vectors, progress=progress)
            m.history = history
            m.best_epoch = best
        return m
    if arch == "bilstm":
        from firth.tasks.neural import AcceptorClassifier, format_epoch

        m = AcceptorClassifier(**(rnn_options or {}), seed=seed)
        m.fit(
            [e.tokens for e in train], [e.label for e in train],
            [e.tokens for e in dev] if dev else None, [e.label for e in dev] if dev else None,
            vectors=vectors, progress=progress, log=(lambda r: log(format_epoch(r))) if log else None,
        )
        return m
    raise FirthError(f"--arch {arch}: unknown architecture; use avg or bilstm")


def read_model_config(path):
    from firth.io import read_json, recover

    recover(path)  # a replacement a kill interrupted
    cfg_path = os.path.join(path, "config.json")
    if not os.path.isdir(path):
        raise FirthError(f"{path}: not a model directory (expected a directory made by 'firth classify/tag train')")
    if not os.path.exists(cfg_path):
        raise FirthError(f"{path}: no config.json; not a firth task model")
    return read_json(cfg_path, "task model")


def load_classifier(path):
    cfg = read_model_config(path)
    fmt = cfg.get("format", "")
    if not isinstance(fmt, str):
        raise FirthError(f"{path}: not a classifier model (format {fmt!r})")
    if fmt.startswith("firth-classifier-avg"):
        from firth.tasks.avg import AvgClassifier

        return AvgClassifier.load(path, cfg)
    if fmt.startswith("firth-classifier-rnn"):
        from firth.tasks.neural import AcceptorClassifier, format_epoch

        return AcceptorClassifier.load(path, cfg)
    raise FirthError(f"{path}: not a classifier model (format {fmt!r}); use 'firth tag' for taggers")


def evaluate_classifier(model, test_path):
    from firth.tasks.metrics import MultiLabelReport, classification_report

    ex = read_classification(test_path, model.labels.names)
    from firth.tasks.avg import AvgClassifier

    if isinstance(model, AvgClassifier) and model.config.loss == "ova":
        docs = [e.tokens for e in ex]
        return MultiLabelReport(model.labels.names, [set(model.labels.encode(e.labels).tolist()) for e in ex],
                                model.predict(docs).tolist(), [set(x) for x in model.predict_labels(docs)])
    for e in ex:
        if len(e.labels) > 1:
            raise FirthError(f"{test_path}:{e.line}: {len(e.labels)} labels on one line, but the model learnt one "
                             "label per text (softmax); train with --loss ova for multi-label data")
    pred = model.predict([e.tokens for e in ex])
    gold = model.labels.encode([e.label for e in ex])
    return classification_report(gold, pred, model.labels.names)


def top_labels(proba: np.ndarray, k: int | None = 1, threshold: float = 0.0) -> list[list[int]]:
    """fastText's ``predict FILE k threshold`` per row of ``proba``: the ``k`` most probable
    labels (``None``: all) whose probability reaches ``threshold``, most probable first; ties
    keep label order. A row may come back empty when no label reaches the threshold."""
    if k is not None and k < 1:
        raise FirthError(f"k {k}: must be 1 or more (or None for every label)")
    if not 0.0 <= threshold <= 1.0:
        raise FirthError(f"threshold {threshold}: must be between 0 and 1")
    out = []
    for p in np.asarray(proba):
        order = np.argsort(-p, kind="stable")[:k]
        out.append([int(i) for i in order if p[i] >= threshold])
    return out
