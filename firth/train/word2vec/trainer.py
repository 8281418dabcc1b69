"""Word2Vec trainer: skip-gram and CBOW with negative sampling, Hogwild threads.

    from firth.train.word2vec import Word2Vec
    model = Word2Vec(model="sg", dim=100, workers=2, seed=1).train("corpus.txt")
    model.wv.most_similar("king")

How a run goes:

1. ``encode_corpus`` reads the text once, counting words and writing provisional int32 ids
   to a memory-mapped temp file; ``Vocab.from_counts`` prunes and orders the vocabulary and
   the ids are remapped in place (pruned words removed, as word2vec does before windowing).
2. Each epoch, the sentences are split by token ranges into one share per worker; each
   worker thread walks its share in *jobs* of ~``JOB_WORDS`` tokens and calls a Numba
   kernel (``firth.train.word2vec.kernels``, ``hogbatch.py``) that releases the GIL. A job's random generator
   is seeded from (seed, epoch, job index), so results never depend on timing with one
   worker, and are bit-identical across runs and processes.
3. The learning rate decays linearly from ``alpha`` to ``min_alpha`` over all the words
   of all epochs of one ``train`` call, computed from the words processed so far by all
   threads (as word2vec.c does); within a job it is interpolated per sentence.
4. Each job returns its loss (float64) and word count; the epoch's loss is the sum over
   jobs, reported (mean per training example) in the progress bar, ``epoch_losses`` and the
   vectors' metadata.

The generic pieces (``EpochRunner``: threads, jobs, lr schedule, loss tally, progress bar;
``checkpoint`` helpers) are reusable by other trainers (fastText): give them a job function
``job(s0, s1, alpha0, alpha1, seed) -> (loss, words, examples)``.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time

import numpy as np

from firth.errors import FirthError, check
from firth.text import Normalizer
from firth.train.config import Word2VecConfig
from firth.train.checkpoint import (Mismatch, all_finite, check_checkpoint_dir, check_int, check_matrix, check_number,
                                    find_checkpoint, save_checkpoint, vocab_fingerprint)
from firth.train.runner import EpochRunner, progress_bar

def _default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


class Word2Vec:
    """word2vec skip-gram / CBOW with negative sampling (gensim-like interface).

    ``Word2Vec(config)`` or ``Word2Vec(dim=..., window=..., ...)`` (the fields of
    :class:`~firth.train.config.Word2VecConfig`, validated there). The settings are read
    through ``self.config`` (frozen) and, for short, as attributes (``self.dim``). What is
    not a setting of the result: ``normalizer`` (taken from a ``Corpus`` too), ``progress``
    and ``callbacks``.
    """

    Config = Word2VecConfig

    def __init__(self, config: Word2VecConfig | None = None, *, normalizer=None, progress: bool = False,
                 callbacks=(), **settings):
        if config is None:
            config = self.Config(**settings)
        else:
            check(isinstance(config, self.Config), f"config: must be a {self.Config.__name__}, got {type(config).__name__}")
            config = config.replace(**settings) if settings else config
        self.config = config
        self.workers = _default_workers() if config.workers is None else int(config.workers)
        self.normalizer = normalizer
        self.progress = progress
        self.callbacks = list(callbacks)
        self.vocab = None
        self.syn0 = None
        self.syn1 = None
        self.epochs_trained = 0
        self.epoch_losses: list[float] = []  # mean loss per training example, per epoch
        self.epoch_loss_sums: list[float] = []
        self.train_seconds = 0.0
        self.vocab_seconds = 0.0
        self.words_trained = 0
        self._encoded = None

    def __getattr__(self, name):
        # the settings, read-only: self.dim is self.config.dim (``workers``: the resolved count)
        config = self.__dict__.get("config")
        if config is not None and name in {f.name for f in dataclasses.fields(config)}:
            return getattr(config, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name, value):
        config = self.__dict__.get("config")
        if config is not None and name != "workers" and name in {f.name for f in dataclasses.fields(config)}:
            raise AttributeError(f"{name}: a setting of the frozen config; train a model made with config.replace({name}=...)")
        super().__setattr__(name, value)

    def settings(self) -> dict:
        """The config as saved with the vectors and checkpoints (the kernel resolved, the normaliser)."""
        s = self.config.as_dict()
        s["kernel"] = self.resolved_kernel()
        s["normalizer"] = self.normalizer.to_dict() if isinstance(self.normalizer, Normalizer) else None
        return s

    def resolved_kernel(self) -> str:
        if self.model == "cbow":
            return "cbow"
        # auto = HogBatch: 3.1x gensim's speed with equal quality on full en-mix
        # (Google 53.2 vs gensim 52.4, WS353 0.681 vs 0.658; benchmarks/RESULTS.md)
        return "pairs" if self.kernel == "pairs" else "batch"

    # ------------------------------------------------------------------ vocabulary
    def build_vocab(self, corpus):
        """Read the corpus once: vocabulary and encoded ids. Returns self."""
        from firth.train.corpus import Corpus, encode_corpus
        from firth.train.vocab import Vocab

        t0 = time.perf_counter()
        if isinstance(corpus, Corpus):
            if corpus.normalizer is not None:
                if self.normalizer is not None and self.normalizer != corpus.normalizer:
                    raise FirthError("normalizer: the Corpus and the model have different normalizers; give it to one of them")
                self.normalizer = corpus.normalizer  # saved with the vectors, used by lookups
            enc = encode_corpus(corpus, normalizer=self.normalizer, workers=self.workers)
        else:
            enc = encode_corpus(corpus, normalizer=self.normalizer, max_sentence_length=self.max_sentence_length,
                                workers=self.workers)
        try:
            source = _describe(corpus)
            self.vocab, mapping = Vocab.from_counts(enc.words, enc.counts, self.min_count, self.max_vocab, source=source)
            enc.remap(mapping)
        except BaseException:
            enc.close()
            raise
        enc.words = self.vocab.words
        enc.counts = self.vocab.counts
        self._set_encoded(enc)
        self.vocab_seconds = time.perf_counter() - t0
        self._init_weights()
        return self

    def _set_encoded(self, enc):
        if self._encoded is not None and self._encoded is not enc:
            self._encoded.close()
        self._encoded = enc

    def _encode_with_vocab(self, corpus):
        """Encode another corpus against the existing vocabulary (continued training)."""
        from firth.train.corpus import encode_corpus

        enc = encode_corpus(corpus, normalizer=self.normalizer, max_sentence_length=self.max_sentence_length,
                            workers=self.workers)
        idx = self.vocab.index
        mapping = np.array([idx.get(w, -1) for w in enc.words], dtype=np.int32)
        enc.remap(mapping)
        if enc.n_tokens == 0:
            enc.close()
            raise FirthError(f"{_describe(corpus)}: none of its words is in the model's vocabulary")
        self._set_encoded(enc)

    def _init_weights(self):
        V, d = len(self.vocab), self.dim
        rng = np.random.default_rng(self.seed)
        # word2vec.c: uniform in [-0.5/d, 0.5/d); output layer zero (tied: one matrix)
        self.syn0 = ((rng.random((V, d), dtype=np.float32) - np.float32(0.5)) / np.float32(d)).astype(np.float32)
        self.syn1 = self.syn0 if self.tied else np.zeros((V, d), dtype=np.float32)

    # ------------------------------------------------------------------ training
    def _kernel_inputs(self):
        """What every training kernel takes: (Sentences, syn0, syn1, Sampling) (firth.train.kernels)."""
        from firth.train.kernels import Sampling, Sentences

        enc = self._encoded
        prob, alias = self.vocab.noise_table(self.ns_exponent)
        sampling = Sampling(self.vocab.keep_probs(self.sample), prob, alias, int(self.window), int(self.negative))
        return Sentences(enc.ids, enc.offsets), self.syn0, self.syn1, sampling

    def _job_fn(self):
        from firth.train.kernels import Job
        from firth.train.word2vec import kernels as K
        from firth.train.word2vec.hogbatch import train_sg_batch

        sents, syn0, syn1, sampling = self._kernel_inputs()
        kern = self.resolved_kernel()
        if kern == "cbow":
            cm = self.cbow_mean

            def job(s0, s1, a0, a1, seed):
                return K.train_cbow(sents, Job(s0, s1, a0, a1, seed), syn0, syn1, sampling, cm)

        elif kern == "pairs":

            def job(s0, s1, a0, a1, seed):
                return K.train_sg_pairs(sents, Job(s0, s1, a0, a1, seed), syn0, syn1, sampling)

        else:  # HogBatch (hogbatch.py)

            def job(s0, s1, a0, a1, seed):
                return train_sg_batch(sents, Job(s0, s1, a0, a1, seed), syn0, syn1, sampling)

        return job

    def train(self, corpus=None, epochs: int | None = None, checkpoint=None, callbacks=None, progress: bool | None = None):
        """Train for ``epochs`` (default: the constructor's) more epochs. Returns self.

        The first call builds the vocabulary from ``corpus`` (a path, paths, a directory, a
        ``Corpus`` or an iterable of token lists). Later calls continue training the same
        vectors, on ``corpus`` if given (encoded against the existing vocabulary) or on the
        same encoded corpus; the learning rate decays from ``alpha`` to ``min_alpha`` over
        each call's epochs. With ``checkpoint`` a directory, the state is saved there
        atomically after each epoch, and a matching checkpoint found there is resumed.
        """
        epochs = self.epochs if epochs is None else epochs
        check(isinstance(epochs, (int, np.integer)) and epochs >= 1, f"--epochs: must be an integer >= 1, got {epochs!r}")
        if checkpoint is not None:  # fail fast: before the corpus is read
            check_checkpoint_dir(checkpoint, inputs=_input_paths(corpus))
        if self.vocab is None:
            check(corpus is not None, "train: give a corpus the first time")
            self.build_vocab(corpus)
        elif corpus is not None:
            self._encode_with_vocab(corpus)
        elif self._encoded is None:
            raise FirthError("train: this model has no corpus loaded (it was loaded from a checkpoint); pass the corpus")
        start_epoch = 0
        call_base = self.epochs_trained
        if checkpoint is not None:
            got = self._try_resume(checkpoint, epochs)
            if got is not None:
                start_epoch, call_base = got
        cbs = self.callbacks if callbacks is None else list(callbacks)
        show = self.progress if progress is None else progress
        enc = self._encoded
        runner = EpochRunner(enc.offsets, self.workers, self.alpha, self.min_alpha, self.seed,
                             after_job=getattr(enc, "release", None))
        kernel_job = self._job_fn()
        diverged = []

        def job(s0, s1, a0, a1, seed):  # a non-finite loss ends the epoch early (checked after it)
            if diverged:
                return 0.0, 0, 0
            got = kernel_job(s0, s1, a0, a1, seed)
            if not math.isfinite(got[0]):
                diverged.append(s0)
            return got

        T = enc.n_tokens
        bar = progress_bar(T * (epochs - start_epoch), bool(show))
        try:
            for e in range(start_epoch, epochs):
                epoch = call_base + e  # absolute epoch number (seeds the generators)
                loss, words, ex, secs = runner.run_epoch(job, epoch, e, epochs, bar=bar)
                self.check_finite(epoch, loss, checkpoint)
                self.train_seconds += secs
                self.words_trained += words
                self.epochs_trained = epoch + 1
                mean = loss / ex if ex else float("nan")
                self.epoch_losses.append(mean)
                self.epoch_loss_sums.append(loss)
                if bar is not None:
                    bar.write(f"epoch {epoch + 1}: loss {mean:.4f} per example ({ex:,} examples), {words / max(secs, 1e-9):,.0f} words/s", file=sys.stderr)
                if checkpoint is not None:
                    self.save_checkpoint(checkpoint, call_epochs=epochs, call_base=call_base)
                for cb in cbs:
                    cb(self, epoch, mean)
        finally:
            if bar is not None:
                bar.close()
        return self

    def check_finite(self, epoch: int, loss: float = 0.0, checkpoint=None) -> None:
        """Stop a run that diverged: a NaN/infinite loss or weight (checked once per epoch,
        a block of rows at a time, so it costs a fraction of a pass over the matrices)."""
        mats = [self.syn0] if self.syn1 is self.syn0 else [self.syn0, self.syn1]
        if math.isfinite(loss) and all(all_finite(m) for m in mats):
            return
        kept = (f"; the checkpoint in {checkpoint} keeps the last good epoch" if checkpoint is not None
                and _epoch_dirs_exist(checkpoint) else "")
        raise FirthError(
            f"training diverged in epoch {epoch + 1}: the loss or the vectors became NaN/infinite; the learning rate "
            f"--alpha {self.alpha:g} is too high for this corpus and options: lower it (e.g. --alpha {self.alpha / 5:g}) "
            f"and train again; no vectors were written{kept}")

    # ------------------------------------------------------------------ checkpoints
    def _state(self, call_epochs: int, call_base: int) -> dict:
        return {
            "format": "firth-word2vec-checkpoint",
            "version": 1,
            "settings": self.settings(),
            "workers": self.workers,
            "epochs_trained": self.epochs_trained,
            "call_epochs": call_epochs,
            "call_base": call_base,
            "epoch_losses": self.epoch_losses,
            "epoch_loss_sums": self.epoch_loss_sums,
            "words_trained": self.words_trained,
            "train_seconds": self.train_seconds,
            "vocab_fingerprint": vocab_fingerprint(self.vocab.words, self.vocab.counts),
            "words": self.vocab.words,
            "counts": [int(c) for c in self.vocab.counts],
            "arrays": ["syn0"] if self.tied else ["syn0", "syn1"],
        }

    def save_checkpoint(self, directory, call_epochs: int | None = None, call_base: int = 0):
        arrays = {"syn0": self.syn0} if self.tied else {"syn0": self.syn0, "syn1": self.syn1}
        self.check_finite(max(self.epochs_trained - 1, 0))  # never keep a diverged state
        save_checkpoint(directory, self._state(call_epochs or self.epochs, call_base), arrays)

    def checkpoint_shapes(self) -> dict:
        """The matrices a checkpoint of this model holds, with their shapes."""
        V, d = len(self.vocab), self.dim
        shapes = {"syn0": (V + int(getattr(self, "n_buckets", 0)), d)}
        if not self.tied:
            shapes["syn1"] = (V, d)
        return shapes

    def _check_checkpoint(self, state: dict, arrays: dict, epochs: int) -> None:
        """Raise FirthError unless ``state``/``arrays`` fit this model exactly (Mismatch when
        they are intact but belong to another run); replaces the arrays by checked ones."""
        if state.get("format") != "firth-word2vec-checkpoint" or state.get("version") != 1:
            raise FirthError("checkpoint.json: not a firth word2vec checkpoint (format or version)")
        theirs = state.get("settings")
        if not isinstance(theirs, dict):
            raise FirthError("checkpoint.json: 'settings' is not an object")
        mine = self.settings()
        diff = [k for k in mine if k != "epochs" and mine.get(k) != theirs.get(k)]
        if diff:
            raise Mismatch(f"checkpoint was made with different settings ({', '.join(diff)}) ("
                           f"{'; '.join(f'{k} {theirs.get(k)!r} there, {mine[k]!r} now' for k in diff[:3])}); "
                           "use the same options or another --checkpoint directory")
        if state.get("vocab_fingerprint") != vocab_fingerprint(self.vocab.words, self.vocab.counts):
            raise Mismatch("checkpoint was made on a different corpus (vocabulary differs); use another --checkpoint")
        call_epochs = check_int(state, "call_epochs", 1, 10**9)
        if call_epochs != epochs:
            raise Mismatch(f"checkpoint is for a run of {call_epochs} epochs, not {epochs}; use --epochs {call_epochs}")
        trained = check_int(state, "epochs_trained", 1, 10**9)
        base = check_int(state, "call_base", 0, trained)
        if trained - base > call_epochs:
            raise FirthError(f"checkpoint.json: {trained - base} epochs done of a run of {call_epochs}")
        check_int(state, "words_trained")
        check_number(state, "train_seconds")
        for key in ("epoch_losses", "epoch_loss_sums"):
            v = state.get(key)
            if not (isinstance(v, list) and len(v) <= trained
                    and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)):
                raise FirthError(f"checkpoint.json: '{key}' must be a list of at most {trained} numbers")
        shapes = self.checkpoint_shapes()
        if sorted(arrays) != sorted(shapes):
            raise FirthError(f"checkpoint holds arrays {sorted(arrays)}, expected {sorted(shapes)}")
        for name, shape in shapes.items():
            arrays[name] = check_matrix(name, arrays[name], shape)

    def _try_resume(self, directory, epochs):
        got = find_checkpoint(directory, validate=lambda st, ar: self._check_checkpoint(st, ar, epochs))
        if got is None:
            return None
        state, arrays, where = got
        done_in_call = state["epochs_trained"] - state["call_base"]
        self.syn0 = arrays["syn0"]
        self.syn1 = self.syn0 if self.tied else arrays["syn1"]
        if not self.syn0.flags.writeable:
            self.syn0 = self.syn0.copy()
        if not self.syn1.flags.writeable:
            self.syn1 = self.syn1.copy()
        self.epochs_trained = state["epochs_trained"]
        self.epoch_losses = [float(x) for x in state["epoch_losses"]]
        self.epoch_loss_sums = [float(x) for x in state["epoch_loss_sums"]]
        self.words_trained = state["words_trained"]
        self.train_seconds = float(state["train_seconds"])
        print(f"resuming from {where}: {done_in_call} of {epochs} epochs done", file=sys.stderr)
        return done_in_call, state["call_base"]

    # ------------------------------------------------------------------ results
    @property
    def wv(self):
        """The trained word vectors as KeyedVectors (vocab counts and settings in meta). As in
        fastText's trainer, a view of the trainer's matrix: train further and they move
        (``vectors(copy=True)`` for a snapshot)."""
        return self.vectors(copy=False)

    def vectors(self, copy: bool = False):
        """The trained word vectors; ``copy=True`` gives them a matrix of their own (the default
        shares the trainer's: what ``firth train`` saves, without V x dim more floats)."""
        from firth.vectors import KeyedVectors

        if self.syn0 is None:
            raise FirthError("the model has not been trained yet")
        self.check_finite(max(self.epochs_trained - 1, 0))  # every writer (also --distributed) gets finite rows
        meta = {
            "trainer": "firth.word2vec",
            "settings": self.settings(),
            "workers": self.workers,
            "epochs_trained": self.epochs_trained,
            "epoch_losses": self.epoch_losses,
            "words_trained": self.words_trained,
            "train_seconds": round(self.train_seconds, 3),
            "vocab_seconds": round(self.vocab_seconds, 3),
            "corpus_words": int(self.vocab.total),
        }
        return KeyedVectors(self.vocab.words, self.syn0.copy() if copy else self.syn0, counts=self.vocab.counts,
                            normalizer=self.normalizer, meta=meta)

    def close(self):
        """Delete the encoded corpus' temporary files."""
        if self._encoded is not None:
            self._encoded.close()
            self._encoded = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def _input_paths(corpus) -> list:
    """The files a corpus argument names (outputs may not be one of them)."""
    from firth.train.corpus import Corpus

    if isinstance(corpus, (str, os.PathLike)):
        return [corpus]
    if isinstance(corpus, Corpus):
        return list(corpus.paths)
    if isinstance(corpus, (list, tuple)) and all(isinstance(p, (str, os.PathLike)) for p in corpus):
        return list(corpus)
    return []


def _epoch_dirs_exist(directory) -> bool:
    from pathlib import Path

    return any(Path(directory).glob("epoch-*"))


def _describe(corpus) -> str:
    from firth.train.corpus import Corpus

    if isinstance(corpus, (str, os.PathLike)):
        return str(corpus)
    if isinstance(corpus, Corpus):
        return ", ".join(str(p) for p in corpus.paths[:3])
    if isinstance(corpus, (list, tuple)) and corpus and isinstance(corpus[0], (str, os.PathLike)):
        return ", ".join(str(p) for p in corpus[:3])
    return "corpus"
