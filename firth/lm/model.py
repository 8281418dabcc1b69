"""``LanguageModel``: embedding → ``RNN*`` (firth's runner, any cell) → softmax over the next word.

``forward(x, state)`` takes token ids (T, B) time-major (the layout of BPTT chunks) and
returns the top layer's outputs (T, B, hidden) and the new state; :meth:`nll` turns outputs
and targets into per-token negative log-likelihoods through the full softmax or an adaptive
one; :meth:`loss`, the training loss, is their mean, through the one-node softmax of
:mod:`firth.lm.softmax` when the softmax is full (``fused_softmax``, on by default; off, it
is ``nll(...).mean()``, the reference). The state is the runner's (L, B, state_size)
tensor; pass it back (detached while training) to carry the text across chunks.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from firth.errors import FirthError
from firth.lm.config import LMConfig
from firth.lm.softmax import linear_nll
from firth.rnn.runner import RNN

__all__ = ["LanguageModel"]


class LanguageModel(nn.Module):
    kind = "firth-lm"
    # loss() through firth.lm.softmax.linear_nll (same values, fewer (N, V) buffers); False: the
    # nn.Linear + F.cross_entropy reference. Not part of the config: it changes no result.
    fused_softmax = True

    def __init__(self, config: LMConfig, vocab_size: int):
        super().__init__()
        c = self.cfg = config
        self.vocab_size = int(vocab_size)
        if self.vocab_size < 2:
            raise FirthError(f"vocabulary of {vocab_size} words: a language model needs at least 2")
        self.encoder = nn.Embedding(self.vocab_size, c.emb)
        opts = {"heads": c.heads} if c.cell in ("slstm", "mlstm") else {}
        self.rnn = RNN(c.cell, c.emb, c.hidden, num_layers=c.layers, dropout=c.dropout, **opts)
        self.drop = nn.Dropout(c.dropout)
        if c.adaptive_softmax:
            if c.adaptive_softmax[-1] >= self.vocab_size:
                raise FirthError(f"--adaptive-softmax {','.join(map(str, c.adaptive_softmax))}: every cutoff must be "
                                 f"below the vocabulary size {self.vocab_size}")
            self.decoder = nn.AdaptiveLogSoftmaxWithLoss(c.hidden, self.vocab_size, list(c.adaptive_softmax),
                                                         div_value=4.0)
        else:
            self.decoder = nn.Linear(c.hidden, self.vocab_size)
            if c.tied:
                self.decoder.weight = self.encoder.weight  # one matrix, two uses
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        if isinstance(self.decoder, nn.Linear):
            nn.init.zeros_(self.decoder.bias)
            if not c.tied:
                nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def init_state(self, batch: int) -> torch.Tensor:
        p = self.encoder.weight
        return p.new_zeros((self.cfg.layers, batch, self.rnn.state_size))

    def forward(self, x: torch.Tensor, state: torch.Tensor | None = None, lengths=None):
        """``x`` (T, B) ids → outputs (T, B, hidden), state (L, B, state_size)."""
        emb = self.drop(self.encoder(x)).transpose(0, 1)  # runner is batch-first
        y, state = self.rnn(emb, lengths, s0=state)
        return self.drop(y.transpose(0, 1)), state

    def nll(self, out: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Per-token −log p(target | prefix), same shape as ``targets``."""
        flat = out.reshape(-1, out.shape[-1])
        t = targets.reshape(-1)
        if isinstance(self.decoder, nn.AdaptiveLogSoftmaxWithLoss):
            res = -self.decoder(flat, t).output
        else:
            res = F.cross_entropy(self.decoder(flat), t, reduction="none")
        return res.view(targets.shape)

    def loss(self, out: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean −log p(target | prefix) over all targets (the training loss)."""
        if self.fused_softmax and isinstance(self.decoder, nn.Linear) and torch.is_grad_enabled():
            d = self.decoder
            return linear_nll(out.reshape(-1, out.shape[-1]), d.weight, d.bias, targets.reshape(-1))
        return self.nll(out, targets).mean()

    def log_probs(self, out: torch.Tensor) -> torch.Tensor:
        """Log-probabilities of every word, (…, V)."""
        flat = out.reshape(-1, out.shape[-1])
        if isinstance(self.decoder, nn.AdaptiveLogSoftmaxWithLoss):
            lp = self.decoder.log_prob(flat)
        else:
            lp = F.log_softmax(self.decoder(flat), dim=-1)
        return lp.view(*out.shape[:-1], -1)
