"""What sits on top of RNN*: acceptor/encoder and transducer heads, and losses that ignore padding.

* **Acceptor / encoder** — supervision on the sequence: one vector summarises x₁:ₙ and an
  MLP maps it to class scores::

      enc = O(sₙ)  (for a biRNN [RNN_f(x₁:ₙ); RNN_b(xₙ:₁)])   or   pool(y₁:ₙ)  (mean / max)
      logits = MLP(enc)                       loss = CE(softmax(logits), label)

* **Transducer** — supervision at every position: ``logitsᵢ = MLP(yᵢ)`` and the loss is
  the sum (or mean) of the per-token losses over *real* tokens only.

Heads return logits (the softmax lives in the loss, ``F.cross_entropy``, which is
numerically safer). Padding is excluded by construction: pooling and the transducer loss
use ``lengths`` to build a mask, so whatever sits in padded positions — outputs or
targets — cannot change the result.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from firth.errors import FirthError

__all__ = [
    "MLP", "length_mask", "pool", "AcceptorHead", "TransducerHead", "sequence_loss", "transducer_loss",
    "POOLING",
]

POOLING = ("final", "mean", "max")


def length_mask(lengths: torch.Tensor, T: int, device=None) -> torch.Tensor:
    """(B, T) bool: True at real tokens (position t < length)."""
    lengths = torch.as_tensor(lengths, device=device)
    return torch.arange(T, device=lengths.device).unsqueeze(0) < lengths.unsqueeze(1)


def pool(y: torch.Tensor, lengths: torch.Tensor, how: str = "mean") -> torch.Tensor:
    """Pool outputs y (B, T, d) over each sequence's real tokens: ``"mean"`` or ``"max"``."""
    mask = length_mask(lengths, y.shape[1], device=y.device).unsqueeze(-1)
    if how == "mean":
        n = mask.sum(dim=1).clamp(min=1).to(y.dtype)
        return (y * mask).sum(dim=1) / n
    if how == "max":
        # -inf at padding so it never wins (every sequence has ≥ 1 real token)
        return y.masked_fill(~mask, float("-inf")).max(dim=1).values
    raise FirthError(f"pooling {how!r}: use one of {', '.join(POOLING)}")


class MLP(nn.Module):
    """``MLP(v) = W₂ g(W₁ v + b₁) + b₂`` (g = tanh), or one linear map if ``hidden`` is 0."""

    def __init__(self, input_size: int, output_size: int, hidden: int = 0, dropout: float = 0.0):
        super().__init__()
        self.input_size, self.output_size, self.hidden = int(input_size), int(output_size), int(hidden)
        self.dropout = nn.Dropout(dropout)
        if hidden:
            self.net = nn.Sequential(nn.Linear(input_size, hidden), nn.Tanh(), nn.Dropout(dropout), nn.Linear(hidden, output_size))
        else:
            self.net = nn.Linear(input_size, output_size)

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        return self.net(self.dropout(v))


class AcceptorHead(nn.Module):
    """Sequence → logits (B, C). ``pooling``: ``"final"`` (the RNN's final output; both
    directions' final states for a biRNN), ``"mean"`` or ``"max"`` over real tokens.

    ``forward(y, lengths, final)``: ``y`` (B, T, d) RNN outputs, ``final`` (B, d) the
    encoding from :meth:`firth.rnn.RNN.final_output` (needed only for ``"final"``).
    """

    def __init__(self, input_size: int, num_classes: int, hidden: int = 0, pooling: str = "final", dropout: float = 0.0):
        super().__init__()
        if pooling not in POOLING:
            raise FirthError(f"pooling {pooling!r}: use one of {', '.join(POOLING)}")
        self.pooling = pooling
        self.mlp = MLP(input_size, num_classes, hidden, dropout)

    def forward(self, y: torch.Tensor, lengths: torch.Tensor, final: torch.Tensor | None = None) -> torch.Tensor:
        if self.pooling == "final":
            if final is None:
                raise FirthError("AcceptorHead(pooling='final') needs the RNN's final output")
            enc = final
        else:
            enc = pool(y, lengths, self.pooling)
        return self.mlp(enc)


class TransducerHead(nn.Module):
    """Per-position logits (B, T, C) = MLP(yᵢ) at every position (padding is masked in the loss)."""

    def __init__(self, input_size: int, num_classes: int, hidden: int = 0, dropout: float = 0.0):
        super().__init__()
        self.mlp = MLP(input_size, num_classes, hidden, dropout)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return self.mlp(y)


def sequence_loss(logits: torch.Tensor, targets: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy of acceptor logits (B, C) against one label per sequence (B,)."""
    if logits.dim() != 2 or targets.shape != logits.shape[:1]:
        raise FirthError(f"sequence_loss: logits {tuple(logits.shape)} and targets {tuple(targets.shape)} do not match (B, C) / (B,)")
    return F.cross_entropy(logits, targets, reduction=reduction)


def transducer_loss(logits: torch.Tensor, targets: torch.Tensor, lengths: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy summed (``"sum"``) or averaged (``"mean"``, per real token) over the
    real tokens of each sequence; padded positions are dropped before the loss is computed,
    so their logits and targets (any value, even out of range) have no effect.

    ``logits`` (B, T, C), ``targets`` (B, T) long, ``lengths`` (B,).
    """
    if logits.dim() != 3 or targets.shape != logits.shape[:2]:
        raise FirthError(f"transducer_loss: logits {tuple(logits.shape)} and targets {tuple(targets.shape)} do not match (B, T, C) / (B, T)")
    mask = length_mask(lengths, logits.shape[1], device=logits.device)
    return F.cross_entropy(logits[mask], targets[mask], reduction=reduction)
