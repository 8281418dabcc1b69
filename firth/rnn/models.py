"""Complete models: input layer → RNN* → head. Both return logits and rebuild from a JSON config.

* :class:`RNNAcceptor` — one prediction per sequence (text classification): logits (B, C).
* :class:`RNNTransducer` — one prediction per token (tagging): logits (B, T, C).

``forward(x, lengths, chars=None, char_lengths=None)``: ``x`` is either word ids (B, T)
when the model has an :class:`~firth.rnn.embedding.InputLayer`, or feature vectors
(B, T, d) when it has none. ``model(**model.embed.batch(sentences))`` works directly.
Train with :func:`firth.rnn.heads.sequence_loss` / :func:`~firth.rnn.heads.transducer_loss`.
"""

from __future__ import annotations

import torch
from torch import nn

from firth.errors import FirthError
from firth.rnn.embedding import InputLayer
from firth.rnn.heads import AcceptorHead, TransducerHead
from firth.rnn.runner import RNN

__all__ = ["RNNAcceptor", "RNNTransducer"]


class _RNNModel(nn.Module):
    kind = ""

    def __init__(self, rnn: RNN, embed: InputLayer | None = None, dropout: float = 0.0):
        super().__init__()
        if embed is not None and embed.output_size != rnn.input_size:
            raise FirthError(
                f"the input layer gives {embed.output_size} features but the RNN expects input_size={rnn.input_size}"
            )
        self.embed = embed
        self.rnn = rnn
        self.dropout = float(dropout)
        self.input_dropout = nn.Dropout(dropout)

    def encode(self, x, lengths, chars=None, char_lengths=None):
        """Inputs → RNN outputs y (B, T, D·d_h) and final states sₙ."""
        if self.embed is not None:
            x = self.embed(x, chars, char_lengths)
        return self.rnn(self.input_dropout(x), lengths)

    def _base_config(self) -> dict:
        return {"model": self.kind, "rnn": self.rnn.config(),
                "embed": self.embed.config() if self.embed is not None else None, "dropout": self.dropout}

    @staticmethod
    def _parts(config: dict):
        embed = InputLayer.from_config(config["embed"]) if config.get("embed") else None
        return RNN(**config["rnn"]), embed


class RNNAcceptor(_RNNModel):
    """Acceptor / encoder: ``logits = MLP(enc(x₁:ₙ))``, enc = final state(s) or pooled outputs.

    ``pooling``: ``"final"`` (for a biRNN the forward and backward final states
    concatenated), ``"mean"`` or ``"max"`` over the real tokens.
    """

    kind = "rnn-acceptor"

    def __init__(self, rnn: RNN, num_classes: int, embed: InputLayer | None = None, hidden: int = 0,
                 pooling: str = "final", dropout: float = 0.0):
        super().__init__(rnn, embed, dropout)
        self.num_classes, self.hidden, self.pooling = int(num_classes), int(hidden), pooling
        self.head = AcceptorHead(rnn.output_size, num_classes, hidden, pooling, dropout)

    def forward(self, x, lengths=None, chars=None, char_lengths=None) -> torch.Tensor:
        if lengths is None:
            lengths = torch.full((x.shape[0],), x.shape[1], dtype=torch.int64)
        y, s_n = self.encode(x, lengths, chars, char_lengths)
        return self.head(y, lengths, self.rnn.final_output(s_n))

    def config(self) -> dict:
        return {**self._base_config(), "num_classes": self.num_classes, "hidden": self.hidden, "pooling": self.pooling}

    @classmethod
    def from_config(cls, config: dict) -> "RNNAcceptor":
        rnn, embed = cls._parts(config)
        return cls(rnn, config["num_classes"], embed, config.get("hidden", 0), config.get("pooling", "final"),
                   config.get("dropout", 0.0))


class RNNTransducer(_RNNModel):
    """Transducer: ``logitsᵢ = MLP(yᵢ)`` at every position (for a biRNN yᵢ = [y_f,i; y_b,i])."""

    kind = "rnn-transducer"

    def __init__(self, rnn: RNN, num_classes: int, embed: InputLayer | None = None, hidden: int = 0,
                 dropout: float = 0.0):
        super().__init__(rnn, embed, dropout)
        self.num_classes, self.hidden = int(num_classes), int(hidden)
        self.head = TransducerHead(rnn.output_size, num_classes, hidden, dropout)

    def forward(self, x, lengths=None, chars=None, char_lengths=None) -> torch.Tensor:
        if lengths is None:
            lengths = torch.full((x.shape[0],), x.shape[1], dtype=torch.int64)
        y, _ = self.encode(x, lengths, chars, char_lengths)
        return self.head(y)

    def config(self) -> dict:
        return {**self._base_config(), "num_classes": self.num_classes, "hidden": self.hidden}

    @classmethod
    def from_config(cls, config: dict) -> "RNNTransducer":
        rnn, embed = cls._parts(config)
        return cls(rnn, config["num_classes"], embed, config.get("hidden", 0), config.get("dropout", 0.0))
