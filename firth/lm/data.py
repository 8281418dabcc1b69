"""Text for language modelling, PTB conventions: whitespace tokens, ``<eos>`` at each line end,
words outside the vocabulary read as ``<unk>``.

* :class:`Vocab` — words by decreasing training frequency (ties in first-seen order), so
  that an adaptive softmax's frequent head is the low ids; ``<eos>`` and ``<unk>`` always in.
* :func:`read_ids` — a file as one long id tensor (and how many tokens were out of vocabulary).
* :func:`train_streams` — ``batch`` contiguous streams (the remainder dropped), as (S, batch).
* :func:`eval_streams` — every token of a file predicted exactly once: the text cut into
  ``n`` contiguous parts, each read after an ``<eos>`` (as if it started a line).
"""

from __future__ import annotations

from collections import Counter

import torch

from firth.errors import FirthError
from firth.io import open_text

__all__ = ["EOS", "UNK", "Vocab", "read_tokens", "read_ids", "train_streams", "eval_streams"]

EOS, UNK = "<eos>", "<unk>"


def read_tokens(path):
    """Yield the tokens of a text file line by line, an ``<eos>`` after each line."""
    try:
        with open_text(path) as f:
            for line in f:
                yield from line.split()
                yield EOS
    except FileNotFoundError:
        raise FirthError(f"{path}: no such file") from None
    except UnicodeDecodeError as e:
        raise FirthError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start}); convert it to UTF-8") from None
    except IsADirectoryError:
        raise FirthError(f"{path}: is a directory; give a text file") from None


class Vocab:
    """Word ↔ id. ``Vocab.build(path)`` from a training text; ``Vocab(words)`` from a saved list."""

    def __init__(self, words, counts=None):
        words = list(words)
        if len(set(words)) != len(words) or not all(isinstance(w, str) and w for w in words):
            raise FirthError("vocabulary: words must be distinct non-empty strings; the model is damaged")
        if EOS not in words or UNK not in words:
            raise FirthError(f"vocabulary: must contain {EOS} and {UNK}; the model is damaged")
        self.itos = words
        self.stoi = {w: i for i, w in enumerate(words)}
        self.counts = counts
        self.unk = self.stoi[UNK]
        self.eos = self.stoi[EOS]

    def __len__(self):
        return len(self.itos)

    @classmethod
    def build(cls, path, max_size: int = 0) -> "Vocab":
        counts = Counter(read_tokens(path))
        if not counts or set(counts) == {EOS}:
            raise FirthError(f"{path}: no words; a language model needs running text")
        counts.setdefault(UNK, 0)
        order = sorted(counts, key=lambda w: -counts[w])  # stable: ties keep first-seen order
        if max_size and len(order) > max_size:
            keep = set(order[:max_size])
            for w in (EOS, UNK):
                keep.add(w)
            dropped = sum(counts[w] for w in order if w not in keep)
            counts[UNK] += dropped
            order = sorted((w for w in order if w in keep), key=lambda w: -counts[w])
        return cls(order, [counts[w] for w in order])

    def encode(self, tokens) -> tuple[torch.Tensor, int]:
        """Token ids (int64) and the number of tokens that were out of vocabulary."""
        get, unk = self.stoi.get, self.unk
        ids = [get(t, unk) for t in tokens]
        oov = sum(1 for t in tokens if t not in self.stoi)
        return torch.tensor(ids, dtype=torch.int64), oov


def read_ids(path, vocab: Vocab) -> tuple[torch.Tensor, int]:
    """A whole file as ids ``(N,)`` and its out-of-vocabulary count; an empty file is an error."""
    tokens = list(read_tokens(path))
    if not tokens:
        raise FirthError(f"{path}: empty file; give running text, one paragraph or sentence per line")
    return vocab.encode(tokens)


def train_streams(ids: torch.Tensor, batch: int, path="training text") -> torch.Tensor:
    """``ids`` cut into ``batch`` contiguous streams: (S, batch), column b = the b-th part."""
    S = ids.numel() // batch
    if S < 2:
        raise FirthError(f"{path}: {ids.numel()} tokens are too few for --batch {batch}; "
                         "give more text or a smaller --batch")
    return ids[: S * batch].view(batch, S).t().contiguous()


def eval_streams(ids: torch.Tensor, n: int, eos: int):
    """Inputs and targets so that every token of ``ids`` is predicted once.

    Returns ``inputs`` (S, n), ``targets`` (S, n) and ``lengths`` (n,): part b of the text is
    ``targets[:lengths[b], b]`` and is read from ``inputs[:, b] = [<eos>, its tokens[:-1]]``.
    Parts are as equal as possible (the first ones one token longer).
    """
    N = ids.numel()
    n = max(1, min(n, N))
    sizes = [N // n + (1 if b < N % n else 0) for b in range(n)]
    S = sizes[0]
    inputs = torch.full((S, n), eos, dtype=torch.int64)
    targets = torch.zeros((S, n), dtype=torch.int64)
    start = 0
    for b, size in enumerate(sizes):
        part = ids[start : start + size]
        targets[:size, b] = part
        inputs[1:size, b] = part[:-1]
        start += size
    return inputs, targets, torch.tensor(sizes, dtype=torch.int64)
