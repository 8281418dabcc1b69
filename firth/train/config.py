"""The trainers' settings: one frozen dataclass each, every default and its help in one place.

    from firth.train.config import Word2VecConfig, FastTextConfig
    cfg = Word2VecConfig(dim=300, window=8)       # validated here: a bad value is one-line FirthError
    Word2Vec(cfg) == Word2Vec(dim=300, window=8)  # keyword arguments build the config

The trainer never changes its config; ``as_dict()`` is what checkpoints and the vectors'
metadata save, and what a resumed run is compared with. ``firth train`` builds its options
from these fields (``cli_options``), so a default changed here changes the command too.
Imports nothing heavy (the CLI reads it at start-up).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field

from firth.errors import check

W2V_MODELS = ("sg", "cbow")
KERNELS = ("auto", "pairs", "batch")


def _opt(default, help: str, flag: str | None = None, **cli):
    """A config field: its default, and the help (and argparse extras) of its ``firth train`` option."""
    return field(default=default, metadata={"help": help, "flag": flag, "cli": cli})


def _int(name: str, v, lo: int, hi: int | None = None) -> None:
    check(isinstance(v, numbers.Integral) and not isinstance(v, bool), f"--{name}: must be an integer, got {v!r}")
    check(v >= lo, f"--{name}: must be >= {lo}, got {v}")
    if hi is not None:
        check(v <= hi, f"--{name}: {v} is absurdly large; use at most {hi}")


def _real(name: str, v) -> None:
    check(isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v),
          f"--{name}: must be a finite number, got {v!r}")


@dataclass(frozen=True)
class Word2VecConfig:
    """word2vec skip-gram / CBOW with negative sampling."""

    model: str = _opt("sg", "skip-gram or CBOW (word2vec), or their fastText subword versions")
    dim: int = _opt(100, "vector dimensions")
    window: int = _opt(5, "maximum context window (shrunk at random per position)")
    negative: int = _opt(5, "negative samples per positive example")
    epochs: int = _opt(5, "passes over the corpus")
    min_count: int = _opt(5, "ignore words occurring fewer times")
    max_vocab: int | None = _opt(None, "keep only the N most frequent words (None: no limit)")
    sample: float = _opt(1e-3, "subsampling threshold for frequent words (0 = off)")
    alpha: float = _opt(0.025, "initial learning rate")
    min_alpha: float = _opt(1e-4, "final learning rate (linear decay over all epochs)")
    ns_exponent: float = _opt(0.75, "noise distribution = unigram ** this (1.0 = corpus frequency, 0 = uniform)")
    workers: int | None = _opt(None, "training threads (None: the number of CPU cores, at most 8)")
    seed: int = _opt(1, "random seed (with --workers 1 results are bit-identical)")
    cbow_mean: bool = _opt(True, "CBOW: sum the context vectors instead of averaging them (default: average)",
                           flag="--cbow-sum")
    tied: bool = _opt(False, "one matrix for words and contexts (the 'only learnable parameter is E' variant)")
    kernel: str = _opt("auto", "skip-gram kernel: word2vec.c per-pair updates, or HogBatch (negatives shared "
                               "across a window); auto = batch (measured equal quality, faster)", choices=list(KERNELS))
    max_sentence_length: int = _opt(10_000, "longer lines are cut into pieces of this many tokens (no token is dropped)")

    MODELS = W2V_MODELS

    def __post_init__(self):
        self._validate_model()
        for name, lo, hi in (("dim", 1, 100_000), ("window", 1, 1000), ("negative", 1, 1000), ("epochs", 1, None),
                             ("min_count", 1, None), ("max_sentence_length", 1, None)):
            _int(name.replace("_", "-"), getattr(self, name), lo, hi)
        if self.workers is not None:
            _int("workers", self.workers, 1, 1024)
        if self.max_vocab is not None:
            check(isinstance(self.max_vocab, numbers.Integral) and self.max_vocab >= 1,
                  f"--max-vocab: must be an integer >= 1, got {self.max_vocab!r}")
        for name in ("alpha", "min_alpha", "sample", "ns_exponent"):
            _real(name.replace("_", "-"), getattr(self, name))
        check(0 < self.alpha <= 10, f"--alpha: must be in (0, 10], got {self.alpha}")
        check(0 <= self.min_alpha <= self.alpha, f"--min-alpha: must be in [0, alpha={self.alpha}], got {self.min_alpha}")
        check(0 <= self.sample < 1, f"--sample: must be in [0, 1) (0 disables subsampling), got {self.sample}")
        check(-10 <= self.ns_exponent <= 10, f"--ns-exponent: must be in [-10, 10], got {self.ns_exponent}")
        check(self.kernel in KERNELS, f"--kernel: must be one of {', '.join(KERNELS)}, got {self.kernel!r}")
        check(isinstance(self.seed, numbers.Integral) and not isinstance(self.seed, bool) and 0 <= self.seed < 2**63,
              f"--seed: must be an integer in [0, 2^63), got {self.seed!r}")

    def _validate_model(self):
        check(self.model in W2V_MODELS, f"--model: must be one of {', '.join(W2V_MODELS)}, got {self.model!r}")

    def replace(self, **changes):
        """A copy with ``changes`` (validated again)."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        """The settings as plain JSON values (``workers`` left out: it never changes the result's meaning)."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d.pop("workers")
        return {k: (int(v) if isinstance(v, numbers.Integral) and not isinstance(v, bool) else v) for k, v in d.items()}


@dataclass(frozen=True)
class FastTextConfig(Word2VecConfig):
    """fastText skip-gram / CBOW over character n-grams: word2vec's settings plus the n-grams.

    The defaults are Facebook fastText's (``fasttext skipgram``/``cbow``, ``args.cc``): lr 0.05
    decayed linearly to 0, sampling threshold 1e-4, noise distribution unigram^0.5 (hard-coded
    in fastText), minn 3, maxn 6, bucket 2,000,000, dim 100, ws 5, epoch 5, neg 5, minCount 5.
    """

    alpha: float = _opt(0.05, "initial learning rate")
    min_alpha: float = _opt(0.0, "final learning rate (linear decay over all epochs)")
    sample: float = _opt(1e-4, "subsampling threshold for frequent words (0 = off)")
    ns_exponent: float = _opt(0.5, "noise distribution = unigram ** this (1.0 = corpus frequency, 0 = uniform)")
    minn: int = _opt(3, "fastText: minimum character n-gram length")
    maxn: int = _opt(6, "fastText: maximum character n-gram length")
    bucket: int = _opt(2_000_000, "fastText: number of hash buckets for n-grams")

    def _validate_model(self):
        check(self.model in W2V_MODELS, f"--model: fastText trains fasttext-sg or fasttext-cbow, got {self.model!r}")
        check(not self.tied, "--tied: not available for fastText (word and n-gram rows form the input side)")
        for name in ("minn", "maxn", "bucket"):
            v = getattr(self, name)
            check(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0,
                  f"--{name}: must be an integer >= 0, got {v!r}")
        check(self.maxn <= 100, f"--maxn: {self.maxn} is absurdly large; use at most 100")
        check(self.maxn == 0 or 1 <= self.minn <= self.maxn,
              f"--minn {self.minn} / --maxn {self.maxn}: need 1 <= minn <= maxn (or --maxn 0 for no n-grams)")
        check(self.bucket < 2**31 - 2**26, f"--bucket: {self.bucket} is too large (at most about 2.1 billion rows)")
        check(self.maxn == 0 or self.bucket > 0, "--bucket 0: no room for n-grams; give --maxn 0 to train without them")

    @property
    def n_buckets(self) -> int:
        """Rows of n-gram buckets actually allocated (0 when maxn == 0, as fastText does)."""
        return int(self.bucket) if self.maxn > 0 else 0


def cli_options(skip=("model",)) -> list[tuple[str, dict]]:
    """``(flag, argparse keywords)`` for every config field, word2vec's and fastText's.

    A field whose default differs between the two configs gets ``default=None`` (resolved by
    the trainer's config) and both defaults in its help.
    """
    w2v = {f.name: f for f in dataclasses.fields(Word2VecConfig)}
    out = []
    for f in dataclasses.fields(FastTextConfig):
        if f.name in skip:
            continue
        meta = f.metadata
        flag = meta["flag"] or "--" + f.name.replace("_", "-")
        kw = dict(meta["cli"], help=meta["help"], dest=f.name)
        if isinstance(f.default, bool):
            kw.update(action="store_false" if f.default else "store_true", default=f.default)
        else:
            kw["type"] = type(f.default) if f.default is not None else (float if "float" in str(f.type) else int)
            kw["default"] = f.default
            if f.name in w2v and w2v[f.name].default != f.default:
                kw["default"] = None
                kw["help"] += f" (default: word2vec {w2v[f.name].default}, fastText {f.default})"
        out.append((flag, kw))
    return out
