"""Input layer: tokens → vectors xᵢ for the RNN (word embeddings, optionally + characters).

Index policy (fixed, so every model and data reader agrees):

* ``<pad>`` is index 0: its row is zero and receives no gradient (``padding_idx=0``), so a
  padded position contributes nothing even before the RNN masks it.
* ``<unk>`` is index 1: every token not in the vocabulary maps to it.
* Tokens are looked up after the *normaliser* the vectors were trained with
  (``kv.normalizer``, e.g. lower-casing), which is saved with the model.

Initialising from firth vectors (:meth:`WordEmbedding.from_vectors`, any
:class:`PretrainedVectors`: ``kv.index_to_key``, ``kv.key_to_index``, ``kv.vectors``,
``kv.normalizer``, ``kv.normalize``, ``kv[w]``; :class:`SubwordVectors` add
``kv.has_vector``/``kv.get_vector``): a vocabulary word takes its stored
vector; a word outside the vectors' vocabulary takes ``kv.get_vector(w)`` when the vectors
can make one (they have ``has_vector``/``get_vector`` and ``kv.has_vector(w)`` is true, as
fastText vectors do from character n-grams; an all-zero result counts as none), otherwise
it is initialised like ``<unk>``. The ``unk_init`` policy sets the ``<unk>`` row (and such uncovered words):

* ``"zero"``   — a zero vector: unknown words carry no lexical information;
* ``"mean"``   — the mean of the pretrained rows: an "average word" (the default);
* ``"random"`` — normal noise with the pretrained rows' per-dimension mean and standard
  deviation (seeded), so unknown words are distinguishable if the layer is trained.

``freeze=True`` keeps every row fixed (pretrained, ``<unk>`` and uncovered words alike).

``trainable=k`` (a task model's vocabulary: its training words first, then more words from
the vectors, so that test words unseen in training still get their pretrained vector): only
the rows of ``<pad>``, ``<unk>`` and the first ``k`` words are parameters; the rest are a
fixed buffer. The result is the same as one trainable table — rows of words that never occur
in training get a zero gradient, and Adam leaves a row whose gradient has always been zero
where it is — but the optimiser, the gradient clipping and the embedding's backward pass no
longer sweep 100,000 idle rows at every step (which made an SST-2 epoch ~4x slower).

An optional :class:`CharEncoder` (a small biLSTM, or a CNN with max-pooling, over the
characters of each raw token) gives a vector that is concatenated to the word vector —
useful for rare and unseen words, whose spelling still says something.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from firth.errors import FirthError
from firth.text import Normalizer


class PretrainedVectors(Protocol):
    """What :meth:`WordEmbedding.from_vectors` reads (firth's ``KeyedVectors`` and
    ``FastTextVectors``; a ``normalizer`` that is not a :class:`~firth.text.Normalizer` is
    used as ``normalize`` but not saved)."""

    index_to_key: list
    key_to_index: dict
    vectors: np.ndarray
    normalizer: object

    def normalize(self, token: str) -> str: ...

    def __getitem__(self, word: str) -> np.ndarray: ...


@runtime_checkable
class SubwordVectors(Protocol):
    """Vectors that may have a vector for a word they do not list (fastText, from its n-grams):
    ``has_vector(w)`` says whether they do (cheap; plain KeyedVectors answer False)."""

    def has_vector(self, word: str) -> bool: ...

    def get_vector(self, word: str) -> np.ndarray: ...

__all__ = ["PAD", "UNK", "PAD_INDEX", "UNK_INDEX", "UNK_INIT", "WordEmbedding", "CharEncoder", "InputLayer"]

PAD, UNK = "<pad>", "<unk>"
PAD_INDEX, UNK_INDEX = 0, 1
UNK_INIT = ("zero", "mean", "random")


def _normalizer(config: dict | None):
    if config is None:
        return lambda tok: tok
    return Normalizer.from_dict(config)


class WordEmbedding(nn.Module):
    """Word index → vector; row 0 is ``<pad>``, row 1 ``<unk>``, then the vocabulary.

    ``WordEmbedding(words, dim)`` trains from scratch (rows ~ N(0, 1), as nn.Embedding);
    :meth:`from_vectors` starts from pretrained vectors.
    """

    def __init__(self, words: Sequence[str], dim: int, freeze: bool = False, unk_init: str = "mean",
                 normalizer: dict | None = None, trainable: int | None = None):
        super().__init__()
        if unk_init not in UNK_INIT:
            raise FirthError(f"unk_init {unk_init!r}: use one of {', '.join(UNK_INIT)}")
        words = list(words)
        if trainable is not None and not 0 <= trainable <= len(words):
            raise FirthError(f"trainable={trainable}: must be between 0 and the number of words ({len(words)})")
        self.normalizer_config = normalizer
        self._normalize = _normalizer(normalizer)
        k = len(words) if trainable is None else int(trainable)

        def unique(ws):  # keep the first occurrence of each word
            return list(dict.fromkeys(w for w in ws if w not in (PAD, UNK)))

        head = [PAD, UNK] + unique(words[:k])
        seen = set(head)  # built once: 100k extra words are checked against it
        self.itos = head + [w for w in unique(words[k:]) if w not in seen]
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        self.n_trainable = len(head)  # rows [0, n_trainable) are parameters, the rest a fixed buffer
        self.dim = int(dim)
        self.unk_init = unk_init
        self.freeze = bool(freeze)
        self.embedding = nn.Embedding(self.n_trainable, self.dim, padding_idx=PAD_INDEX)
        self.embedding.weight.requires_grad_(not self.freeze)
        self.register_buffer("fixed", torch.zeros(len(self.itos) - self.n_trainable, self.dim))

    @property
    def weight(self) -> torch.Tensor:
        """The whole table, trainable rows then fixed rows (a detached copy, for reading)."""
        return torch.cat([self.embedding.weight.detach(), self.fixed.to(self.embedding.weight.dtype)])

    def set_weight(self, weight) -> None:
        """Overwrite the whole table (rows in ``itos`` order)."""
        w = torch.as_tensor(np.asarray(weight), dtype=self.embedding.weight.dtype)
        if tuple(w.shape) != (len(self.itos), self.dim):
            raise FirthError(f"embedding weight of shape {tuple(w.shape)}; expected {(len(self.itos), self.dim)}")
        with torch.no_grad():
            self.embedding.weight.copy_(w[: self.n_trainable])
            self.fixed.copy_(w[self.n_trainable :].to(self.fixed.dtype))

    @classmethod
    def from_vectors(cls, kv: PretrainedVectors, words: Sequence[str] | None = None, max_words: int | None = None,
                     freeze: bool = False, unk_init: str = "mean", seed: int = 0,
                     trainable: int | None = None) -> "WordEmbedding":
        """Rows from firth vectors ``kv`` (see the module docstring for the policy).

        ``words``: the vocabulary to build (e.g. the training set's words); default: the
        vectors' own vocabulary, the ``max_words`` most frequent. ``trainable``: only the
        first that many words are fine-tuned (see the module docstring).
        """
        norm_cfg = kv.normalizer.to_dict() if isinstance(kv.normalizer, Normalizer) else None
        normalize = kv.normalize
        if words is None:
            vocab = list(kv.index_to_key[: max_words or len(kv.index_to_key)])
        else:
            vocab = [normalize(w) for w in words]
            if max_words is not None:
                vocab = vocab[:max_words]
        if trainable is not None:
            trainable = min(int(trainable), len(vocab))
        emb = cls(vocab, kv.vectors.shape[1], freeze=freeze, unk_init=unk_init, normalizer=norm_cfg,
                  trainable=trainable)
        if norm_cfg is None:
            # a vectors object without a saveable Normalizer: use its normalize() as is
            # (a saved model then looks tokens up unnormalised: give kv a .normalizer to keep it)
            emb._normalize = kv.normalize
        d = emb.dim
        weight = np.zeros((len(emb.itos), d), dtype=np.float64)
        covered = np.zeros(len(emb.itos), dtype=bool)
        key_to_index = kv.key_to_index
        # Vectors for unseen words only from objects that can make them (FastTextVectors has
        # has_vector/get_vector). Plain vectors are not asked: get_vector would only raise,
        # after computing spelling suggestions — slow over thousands of task words.
        subwords = isinstance(kv, SubwordVectors)
        for i, w in enumerate(emb.itos[2:], start=2):
            known = w in key_to_index
            if known:
                weight[i] = np.asarray(kv[w], dtype=np.float64)
                covered[i] = True
            elif subwords and kv.has_vector(w):  # fastText: a vector from the word's n-grams
                v = np.asarray(kv.get_vector(w), dtype=np.float64)
                if v.shape == (d,) and np.any(v):  # an all-zero vector means "no n-grams"
                    weight[i] = v
                    covered[i] = True
        base = weight[covered] if covered.any() else np.asarray(kv.vectors[: 10000], dtype=np.float64)
        fill = emb._unknown_rows(base, int((~covered).sum()) - 1, seed)  # all uncovered but <pad>
        weight[~covered & (np.arange(len(emb.itos)) != PAD_INDEX)] = fill
        weight[PAD_INDEX] = 0.0
        emb.set_weight(weight)
        emb.covered = int(covered.sum())  # words with a pretrained (or subword) vector
        return emb

    def _unknown_rows(self, base: np.ndarray, n: int, seed: int) -> np.ndarray:
        """Initial rows for ``<unk>`` and uncovered words under the ``unk_init`` policy."""
        if n <= 0:
            return np.zeros((0, self.dim))
        if self.unk_init == "zero":
            return np.zeros((n, self.dim))
        mean = base.mean(axis=0) if len(base) else np.zeros(self.dim)
        if self.unk_init == "mean":
            return np.tile(mean, (n, 1))
        std = base.std(axis=0) if len(base) > 1 else np.ones(self.dim)
        rng = np.random.default_rng(seed)
        return mean + std * rng.standard_normal((n, self.dim))

    def __len__(self) -> int:
        return len(self.itos)

    def index(self, token: str) -> int:
        """The row of a raw token (normalised first); ``UNK_INDEX`` when unknown."""
        return self.stoi.get(self._normalize(token), UNK_INDEX)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        return [self.index(t) for t in tokens]

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        n = self.n_trainable
        if self.fixed.shape[0] == 0:
            return self.embedding(ids)
        inner = ids < n
        out = self.embedding(torch.where(inner, ids, PAD_INDEX))
        if bool(inner.all()):  # every training batch: no fixed row in it
            return out
        fixed = nn.functional.embedding(torch.where(inner, 0, ids - n), self.fixed).to(out.dtype)
        return torch.where(inner.unsqueeze(-1), out, fixed)

    def config(self) -> dict:
        return {"words": self.itos[2:], "dim": self.dim, "freeze": self.freeze,
                "unk_init": self.unk_init, "normalizer": self.normalizer_config,
                "trainable": self.n_trainable - 2 if self.fixed.shape[0] else None}

    @classmethod
    def from_config(cls, config: dict) -> "WordEmbedding":
        return cls(config["words"], config["dim"], freeze=config.get("freeze", False),
                   unk_init=config.get("unk_init", "mean"), normalizer=config.get("normalizer"),
                   trainable=config.get("trainable"))


class CharEncoder(nn.Module):
    """A word's characters → one vector: a biLSTM's two final states, or CNN + max-pool.

    ``kind="lstm"``: ``[LSTM_f(c₁:ₘ); LSTM_b(cₘ:₁)]``, size 2·hidden.
    ``kind="cnn"``: ``maxⱼ ReLU(W [cⱼ₋ₖ;…;cⱼ₊ₖ] + b)`` over real characters, size hidden.
    Character ids: 0 padding, 1 unknown character. Words are truncated to ``max_chars``.
    """

    def __init__(self, chars: Sequence[str], char_dim: int = 16, hidden: int = 16, kind: str = "lstm",
                 kernel: int = 3, max_chars: int = 30):
        super().__init__()
        if kind not in ("lstm", "cnn"):
            raise FirthError(f"character encoder {kind!r}: use 'lstm' or 'cnn'")
        self.chars = [c for c in dict.fromkeys(chars) if len(c) == 1]
        self.ctoi = {c: i + 2 for i, c in enumerate(self.chars)}
        self.char_dim, self.hidden, self.kind = int(char_dim), int(hidden), kind
        self.kernel, self.max_chars = int(kernel), int(max_chars)
        self.embedding = nn.Embedding(len(self.chars) + 2, self.char_dim, padding_idx=0)
        if kind == "lstm":
            from firth.rnn.runner import RNN

            self.rnn = RNN("lstm", self.char_dim, self.hidden, bidirectional=True)
        else:
            self.conv = nn.Conv1d(self.char_dim, self.hidden, self.kernel, padding=self.kernel // 2)

    @staticmethod
    def chars_from(words, min_count: int = 1) -> list[str]:
        """The characters of ``words`` seen at least ``min_count`` times, most frequent first."""
        counts = Counter(ch for w in words for ch in w)
        return [c for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if n >= min_count]

    @property
    def output_size(self) -> int:
        return 2 * self.hidden if self.kind == "lstm" else self.hidden

    def encode(self, token: str) -> list[int]:
        return [self.ctoi.get(c, 1) for c in token[: self.max_chars]]

    def forward(self, char_ids: torch.Tensor, char_lengths: torch.Tensor) -> torch.Tensor:
        """``char_ids`` (B, T, C), ``char_lengths`` (B, T) (0 at padded positions) → (B, T, out)."""
        B, T, C = char_ids.shape
        flat_ids = char_ids.reshape(B * T, C)
        flat_len = char_lengths.reshape(B * T)
        out = char_ids.new_zeros((B * T, self.output_size), dtype=self.embedding.weight.dtype)
        real = torch.nonzero(flat_len > 0).squeeze(1)  # padded word positions stay zero
        if len(real) == 0:
            return out.reshape(B, T, -1)
        ids, lens = flat_ids[real], flat_len[real]
        e = self.embedding(ids)  # (n, C, char_dim)
        if self.kind == "lstm":
            _, s_n = self.rnn(e, lens)
            enc = self.rnn.final_output(s_n)
        else:
            h = torch.relu(self.conv(e.transpose(1, 2))).transpose(1, 2)  # (n, C, hidden)
            mask = torch.arange(C, device=h.device).unsqueeze(0) < lens.unsqueeze(1)
            enc = h.masked_fill(~mask.unsqueeze(-1), float("-inf")).max(dim=1).values
        out = out.index_copy(0, real, enc)
        return out.reshape(B, T, -1)

    def config(self) -> dict:
        return {"chars": self.chars, "char_dim": self.char_dim, "hidden": self.hidden, "kind": self.kind,
                "kernel": self.kernel, "max_chars": self.max_chars}

    @classmethod
    def from_config(cls, config: dict) -> "CharEncoder":
        return cls(**config)


class InputLayer(nn.Module):
    """``xᵢ = [E[wᵢ]; chars(wᵢ)]``: word vector, concatenated with the character encoding if any.

    :meth:`batch` turns a list of token lists into the padded tensors ``forward`` and the
    models take (``model(**layer.batch(sentences))``).
    """

    def __init__(self, words: WordEmbedding, chars: CharEncoder | None = None):
        super().__init__()
        self.words = words
        self.chars = chars

    @property
    def output_size(self) -> int:
        return self.words.dim + (self.chars.output_size if self.chars is not None else 0)

    def forward(self, x: torch.Tensor, chars: torch.Tensor | None = None,
                char_lengths: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() != 2 or x.dtype not in (torch.int64, torch.int32):
            raise FirthError(f"InputLayer: expected word ids of shape (batch, time), got {x.dtype} {tuple(x.shape)}")
        v = self.words(x)
        if self.chars is not None:
            if chars is None or char_lengths is None:
                raise FirthError("InputLayer: this model reads characters; pass chars and char_lengths (see batch())")
            v = torch.cat([v, self.chars(chars, char_lengths).to(v.dtype)], dim=-1)
        return v

    def batch(self, sentences: Sequence[Sequence[str]], device=None) -> dict:
        """Padded tensors for a list of tokenised sentences: ``x`` (B, T) word ids,
        ``lengths`` (B,), and if characters are used ``chars`` (B, T, C), ``char_lengths``."""
        if len(sentences) == 0:
            raise FirthError("no sentences to batch")
        for k, s in enumerate(sentences):
            if len(s) == 0:
                raise FirthError(f"sentence {k} is empty; remove empty sentences before batching")
        B, T = len(sentences), max(len(s) for s in sentences)
        x = torch.full((B, T), PAD_INDEX, dtype=torch.int64)
        for b, s in enumerate(sentences):
            x[b, : len(s)] = torch.tensor(self.words.encode(s))
        out = {"x": x, "lengths": torch.tensor([len(s) for s in sentences], dtype=torch.int64)}
        if self.chars is not None:
            enc = [[self.chars.encode(t) for t in s] for s in sentences]
            C = max(1, max(len(c) for s in enc for c in s))
            chars = torch.zeros((B, T, C), dtype=torch.int64)
            lens = torch.zeros((B, T), dtype=torch.int64)
            for b, s in enumerate(enc):
                for t, c in enumerate(s):
                    if c:
                        chars[b, t, : len(c)] = torch.tensor(c)
                    lens[b, t] = len(c)
            out["chars"], out["char_lengths"] = chars, lens
        if device is not None:
            out = {k: (v.to(device) if k != "lengths" else v) for k, v in out.items()}
        return out

    def config(self) -> dict:
        return {"words": self.words.config(), "chars": self.chars.config() if self.chars is not None else None}

    @classmethod
    def from_config(cls, config: dict) -> "InputLayer":
        chars = CharEncoder.from_config(config["chars"]) if config.get("chars") else None
        return cls(WordEmbedding.from_config(config["words"]), chars)
