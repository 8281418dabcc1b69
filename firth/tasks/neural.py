"""biLSTM acceptor classifier and biLSTM transducer tagger, built on :mod:`firth.rnn`.

Both share one training loop (:func:`train_loop`): Adam, gradient clipping, batches of
similar length (sentences sorted by length and cut into batches once; the batch order is
shuffled every epoch, seeded), word dropout (a training token is replaced by ``<unk>``
with probability 0.25/(0.25 + its count), so ``<unk>`` is learned), a tqdm bar showing loss
and dev score, early stopping on the dev score with the best weights kept, and an optional
wall-clock limit.

A saved model is a directory: ``config.json`` (task format, labels, options, history) and
``net/`` written by :func:`firth.rnn.save_model` (JSON config + state dict, loaded with
``torch.load(weights_only=True)``), all built under a temporary name and renamed.
"""

from __future__ import annotations

import copy
import json
import math
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, fields, make_dataclass, replace

import numpy as np
import torch

from firth.errors import FirthError
from firth.io import atomic_dir
from firth.rnn import ddp
from firth.tasks.data import Labels

CLASSIFIER_FORMAT = "firth-classifier-rnn/1"
TAGGER_FORMAT = "firth-tagger-rnn/1"

# AcceptorConfig.freeze_epochs=1 (pretrained vectors held during the first epoch, while the random biLSTM
# and softmax settle; no effect without --vectors) was chosen on dev: SST-2 dev median of 5
# seeds 83.03 vs 82.57, MR dev 80.39 vs 79.92, TREC held-out 89.17 vs 88.81, SUBJ 92.2 vs 92.5
# (benchmarks/RESULTS.md, tasks).
@dataclass(frozen=True)
class NeuralConfig:
    """The biLSTM tasks' settings; the first six have a default per task (the subclasses)."""

    hidden: int
    dropout: float
    lr: float
    patience: int
    chars: bool
    max_minutes: float
    dim: int = 100
    layers: int = 1
    batch_size: int = 32
    epochs: int = 30
    cell: str = "lstm"
    mlp_hidden: int = 0
    char_dim: int = 25
    char_hidden: int = 25
    freeze: bool = False
    freeze_epochs: int = 0
    vocab_from_vectors: int = 100000
    unk_alpha: float = 0.25
    threads: int = 0

    def __post_init__(self):
        for name in ("epochs", "batch_size", "hidden", "layers", "dim"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise FirthError(f"--{name.replace('_', '-')} {getattr(self, name)!r}: must be an integer >= 1")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise FirthError(f"--lr {self.lr!r}: must be a positive number")


def _task_config(name: str, doc: str, **defaults):
    """A frozen NeuralConfig subclass with the task's own defaults (``pooling`` only for the acceptor)."""
    fields_ = [(k, type(v), field(default=v)) for k, v in defaults.items()]
    return make_dataclass(name, fields_, bases=(NeuralConfig,), frozen=True, namespace={"__doc__": doc})


AcceptorConfig = _task_config("AcceptorConfig", "biLSTM acceptor (classifier) settings.", hidden=150, dropout=0.5,
                              lr=1e-3, patience=5, chars=False, max_minutes=9.5, pooling="max", freeze_epochs=1)
TaggerConfig = _task_config("TaggerConfig", "biLSTM tagger settings.", hidden=128, dropout=0.33, lr=2e-3, patience=4,
                            chars=True, max_minutes=14.0)


def _seed_all(seed):
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))


def _set_threads(threads):
    n = threads or os.cpu_count() or 1
    torch.set_num_threads(max(1, n))


def make_batches(lengths, batch_size):
    """Index batches of similar length: a stable sort by length, cut every ``batch_size``."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def build_input(train_sents, vectors, opts, seed):
    """The model's InputLayer: word embedding (random or from firth vectors) + optional chars."""
    from firth.rnn import CharEncoder, InputLayer, WordEmbedding

    counts = Counter(t for s in train_sents for t in s)
    if vectors is not None:
        norm = vectors.normalize
        ncounts = Counter()
        for w, c in counts.items():
            ncounts[norm(w)] += c
        words = [w for w, _ in ncounts.most_common()]
        n_train = len(words)
        extra = opts.vocab_from_vectors or 0
        if extra:  # so that test words unseen in training keep their pretrained vectors (held fixed)
            have = set(words)
            words += [w for w in vectors.index_to_key[:extra] if w not in have]
        emb = WordEmbedding.from_vectors(vectors, words=words, freeze=opts.freeze, unk_init="mean",
                                         seed=seed, trainable=n_train)
        wcounts = ncounts
    else:
        words = [w for w, _ in counts.most_common()]
        emb = WordEmbedding(words, opts.dim, freeze=False)
        wcounts = counts
    chars = None
    if opts.chars:
        chars = CharEncoder(CharEncoder.chars_from(list(counts)), char_dim=opts.char_dim,
                            hidden=opts.char_hidden)
    layer = InputLayer(emb, chars)
    # per-row training counts, for word dropout
    row_counts = np.zeros(len(emb.itos), dtype=np.float64)
    for w, c in wcounts.items():
        i = emb.stoi.get(w)
        if i is not None:
            row_counts[i] += c
    return layer, row_counts


def _prebatch(embed, sents, idx_batches):
    return [(b, embed.batch([sents[i] for i in b])) for b in idx_batches]


def _dropout_probs(row_counts, alpha):
    """Word dropout: row r is replaced by ``<unk>`` with probability alpha / (alpha + count_r)."""
    if row_counts is None or not alpha:
        return None
    return torch.from_numpy(np.where(row_counts > 0, alpha / (alpha + row_counts), 0.0)).float()


def _drop_words(batch, drop_p, gen):
    from firth.rnn import UNK_INDEX

    x = batch["x"]
    mask = torch.rand(x.shape, generator=gen) < drop_p[x]
    return dict(batch, x=torch.where(mask, torch.full_like(x, UNK_INDEX), x))


class _Deadline:
    """The wall-clock limit (``max_minutes``; 0: none); under DDP every rank stops when any is over."""

    def __init__(self, minutes, dist):
        self.t0, self.limit, self.dist = time.perf_counter(), (minutes or 0) * 60, dist

    def seconds(self) -> float:
        return time.perf_counter() - self.t0

    def over(self) -> bool:
        over = bool(self.limit) and self.seconds() > self.limit
        if self.dist is not None and self.limit:
            over = self.dist.any(over)
        return over


class _Best:
    """Early stopping: the best dev score so far, a copy of its weights, epochs since it improved."""

    def __init__(self):
        self.score, self.state, self.bad = -math.inf, None, 0

    def update(self, model, score) -> bool:
        if score > self.score:
            self.score, self.bad = score, 0
            self.state = copy.deepcopy(model.state_dict())
            return True
        self.bad += 1
        return False


def _train_epoch(net, loss_fn, train_batches, order, optim, params, drop_p, gen, deadline, show):
    """One pass over the batches in ``order``: Adam steps with gradient clipping at 5.
    ``show(loss so far)`` after each batch. Returns (loss sum, examples, out of time)."""
    tot, n = 0.0, 0
    for bi in order:
        idx, batch = train_batches[bi]
        if drop_p is not None:
            batch = _drop_words(batch, drop_p, gen)
        optim.zero_grad()
        loss = loss_fn(net, idx, batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        optim.step()
        tot += loss.detach().item() * len(idx)
        n += len(idx)
        show(tot / max(n, 1))
        if deadline.over():
            return tot, n, True
    return tot, n, False


def _progress_bar(progress, total, desc, history):
    """A tqdm bar over the batches (None without ``progress``, or on a torchrun rank > 0) and the
    function that updates it."""
    if not progress or not ddp.is_writer():
        return None, lambda loss, epoch: None
    from firth.progress import progress as bar_of

    bar = bar_of(total=total, desc=desc, unit="batch", leave=False)

    def show(loss, epoch):
        bar.update(1)
        dev = {"dev": f"{history[-1]['dev']:.4f}"} if history and "dev" in history[-1] else {}
        bar.set_postfix(epoch=epoch, loss=f"{loss:.4f}", **dev)

    return bar, show


def train_loop(model, loss_fn, train_batches, dev_eval, opts, seed, progress=True, desc="train", row_counts=None, log=None,
               hold_params=None):
    """Generic loop. ``train_batches``: list of (indices, batch dict); ``loss_fn(model, idx, batch)``;
    ``dev_eval(model) -> score`` (higher is better) or None. ``hold_params`` (e.g. the pretrained
    embedding) are kept fixed for the first ``opts.freeze_epochs`` epochs, then trained.
    Returns history."""
    dist = ddp.group()  # None in a single process; under torchrun: DistributedDataParallel (firth/rnn/ddp.py)
    rng = np.random.RandomState(seed)  # the batch order: the same on every rank
    gen = torch.Generator().manual_seed(dist.seed(seed) if dist else seed)
    net = model
    params = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.Adam(params, lr=opts.lr)
    hold = int(opts.freeze_epochs or 0)
    held = [p for p in (hold_params or []) if p.requires_grad] if hold else []
    drop_p = _dropout_probs(row_counts, opts.unk_alpha)
    history, best, deadline = [], _Best(), _Deadline(opts.max_minutes, dist)
    bar, show = _progress_bar(progress, opts.epochs * len(train_batches), desc, history)
    for ep in range(opts.epochs):
        for p in held:  # no grad -> Adam skips the parameter
            p.requires_grad_(ep >= hold)
        if dist is not None and (ep == 0 or (held and ep == hold)):
            net = None  # DDP takes the parameters that need gradients when wrapped: rewrap when they change
            net = dist.wrap(model)
        model.train()
        epoch = (_train_epoch, net, loss_fn, train_batches, rng.permutation(len(train_batches)), optim, params, drop_p,
                 gen, deadline, lambda loss: show(loss, ep + 1))
        # under torchrun a peer lost in DDP's backward all-reduce is one line, not a traceback
        tot, n, out_of_time = dist.run(*epoch) if dist is not None else epoch[0](*epoch[1:])
        if dist is not None:
            tot, n = dist.sum(tot, n)
        rec = {"epoch": ep + 1, "loss": tot / max(n, 1), "seconds": round(deadline.seconds(), 1)}
        if dev_eval is not None:
            score = dev_eval(model)
            rec["dev"] = dist.rank0(score) if dist is not None else score
            if best.update(model, rec["dev"]):
                rec["best"] = True
        history.append(rec)
        if log is not None:
            log(rec)
        if out_of_time or (dev_eval is not None and opts.patience and best.bad >= opts.patience):
            break
    for p in held:
        p.requires_grad_(True)
    if bar is not None:
        bar.close()
    if best.state is not None:
        model.load_state_dict(best.state)
    model.eval()
    return history


def format_epoch(rec) -> str:
    """One line for a record of :func:`train_loop`'s history (the tasks' log lines)."""
    s = f"epoch {rec['epoch']}: loss {rec['loss']:.4f}"
    if "dev" in rec:
        s += f", dev {rec['dev']:.4f}" + (" (best)" if rec.get("best") else "")
    return s + f", {rec['seconds']:.0f}s"


def _predict_batches(model, embed, sents, batch_size=128):
    """Yield (indices, logits) over sentences, batched by length, no grad."""
    model.eval()
    with torch.no_grad():
        for b in make_batches([len(s) for s in sents], batch_size):
            batch = embed.batch([sents[i] for i in b])
            yield b, batch, model(**batch)


class _Neural:
    kind = ""
    fmt = ""

    Config = NeuralConfig

    def __init__(self, config: NeuralConfig | None = None, seed=0, **options):
        """``config``, or its fields as keywords (None: the default)."""
        given = {k: v for k, v in options.items() if v is not None}
        if config is None:
            config = self.Config(**given)
        elif given:
            config = replace(config, **given)
        self.config = config
        self.seed = seed
        self.net = None
        self.labels = None
        self.history = []
        self.best_epoch = None
        self.train_seconds = 0.0
        self.extra = {}

    @property
    def embed(self):
        return self.net.embed

    def save(self, path, inputs=()):
        """Write the model directory atomically; ``inputs``: paths it may not replace.
        Under torchrun only rank 0 writes."""
        if not ddp.is_writer():
            return
        from firth.rnn import save_model

        meta = {"format": self.fmt, "arch": "bilstm", "labels": self.labels.names, "options": asdict(self.config),
                "seed": self.seed, "history": self.history, "best_epoch": self.best_epoch, **self.extra}
        with atomic_dir(path, "classifier" if self.kind == "acceptor" else self.kind, inputs=inputs) as tmp:
            save_model(os.path.join(tmp, "net"), self.net)
            with open(os.path.join(tmp, "config.json"), "w", encoding="utf-8") as f:
                json.dump(meta, f, ensure_ascii=False)

    @classmethod
    def load(cls, path, cfg):
        from firth.rnn import load_model

        if cfg.get("format") != cls.fmt:
            raise FirthError(f"{path}: not a {cls.kind} model (format {cfg.get('format')!r})")
        where = os.path.join(path, "config.json")
        options, labels = cfg.get("options", {}), cfg.get("labels")
        known = sorted(f.name for f in fields(cls.Config))
        if not isinstance(options, dict) or set(options) - set(known):
            raise FirthError(f"{where}: 'options' must be an object with keys among {known}; "
                             "the model is damaged")
        if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels) \
                or len(set(labels)) != len(labels):
            raise FirthError(f"{where}: 'labels' must be a non-empty list of distinct strings; the model is damaged")
        seed = cfg.get("seed", 0)
        try:
            m = cls(seed=seed if isinstance(seed, int) else 0, **options)
        except (TypeError, ValueError) as e:
            raise FirthError(f"{where}: 'options' do not make a {cls.Config.__name__} ({e}); the model is damaged") from None
        m.labels = Labels(labels)
        m.history = cfg.get("history", [])
        m.best_epoch = cfg.get("best_epoch")
        m.extra = {k: v for k, v in cfg.items() if k in ("column", "span")}
        m.net, _ = load_model(os.path.join(path, "net"))
        classes = getattr(m.net, "num_classes", None)
        if classes != len(labels) or m.net.embed is None:
            raise FirthError(f"{path}/net: the network predicts {classes} classes but config.json names "
                             f"{len(labels)} labels; the model is damaged")
        return m

    def _finish(self, t0):
        self.train_seconds = time.perf_counter() - t0
        best = [r for r in self.history if r.get("best")]
        self.best_epoch = best[-1]["epoch"] if best else len(self.history)


class AcceptorClassifier(_Neural):
    """biLSTM over word embeddings → pooled (max by default) or final states → linear softmax."""

    kind = "acceptor"
    fmt = CLASSIFIER_FORMAT
    Config = AcceptorConfig

    def fit(self, train_docs, train_labels, dev_docs=None, dev_labels=None, vectors=None, progress=True, log=None):
        from firth.rnn import RNN, RNNAcceptor, sequence_loss

        t0 = time.perf_counter()
        _seed_all(self.seed)
        _set_threads(self.config.threads)
        o = self.config
        self.labels = Labels.from_data(train_labels)
        y = torch.from_numpy(self.labels.encode(train_labels))
        embed, row_counts = build_input(train_docs, vectors, o, self.seed)
        rnn = RNN(o.cell, embed.output_size, o.hidden, num_layers=o.layers, bidirectional=True,
                  dropout=o.dropout if o.layers > 1 else 0.0)
        self.net = RNNAcceptor(rnn, len(self.labels), embed=embed, hidden=o.mlp_hidden, pooling=o.pooling,
                               dropout=o.dropout)
        batches = _prebatch(embed, train_docs, ddp.shard(make_batches([len(d) for d in train_docs], o.batch_size)))
        dev_eval = None
        if dev_docs:
            dev_y = self.labels.encode(dev_labels)

            def dev_eval(model):
                return float((self._predict_ids(dev_docs) == dev_y).mean())

        def loss_fn(model, idx, batch):
            return sequence_loss(model(**batch), y[torch.from_numpy(np.asarray(idx))])

        hold = [embed.words.embedding.weight] if vectors is not None else None
        self.history = train_loop(self.net, loss_fn, batches, dev_eval, o, self.seed, progress, "bilstm classifier",
                                  row_counts, log, hold_params=hold)
        self._finish(t0)
        return self

    def predict_proba(self, docs):
        out = np.zeros((len(docs), len(self.labels)), dtype=np.float32)
        for b, _, logits in _predict_batches(self.net, self.net.embed, docs):
            out[b] = torch.softmax(logits, dim=-1).numpy()
        return out

    def _predict_ids(self, docs):
        return self.predict_proba(docs).argmax(axis=1)

    def predict(self, docs):
        return self._predict_ids(docs)


class RNNTagger(_Neural):
    """biLSTM transducer: word embedding (+ char biLSTM) → biLSTM → linear softmax per token."""

    kind = "tagger"
    fmt = TAGGER_FORMAT
    Config = TaggerConfig

    def fit(self, train_sents, train_tags, dev_sents=None, dev_tags=None, vectors=None, progress=True, log=None,
            span=False):
        from firth.rnn import RNN, RNNTransducer, transducer_loss
        from firth.tasks.metrics import conlleval, token_accuracy

        t0 = time.perf_counter()
        _seed_all(self.seed)
        _set_threads(self.config.threads)
        o = self.config
        self.labels = Labels.from_data(t for ts in train_tags for t in ts)
        self.extra["span"] = bool(span)
        embed, row_counts = build_input(train_sents, vectors, o, self.seed)
        rnn = RNN(o.cell, embed.output_size, o.hidden, num_layers=o.layers, bidirectional=True,
                  dropout=o.dropout if o.layers > 1 else 0.0)
        self.net = RNNTransducer(rnn, len(self.labels), embed=embed, hidden=o.mlp_hidden, dropout=o.dropout)
        idx_batches = ddp.shard(make_batches([len(s) for s in train_sents], o.batch_size))
        batches = []
        for b, batch in _prebatch(embed, train_sents, idx_batches):
            T = batch["x"].shape[1]
            tgt = torch.zeros((len(b), T), dtype=torch.int64)
            for k, i in enumerate(b):
                tgt[k, : len(train_tags[i])] = torch.from_numpy(self.labels.encode(train_tags[i]))
            batch = dict(batch, _tags=tgt)
            batches.append((b, batch))
        dev_eval = None
        if dev_sents:
            def dev_eval(model):
                pred = self.predict(dev_sents)
                if span:
                    return conlleval(dev_tags, pred).f1
                return token_accuracy(dev_tags, pred)

        def loss_fn(model, idx, batch):
            tags = batch["_tags"]
            inp = {k: v for k, v in batch.items() if k != "_tags"}
            return transducer_loss(model(**inp), tags, inp["lengths"])

        self.history = train_loop(self.net, loss_fn, batches, dev_eval, o, self.seed, progress, "bilstm tagger",
                                  row_counts, log)
        self._finish(t0)
        return self

    def predict(self, sents):
        out = [None] * len(sents)
        names = self.labels.names
        for b, batch, logits in _predict_batches(self.net, self.net.embed, sents):
            best = logits.argmax(dim=-1).numpy()
            for k, i in enumerate(b):
                out[i] = [names[j] for j in best[k, : len(sents[i])]]
        return out
