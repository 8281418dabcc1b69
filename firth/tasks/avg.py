"""Averaged-embedding text classifier (fastText supervised style), trained with Numba.

A document is the mean of the embeddings of its words and of its hashed word n-grams
(2..``ngrams``); a linear softmax layer maps that mean to class probabilities. Like fastText,
an end-of-sentence token ``</s>`` is appended to every text, words unseen in training are
dropped, and n-grams are hashed into ``bucket`` slots (only the slots seen in training get a
row, which keeps models small: an unseen slot has no information anyway).

Defaults reach fastText's accuracy without tuning: 25 epochs at lr 0.5 (linear decay),
dim 100, bigrams, early stopping on dev accuracy (best epoch kept).
"""

from __future__ import annotations

import array
import collections
import json
import math
import os
import time
import zlib
from dataclasses import asdict, dataclass, replace

import numpy as np

from firth.errors import FirthError
from firth.io import atomic_dir
from firth.tasks.data import Labels
from firth.text import Normalizer

EOS = "</s>"
FORMAT = "firth-classifier-avg/1"


@dataclass(frozen=True)
class AvgConfig:
    """The averaged classifier's settings (frozen: ``fit`` never changes them; a model trained
    on pretrained vectors records their dimension in a new config, ``dataclasses.replace``)."""

    dim: int = 100
    ngrams: int = 2
    bucket: int = 2_000_000
    epochs: int = 25
    lr: float = 0.5
    min_count: int = 1
    patience: int = 10
    select_se: float = 1.0  # keep the latest epoch within this many standard errors of the best dev accuracy
    threads: int = 0  # 0: all cores
    seed: int = 0
    lowercase: bool = False  # extra option; pretrained vectors bring their own normaliser
    loss: str = "softmax"  # "softmax": one label per text; "ova": one-vs-all, several labels (fastText -loss ova)

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise FirthError(f"--loss {self.loss!r}: expected one of {', '.join(LOSSES)}")


LOSSES = ("softmax", "ova")
OVA_THRESHOLD = 0.5  # a label is predicted when its own sigmoid probability reaches this (fastText predict -t)


def _word_hash(w: str) -> int:
    return zlib.crc32(w.encode("utf-8"))


def _sorted_unique(x, bound):
    """np.unique(x) for ints in [0, bound): a flag per slot when that is small (numpy 2.4's
    np.unique takes 7 s on 5M bucket ids; this, 0.03 s), else a sort."""
    if bound <= max(1 << 22, 4 * len(x)):
        seen = np.zeros(bound, dtype=np.bool_)
        seen[x] = True
        return np.flatnonzero(seen).astype(np.int64)
    s = np.sort(x)
    return s[np.concatenate([[True], s[1:] != s[:-1]])] if len(s) else s


def _bucket_rows(buckets, b, bound):
    """(position of each b in the sorted ``buckets``, whether it is there): a table lookup
    when ``bound`` is small, else a binary search."""
    if bound <= max(1 << 22, 4 * len(b)):
        table = np.full(bound, -1, dtype=np.int64)
        table[buckets] = np.arange(len(buckets))
        pos = table[b]
        found = pos >= 0
        return np.where(found, pos, 0), found
    pos = np.minimum(np.searchsorted(buckets, b), len(buckets) - 1)
    return pos, buckets[pos] == b


def _release_free_memory():
    """Hand memory that Python has freed back to the OS (glibc keeps freed heap pages of
    the feature pass, ~50 MB on long documents); a no-op where ``malloc_trim`` is absent."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def reference_sgd_step(W_in, W_out, rows, y, lr):
    """Readable NumPy oracle of one SGD step (see avg_kernels); updates in place, returns loss."""
    h = W_in[rows].mean(axis=0)
    logits = W_out @ h
    p = np.exp(logits - logits.max())
    p /= p.sum()
    loss = -np.log(p[y])
    g = lr * ((np.arange(len(p)) == y).astype(W_out.dtype) - p)
    grad_h = g @ W_out
    W_out += np.outer(g, h)
    np.add.at(W_in, rows, grad_h / len(rows))
    return float(loss)


def reference_ova_step(W_in, W_out, rows, gold, lr):
    """Readable NumPy oracle of one one-vs-all step (``gold``: the example's label ids)."""
    h = W_in[rows].mean(axis=0)
    s = 1.0 / (1.0 + np.exp(-(W_out @ h)))
    t = np.zeros(len(s), dtype=W_out.dtype)
    t[list(gold)] = 1.0
    loss = -np.sum(t * np.log(s) + (1 - t) * np.log(1 - s))
    g = lr * (t - s)
    grad_h = g @ W_out
    W_out += np.outer(g, h)
    np.add.at(W_in, rows, grad_h / len(rows))
    return float(loss)


class AvgClassifier:
    """Averaged word + n-gram embeddings -> softmax. ``fit`` on lists of token lists."""

    def __init__(self, config: AvgConfig | None = None):
        self.config = config or AvgConfig()
        self.labels: Labels | None = None
        self.words: list[str] = []
        self.word_index: dict[str, int] = {}
        self.buckets = np.zeros(0, dtype=np.int64)  # sorted bucket ids that have a row
        self.W_in = None
        self.W_out = None
        self.normalizer: Normalizer | None = None  # from pretrained vectors, if any
        self.history: list[dict] = []
        self.train_seconds = 0.0

    # ------------------------------------------------------------ features
    def _norm(self, tok: str) -> str:
        if self.normalizer is not None:
            tok = self.normalizer(tok)
        if self.config.lowercase:
            tok = tok.lower()
        return tok

    def _types(self, docs):
        """(distinct tokens, int32 token numbers, offsets) over docs, each with EOS appended.

        The only per-token work is one dict lookup; normalising, the vocabulary lookup and
        hashing then happen once per distinct token (long documents repeat their words: a
        20,000-passage set has 5M tokens but 150k distinct ones). Number 0 is EOS, keyed by
        "" (which ``split()`` never yields) so that a literal ``</s>`` token is normalised
        like any other token.
        """
        types: dict[str, int] = collections.defaultdict()
        types.default_factory = types.__len__  # a new token gets the next number, all in C
        types[""] = 0
        num = types.__getitem__
        tids = array.array("i")
        offs = np.empty(len(docs) + 1, dtype=np.int64)
        offs[0] = 0
        for i, toks in enumerate(docs):
            tids.extend(map(num, toks))
            tids.append(0)
            offs[i + 1] = len(tids)
        return list(types), np.frombuffer(tids, dtype=np.int32), offs

    def _flat(self, docs, typed=None):
        """(word_ids, word_hashes, offsets) over docs, each with EOS appended."""
        keys, tids, offs = typed if typed is not None else self._types(docs)
        norm = [EOS] + [self._norm(t) for t in keys[1:]]
        index = self.word_index
        wid = np.array([index.get(t, -1) for t in norm], dtype=np.int64)[tids]
        wh = np.array([_word_hash(t) for t in norm], dtype=np.uint64)[tids]
        return wid, wh, offs

    def features(self, docs, grow: bool = False, typed=None):
        """Flat feature rows and offsets for docs. ``grow``: add unseen n-gram buckets (training).
        ``typed``: ``_types(docs)`` when the caller has it already."""
        from firth.tasks.kernels import ngram_features

        wid, wh, offs = self._flat(docs, typed)
        n_max = max(1, self.config.ngrams)
        cap = len(wid) * n_max
        ids = np.empty(cap, dtype=np.int64)
        is_ng = np.empty(cap, dtype=np.bool_)
        out_offs = np.empty(len(offs), dtype=np.int64)
        k = ngram_features(wid, wh, offs, n_max, self.config.bucket, ids, is_ng, out_offs)
        ids, is_ng = ids[:k], is_ng[:k]
        nw = len(self.words)
        if grow:
            self.buckets = _sorted_unique(np.concatenate([self.buckets, ids[is_ng]]), self.config.bucket)
        keep = np.ones(k, dtype=np.bool_)
        if is_ng.any():
            b = ids[is_ng]
            if len(self.buckets):
                pos, found = _bucket_rows(self.buckets, b, self.config.bucket)
            else:
                pos = np.zeros(len(b), dtype=np.int64)
                found = np.zeros(len(b), dtype=np.bool_)
            ids[is_ng] = nw + pos
            keep[np.flatnonzero(is_ng)[~found]] = False
        if not keep.all():
            n_ex = len(out_offs) - 1
            ex = np.repeat(np.arange(n_ex), np.diff(out_offs))[keep]
            ids = ids[keep]
            out_offs = np.concatenate([[0], np.cumsum(np.bincount(ex, minlength=n_ex))]).astype(np.int64)
        if len(self.words) + len(self.buckets) < 2**31:  # rows fit int32: half the memory of the feature list
            ids = ids.astype(np.int32)
        return ids, out_offs

    # ------------------------------------------------------------ training
    def fit(self, train_docs, train_labels, dev_docs=None, dev_labels=None, vectors=None, progress=True, log=None,
            stop_after=None):
        """Train. ``vectors``: a firth KeyedVectors to initialise word rows (its dim wins).

        The learning rate decays linearly to 0 over ``config.epochs``. With dev data,
        training stops after ``patience`` epochs without a new best dev accuracy, and the
        model kept is chosen by the one-standard-error rule: the latest epoch whose dev
        accuracy is within ``select_se`` standard errors (sqrt(a(1-a)/n_dev)) of the best so
        far. Dev accuracy on a thousand examples varies by about a point between epochs, so
        picking the single best epoch mostly picks noise -- often an early epoch still at a
        high learning rate, which generalises worse than the annealed later ones
        (``select_se=0`` picks strictly the best). ``stop_after``: run only the first epochs
        of the schedule.
        """
        if vectors is not None and self.config.dim != vectors.vector_size:  # the vectors' dim wins
            self.config = replace(self.config, dim=int(vectors.vector_size))
        cfg = self.config
        rng = np.random.RandomState(cfg.seed)
        t0 = time.perf_counter()
        train = self._prepare(train_docs, train_labels, vectors, rng)
        keeper = None
        if dev_docs is not None and len(dev_docs) > 0:
            keeper = _EpochKeeper(self._dev_scorer(self.features(dev_docs), dev_labels, cfg.loss == "ova"),
                                  len(dev_docs), cfg)
            _release_free_memory()
        threads = _set_threads(cfg.threads)
        self.history = []
        bar = None
        if progress:
            from firth.progress import progress

            bar = progress(total=cfg.epochs, desc="avg classifier", unit="epoch", leave=False)
        for ep in range(min(cfg.epochs, stop_after or cfg.epochs)):
            rec = {"epoch": ep + 1, "loss": self._train_epoch(ep, rng, train, threads)}
            if keeper is not None:
                rec["dev_accuracy"] = keeper.judge(ep + 1, self.W_in, self.W_out)
            self.history.append(rec)
            _report(bar, log, rec)
            if keeper is not None and keeper.should_stop():
                break
        if bar is not None:
            bar.close()
        self.best_epoch = keeper.restore(self, len(self.history)) if keeper is not None else len(self.history)
        self.train_seconds = time.perf_counter() - t0
        return self

    def _prepare(self, train_docs, train_labels, vectors, rng):
        """Labels, vocabulary, training features and initial weights. Returns what an epoch
        trains on: (ids, offsets, targets), targets the label ids (softmax) or each example's
        labels as a CSR list (ptr, ids) (one-vs-all)."""
        if vectors is not None:
            self.normalizer = vectors.normalizer
        if self.config.loss == "ova":
            self.labels = Labels.from_data(lab for labs in train_labels for lab in _label_list(labs))
            targets = self._label_csr(train_labels)
        else:
            self.labels = Labels.from_data(train_labels)
            targets = self.labels.encode(train_labels).astype(np.int64)
        ids, offs = self._build_vocab(train_docs)
        _release_free_memory()  # the feature pass's freed temporaries, before the matrices
        self.n_pretrained = self._init_weights(rng, vectors)
        return ids, offs, targets

    def _train_epoch(self, ep, rng, train, threads) -> float:
        """One epoch in a fresh random order, the learning rate falling linearly over the whole
        schedule. Returns the mean loss per example."""
        from firth.tasks.kernels import train_epoch, train_epoch_ova

        cfg = self.config
        ids, offs, targets = train
        n = len(offs) - 1
        order = rng.permutation(n).astype(np.int64)
        lr_a = cfg.lr * (1.0 - ep / cfg.epochs)
        lr_b = cfg.lr * (1.0 - (ep + 1) / cfg.epochs)
        if cfg.loss == "ova":
            loss = train_epoch_ova(self.W_in, self.W_out, ids, offs, *targets, order, lr_a, lr_b, threads)
        else:
            loss = train_epoch(self.W_in, self.W_out, ids, offs, targets, order, lr_a, lr_b, threads)
        return float(loss / max(n, 1))

    def _build_vocab(self, train_docs):
        """Words (min_count, most frequent first), the n-gram buckets seen, and the training
        documents' features (ids, offsets)."""
        typed = self._types(train_docs)
        keys, tids, _ = typed
        counts: dict[str, int] = {}
        for t, c in zip(keys[1:], np.bincount(tids, minlength=len(keys))[1:].tolist()):
            t = self._norm(t)
            counts[t] = counts.get(t, 0) + c
        counts[EOS] = len(train_docs)
        ranked = sorted(counts.items(), key=lambda x: (-x[1], x[0]))
        self.words = [w for w, c in ranked if c >= self.config.min_count]
        self.word_index = {w: i for i, w in enumerate(self.words)}
        self.buckets = np.zeros(0, dtype=np.int64)
        return self.features(train_docs, grow=True, typed=typed)

    def _init_weights(self, rng, vectors) -> int:
        """W_in uniform in [-1/dim, 1/dim] (word rows from ``vectors`` where they have the
        word), W_out zero. Returns the number of pretrained rows."""
        dim = self.config.dim
        n_rows = len(self.words) + len(self.buckets)
        self.W_in = np.empty((n_rows, dim), dtype=np.float32)
        # in blocks: the same numbers as one uniform() call, without its float64 copy of the matrix
        for a in range(0, n_rows, 65536):
            b = min(n_rows, a + 65536)
            self.W_in[a:b] = rng.uniform(-1.0 / dim, 1.0 / dim, size=(b - a, dim))
        n_init = 0
        if vectors is not None:
            for i, w in enumerate(self.words):
                j = vectors.get_index(w, None)
                if j is not None:
                    self.W_in[i] = vectors.vectors[j]
                    n_init += 1
        self.W_out = np.zeros((len(self.labels), dim), dtype=np.float32)
        return n_init

    def _dev_scorer(self, dev_features, dev_labels, ova: bool):
        """A function () -> dev accuracy of the current weights (with ``ova``, fastText's
        precision at 1: is the top label one of the gold ones?)."""
        if ova:
            gold = [set(self.labels.encode(_label_list(labs)).tolist()) for labs in dev_labels]
        else:
            y = self.labels.encode(dev_labels)

        def score() -> float:
            top = self._proba(*dev_features).argmax(1)
            return float(np.mean([t in g for t, g in zip(top.tolist(), gold)]) if ova else (top == y).mean())

        return score

    # ------------------------------------------------------------ inference
    def _label_csr(self, label_lists):
        lists = [self.labels.encode(_label_list(labs)) for labs in label_lists]
        ptr = np.zeros(len(lists) + 1, dtype=np.int64)
        ptr[1:] = np.cumsum([len(x) for x in lists])
        ids = np.concatenate(lists).astype(np.int64) if lists else np.zeros(0, np.int64)
        return ptr, ids

    def _proba(self, ids, offs):
        from firth.tasks.kernels import predict_proba

        return predict_proba(self.W_in, self.W_out, ids, offs, self.config.loss == "ova")

    def predict_proba(self, docs) -> np.ndarray:
        ids, offs = self.features(docs)
        return self._proba(ids, offs)

    def predict(self, docs) -> np.ndarray:
        """The most probable label of each text (index into ``labels.names``)."""
        return self.predict_proba(docs).argmax(axis=1)

    def predict_labels(self, docs, threshold: float = OVA_THRESHOLD) -> list[list[int]]:
        """Every label whose probability reaches ``threshold`` (one-vs-all), most probable
        first; at least the top label. With softmax, the top label only."""
        proba = self.predict_proba(docs)
        if self.config.loss != "ova":
            return [[int(i)] for i in proba.argmax(axis=1)]
        out = []
        for p in proba:
            order = np.argsort(-p, kind="stable")
            out.append([int(order[0])] + [int(i) for i in order[1:] if p[i] >= threshold])
        return out

    # ------------------------------------------------------------ save / load
    def save(self, path, inputs=()):
        """Write the model directory atomically; ``inputs``: paths it may not replace."""
        cfg = {
            "format": FORMAT,
            "arch": "avg",
            "config": asdict(self.config),
            "labels": self.labels.names,
            "words": self.words,
            "normalizer": self.normalizer.to_dict() if self.normalizer is not None else None,
            "best_epoch": getattr(self, "best_epoch", None),
            "history": self.history,
        }
        with atomic_dir(path, "classifier", inputs=inputs) as tmp:
            with open(os.path.join(tmp, "config.json"), "w", encoding="utf-8") as f:
                json.dump(cfg, f, ensure_ascii=False)
            np.save(os.path.join(tmp, "W_in.npy"), self.W_in)
            np.save(os.path.join(tmp, "W_out.npy"), self.W_out)
            np.save(os.path.join(tmp, "buckets.npy"), self.buckets)

    @classmethod
    def load(cls, path, cfg: dict | None = None):
        """A saved model, every part checked against the others before any kernel sees it."""
        from dataclasses import fields

        from firth.io import read_json
        from firth.npyfile import load_npy

        if cfg is None:
            cfg = read_json(os.path.join(path, "config.json"), "classifier model")
        if cfg.get("format") != FORMAT:
            raise FirthError(f"{path}: not an averaged classifier model (format {cfg.get('format')!r})")
        where = os.path.join(path, "config.json")
        options = cfg.get("config")
        known = {f.name: f.type for f in fields(AvgConfig)}
        if not isinstance(options, dict) or set(options) - set(known):
            raise FirthError(f"{where}: 'config' must be an object with the keys {sorted(known)}; the model is damaged")
        for k, v in options.items():
            t = known[k]
            if t == "bool":
                ok = isinstance(v, bool)
            elif t == "str":
                ok = v in LOSSES
            elif t == "float":
                ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            else:
                ok = isinstance(v, int) and not isinstance(v, bool)
            if not ok:
                raise FirthError(f"{where}: config {k}={v!r} is not a {known[k]}; the model is damaged")
        m = cls(AvgConfig(**options))
        c = m.config
        if not (0 < c.dim <= 100_000 and 0 <= c.ngrams <= 100 and 0 < c.bucket <= 2**40):
            raise FirthError(f"{where}: config dim={c.dim}, ngrams={c.ngrams}, bucket={c.bucket} out of range; "
                             "the model is damaged")
        for key in ("labels", "words"):
            v = cfg.get(key)
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v) or len(set(v)) != len(v):
                raise FirthError(f"{where}: '{key}' must be a list of distinct strings; the model is damaged")
        if not cfg["labels"]:
            raise FirthError(f"{where}: the model has no labels; the model is damaged")
        m.labels = Labels(cfg["labels"])
        m.words = cfg["words"]
        m.word_index = {w: i for i, w in enumerate(m.words)}
        m.history = cfg.get("history", [])
        m.best_epoch = cfg.get("best_epoch")
        if cfg.get("normalizer"):
            try:
                m.normalizer = Normalizer.from_dict(cfg["normalizer"])
            except (TypeError, ValueError, KeyError, AttributeError) as e:
                raise FirthError(f"{where}: bad 'normalizer' ({e}); the model is damaged") from None
        m.buckets = load_npy(os.path.join(path, "buckets.npy"), kind="iu", shape=(None,)).astype(np.int64)
        b = m.buckets
        if len(b) and (b[0] < 0 or b[-1] >= c.bucket or not (np.diff(b) > 0).all()):
            raise FirthError(f"{path}/buckets.npy: bucket ids must be distinct, sorted and below {c.bucket}; "
                             "the model is damaged")
        rows = len(m.words) + len(b)
        m.W_in = load_npy(os.path.join(path, "W_in.npy"), kind="f", shape=(rows, c.dim), finite=True)
        m.W_out = load_npy(os.path.join(path, "W_out.npy"), kind="f", shape=(len(m.labels), c.dim), finite=True)
        m.W_in = np.ascontiguousarray(m.W_in, dtype=np.float32)
        m.W_out = np.ascontiguousarray(m.W_out, dtype=np.float32)
        return m


def _set_threads(threads: int) -> int:
    """Numba's thread count for training: ``threads`` (0: all cores), at most Numba's pool."""
    import numba

    threads = max(1, min(threads or os.cpu_count() or 1, numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(threads)
    return threads


def _report(bar, log, rec: dict) -> None:
    """An epoch's record to the progress bar and the ``log`` callback."""
    if bar is not None:
        dev = {"dev": f"{rec['dev_accuracy']:.4f}"} if "dev_accuracy" in rec else {}
        bar.set_postfix(loss=f"{rec['loss']:.4f}", **dev)
        bar.update(1)
    if log is not None:
        log(rec)


class _EpochKeeper:
    """The epoch kept by dev accuracy (``AvgClassifier.fit``): the latest within ``select_se``
    standard errors of the best so far, its input matrix as int8 rows + a scale each (a
    quarter of a copy) and its output matrix, in one buffer overwritten in place; early
    stopping after ``patience`` epochs without a new best."""

    def __init__(self, score, n_dev: int, cfg: AvgConfig):
        self.score, self.n_dev, self.cfg = score, n_dev, cfg
        self.best_acc, self.bad, self.epoch, self.kept = -1.0, 0, None, None

    def judge(self, epoch: int, W_in, W_out) -> float:
        """Score the current weights; keep them if they qualify. Returns the dev accuracy."""
        from firth.tasks.kernels import quantize_rows

        acc = self.score()
        if acc > self.best_acc:
            self.best_acc, self.bad, take = acc, 0, True
        else:
            self.bad += 1
            se = math.sqrt(self.best_acc * (1.0 - self.best_acc) / self.n_dev)
            take = acc >= self.best_acc - self.cfg.select_se * se
        if take:
            if self.kept is None:
                self.kept = (np.empty(W_in.shape, np.int8), np.empty(len(W_in), np.float32), np.empty_like(W_out))
            quantize_rows(W_in, self.kept[0], self.kept[1])
            np.copyto(self.kept[2], W_out)
            self.epoch = epoch
        return acc

    def should_stop(self) -> bool:
        return bool(self.cfg.patience) and self.bad >= self.cfg.patience

    def restore(self, model, trained: int) -> int:
        """Put the kept epoch's weights back in ``model`` if a later one was trained. Returns
        the kept epoch (``trained`` if none was kept)."""
        from firth.tasks.kernels import dequantize_rows

        if self.epoch is None:
            return trained
        if self.epoch != trained:
            dequantize_rows(self.kept[0], self.kept[1], model.W_in)
            model.W_out = self.kept[2]
        return self.epoch


def _label_list(labels) -> list[str]:
    """One example's labels: a string (one label) or a list of them."""
    return [labels] if isinstance(labels, str) else list(labels)
