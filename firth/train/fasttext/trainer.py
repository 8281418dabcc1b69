"""FastText trainer: skip-gram and CBOW with negative sampling over character n-grams.

    from firth.train.fasttext import FastText
    model = FastText(model="sg", dim=100, minn=3, maxn=6, bucket=2_000_000, workers=2).train("corpus.txt")
    model.wv.most_similar("unfriendliest")       # an unseen word, through its n-grams

A subclass of :class:`firth.train.word2vec.trainer.Word2Vec`: the corpus reading, vocabulary,
encoded corpus, thread runner (``EpochRunner``), linear lr schedule, float64 loss tally,
progress bar, checkpoints and determinism with one worker are word2vec's. What differs:

* the input matrix ``syn0`` has one row per word, then one per hashed n-gram bucket
  (:mod:`firth.vectors.subwords`, ids equal to Facebook's) that some vocabulary word uses:
  the other buckets are never trained, so they are not stored (:mod:`firth.train.fasttext.compact`;
  ``compact_ngrams = False`` keeps all ``bucket`` rows, the reference); it is initialised as
  fastText does, uniform in ``[-1/dim, 1/dim]``, each row as the dense matrix would have it;
  the output matrix starts at zero;
* a word's input vector is the **mean** of its rows (Facebook's code; the paper writes a sum,
  see :mod:`firth.vectors.fasttext`), and the Numba kernels
  (:mod:`firth.train.fasttext.kernels`) add the hidden-layer gradient to every row;
* ``wv`` is a :class:`FastTextVectors`, so every word, seen or not, has a vector.

The defaults are Facebook's (:class:`~firth.train.config.FastTextConfig`): lr 0.05 decayed
to 0, sampling threshold 1e-4, noise distribution unigram^0.5 (hard-coded in fastText; an
option here, ``ns_exponent``), minn 3, maxn 6, bucket 2M, 5 epochs, window 5, 5 negatives.
Negatives that hit the positive word are skipped (Facebook redraws them). The loss per epoch
is the mean loss of a (centre, context) pair in that epoch; fastText prints a running mean
since the start of training -- see docs/fasttext.md for why it can rise while lr falls.

The n-gram rows dominate memory (at most 2M buckets x 100 dims x 4 bytes = 800 MB; the used
ones only: 8% of them on 5M words of en-mix): ``bucket`` is honoured exactly (hash ids
modulo it, and the files written hold all its rows, unused ones zero) and the memory a run
needs is printed before training.
"""

from __future__ import annotations

import sys

import numpy as np

from firth.train.config import FastTextConfig
from firth.train.word2vec import Word2Vec


class FastText(Word2Vec):
    """fastText (Bojanowski et al. 2017) skip-gram / CBOW with subwords.

    ``FastText(config)`` or ``FastText(minn=..., bucket=..., ...)``: the fields of
    :class:`~firth.train.config.FastTextConfig`.
    """

    Config = FastTextConfig
    compact_ngrams = True  # store only the used bucket rows (False: all of them, the dense reference)

    def __init__(self, config: FastTextConfig | None = None, **kwargs):
        super().__init__(config, **kwargs)
        self._subwords = None
        self._used = None  # the used buckets (sorted), when the n-gram rows are compact

    def settings(self) -> dict:
        s = super().settings()
        s.update({"model": "fasttext-" + self.model, "minn": self.minn, "maxn": self.maxn, "bucket": self.n_buckets,
                  "kernel": "fasttext-" + self.model})
        s.pop("tied", None)
        return s

    def resolved_kernel(self) -> str:
        return "fasttext-" + self.model

    @property
    def n_buckets(self) -> int:
        return self.config.n_buckets

    # ------------------------------------------------------------------ memory
    @property
    def n_ngram_rows(self) -> int:
        """n-gram rows stored in ``syn0``: the used buckets (compact), else all of them."""
        return self.n_buckets if self._used is None else len(self._used)

    def memory_estimate(self, n_words: int, n_tokens: int | None = None) -> dict:
        """Bytes the run needs: matrices, subword table, encoded corpus, and the saved copy."""
        d = self.dim
        rows = n_words + self.n_ngram_rows
        est = {
            "input matrix (words + used buckets)": 4 * rows * d,
            "output matrix": 4 * n_words * d,
            "composed word vectors (output)": 4 * n_words * d,
            "subword table (~25 rows a word)": 4 * n_words * (1 + (25 if self.maxn else 0)),
        }
        if n_tokens is not None:
            est["encoded corpus ids (memory-mapped)"] = 4 * n_tokens
        return est

    def print_memory(self, file=None) -> None:
        est = self.memory_estimate(len(self.vocab), getattr(self._encoded, "n_tokens", None))
        mb = lambda b: f"{b / 2**20:,.0f} MB"  # noqa: E731
        total = sum(est.values())
        parts = "; ".join(f"{k} {mb(v)}" for k, v in est.items())
        print(
            f"memory: about {mb(total)} for {len(self.vocab):,} words x {self.dim} dims with "
            f"{self.n_buckets:,} n-gram buckets, {self.n_ngram_rows:,} of them used ({parts})",
            file=file or sys.stderr,
        )

    # ------------------------------------------------------------------ weights
    def _init_weights(self):
        import threading

        from firth.train.fasttext.compact import uniform_used_rows
        from firth.train.fasttext.kernels import uniform_rows

        self._subwords = None
        self._subword_tables()  # decides the used buckets
        V, d = len(self.vocab), self.dim
        rows = V + self.n_ngram_rows
        # fastText: input uniform in [-1/dim, 1/dim], output zero. Filled by Numba on every
        # worker; the result does not depend on the number of workers, and a compact row
        # holds the values of its bucket's row in the dense matrix.
        self.syn0 = np.empty((rows, d), dtype=np.float32)
        lim = np.float32(1.0 / d)
        n = max(1, min(self.workers, rows // 65536 + 1))
        cuts = [rows * k // n for k in range(n + 1)]
        if self._used is None:
            tasks = [(uniform_rows, (self.syn0, cuts[k], cuts[k + 1], lim, self.seed)) for k in range(n)]
        else:
            used = self._used
            tasks = []
            for k in range(n):
                a, b = cuts[k], cuts[k + 1]
                if a < V:
                    tasks.append((uniform_rows, (self.syn0, a, min(b, V), lim, self.seed)))
                if b > V:
                    tasks.append((uniform_used_rows, (self.syn0, V, used, max(a, V) - V, b - V, lim, self.seed)))
        ts = [threading.Thread(target=fn, args=args) for fn, args in tasks]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.syn1 = np.zeros((V, d), dtype=np.float32)

    def _subword_tables(self):
        """Each vocabulary word's subword rows (CSR offsets, ids: rows of ``syn0``) and
        averaging scale, built once; with compact n-gram rows the ids are renumbered and
        ``self._used`` holds the used buckets."""
        if self._subwords is None:
            from firth.train.fasttext.compact import compact_subwords
            from firth.train.fasttext.kernels import subword_scale
            from firth.vectors.subwords import subword_table

            off, sub = subword_table(self.vocab.words, self.minn, self.maxn, self.n_buckets)
            self._used = None
            if self.compact_ngrams and self.n_buckets:
                self._used, sub = compact_subwords(sub, len(self.vocab))
            self._subwords = (off, sub, subword_scale(off, sub))
        return self._subwords

    # ------------------------------------------------------------------ checkpoints
    def checkpoint_shapes(self) -> dict:
        shapes = super().checkpoint_shapes()
        shapes["syn0"] = (len(self.vocab) + self.n_ngram_rows, self.dim)
        return shapes

    def _check_checkpoint(self, state: dict, arrays: dict, epochs: int) -> None:
        """As word2vec's; a checkpoint with all ``bucket`` rows (written before the rows were
        compact, or with ``compact_ngrams = False``) is read by keeping the used rows."""
        V, syn0 = len(self.vocab), arrays.get("syn0")
        dense = (V + self.n_buckets, self.dim)
        if self._used is not None and syn0 is not None and syn0.shape == dense != self.checkpoint_shapes()["syn0"]:
            rows = np.empty((V + len(self._used), self.dim), dtype=syn0.dtype)
            rows[:V] = syn0[:V]
            rows[V:] = syn0[V + self._used]
            arrays["syn0"] = rows
        super()._check_checkpoint(state, arrays, epochs)

    # ------------------------------------------------------------------ training
    def _job_fn(self):
        from firth.train.fasttext import kernels as K
        from firth.train.kernels import Job

        sents, syn0, syn1, sampling = self._kernel_inputs()
        sub = K.Subwords(*self._subword_tables())
        kern = K.train_ft_cbow if self.model == "cbow" else K.train_ft_sg

        def job(s0, s1, a0, a1, seed):
            return kern(sents, Job(s0, s1, a0, a1, seed), syn0, syn1, sub, sampling)

        return job

    def train(self, corpus=None, epochs=None, checkpoint=None, callbacks=None, progress=None):
        """As :meth:`Word2Vec.train`; prints the memory the run needs first (unless quiet)."""
        if self.vocab is None and corpus is not None:
            self.build_vocab(corpus)
            corpus = None  # encoded now
        show = self.progress if progress is None else progress
        if show and self.vocab is not None:
            self.print_memory()
        return super().train(corpus, epochs=epochs, checkpoint=checkpoint, callbacks=callbacks, progress=progress)

    @property
    def running_losses(self) -> list[float]:
        """After each epoch, the mean loss per example since the start of training: the
        number fastText prints (``avg.loss``; it never resets between epochs). firth's own
        ``epoch_losses`` are per epoch; docs/fasttext.md says why either can rise while lr falls."""
        out, tot, n = [], 0.0, 0
        for s, mean in zip(self.epoch_loss_sums, self.epoch_losses):
            tot += s
            n += round(s / mean) if mean else 0
            out.append(tot / n if n else float("nan"))
        return out

    # ------------------------------------------------------------------ results
    @property
    def wv(self):
        """The trained vectors as FastTextVectors (word rows, n-gram rows, output matrix).

        The matrices are views of the trainer's (no copy); train further and they move
        (as Word2Vec's ``wv``). With compact n-gram rows, ``vectors_ngrams`` is an
        :class:`~firth.vectors.fasttext.NgramRows` (unused buckets read as zero rows).
        """
        return self.vectors(copy=False)

    def vectors(self, copy: bool = False):
        """As :attr:`wv`; ``copy=True`` gives matrices of their own."""
        from firth.vectors import FastTextVectors
        from firth.vectors.fasttext import NgramRows
        from firth.errors import FirthError

        if self.syn0 is None:
            raise FirthError("the model has not been trained yet")
        self.check_finite(max(self.epochs_trained - 1, 0))  # every writer (also --distributed) gets finite rows
        V = len(self.vocab)
        meta = {
            "trainer": "firth.fasttext",
            "settings": self.settings(),
            "workers": self.workers,
            "epochs_trained": self.epochs_trained,
            "epoch_losses": self.epoch_losses,
            "words_trained": self.words_trained,
            "corpus_words": int(self.vocab.total),
            "ntokens": int(self.vocab.total),
            "fasttext_args": {
                "dim": self.dim, "ws": self.window, "epoch": self.epochs, "min_count": self.min_count,
                "neg": self.negative, "model": 1 if self.model == "cbow" else 2, "t": self.sample or 1e-4,
                "lr_update_rate": 100,
            },
        }
        cp = np.copy if copy else (lambda a: a)
        ngrams = cp(self.syn0[V:])
        if self._used is not None and len(self._used) < self.n_buckets:
            ngrams = NgramRows(ngrams, self._used, self.n_buckets)
        return FastTextVectors(
            self.vocab.words, cp(self.syn0[:V]), ngrams, self.minn, self.maxn,
            counts=self.vocab.counts, normalizer=self.normalizer, meta=meta, output=cp(self.syn1),
        )
