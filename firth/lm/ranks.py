"""`lm train` on one process or several (torchrun): what each rank trains and how they agree.

    torchrun --nproc-per-node 2 -m firth lm train train.txt --valid valid.txt -o lm --batch 20

The single-process algorithm, its work split P ways (P = WORLD_SIZE):

* **Streams.** The training text is cut into ``--batch`` streams exactly as in one process
  and rank ``r`` trains the streams ``r, r+P, ...`` (``--batch`` must be a multiple of P),
  carrying their state. Every rank's loss is the mean over its tokens and
  DistributedDataParallel averages the gradients, so each step applies the whole batch's
  gradient (clipped after the average, identical on every rank): with dropout off, P ranks
  follow the single process up to rounding (tests/lm/test_lm_ranks.py).
* **One small all-reduce per chunk** sums the ranks' losses and token counts, and whether any
  rank's clock has run out: the training perplexity, the token budget and divergence are
  the whole batch's, and every rank stops at the same chunk.
* **Validation** is split the same way (rank r evaluates the parts r, r+P, ... of the
  validation text) and the log-likelihoods summed: every rank sees the same perplexity,
  so the learning-rate decay and the best model are decided alike.
* **Checkpoints** hold the whole state, in the single process's stream order, and every
  rank's random-number state; a checkpoint resumes on any number of ranks dividing
  ``--batch`` (dropout draws continue exactly on the same number of ranks).
* Rank 0 alone writes the model and checkpoints and prints; dropout is drawn from a
  generator seeded per rank (rank 0's is the single process's).

In a single process (no torchrun environment) :class:`Ranks` is the identity and nothing
here imports torch.distributed.
"""

from __future__ import annotations

import os
import signal

import torch
from torch import nn

from firth.errors import FirthError
from firth.lm.evaluate import sequence_nll
from firth.lm.data import eval_streams
from firth.rnn import ddp

__all__ = ["Ranks", "Objective"]


class Objective(nn.Module):
    """The training loss as one module's forward, so that DistributedDataParallel sees every
    parameter the loss uses (the softmax runs after the model's own forward)."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        # An adaptive softmax's tail clusters get no gradient in a chunk without their words;
        # under DDP every parameter must get one on every rank, so they get a zero (see loss).
        # With SGD a zero moves nothing, as no gradient does; Adam, which skips a parameter
        # without a gradient, still applies its momentum to a zero: the one way P ranks and
        # one process differ beyond rounding (when no rank's chunk holds a cluster's words).
        self.adaptive = isinstance(model.decoder, nn.AdaptiveLogSoftmaxWithLoss)

    def forward(self, x, state, y):
        out, state = self.model(x, state)
        loss = self.model.loss(out, y)
        if self.adaptive:
            loss = loss + sum(p.reshape(-1)[0] for p in self.model.decoder.parameters()) * 0.0
        return loss, state


class Ranks:
    """This process's share of an `lm train` job: one process (``size`` 1) or a torchrun rank."""

    def __init__(self):
        self.group = ddp.group()
        self.rank, self.size = (self.group.rank, self.group.size) if self.group is not None else (0, 1)
        self.writer = self.rank == 0
        self.chunks = 0
        self._fault = _fault(self.rank) if self.size > 1 else None

    def call(self, fn, *a):
        """``fn(*a)``; under torchrun a peer lost in DDP's all-reduce is one FirthError line."""
        return fn(*a) if self.group is None else self.group.run(fn, *a)

    def check(self, batch: int) -> None:
        if batch % self.size:
            fit = batch - batch % self.size or self.size
            raise FirthError(f"--batch {batch}: under torchrun it must be a multiple of the {self.size} ranks "
                             f"(each trains --batch/{self.size} streams); pass e.g. --batch {fit}")

    def same_everywhere(self, value: int, what: str) -> None:
        """Refuse, on every rank, a job whose ranks disagree on ``value`` (a collective)."""
        if self.size == 1:
            return
        if self.group.any(self.group.rank0(float(value)) != float(value)):
            raise FirthError(f"rank {self.rank}: the ranks disagree on {what}; every rank must see the same files")

    def streams(self, t: torch.Tensor, dim: int) -> torch.Tensor:
        """This rank's streams of a (…, batch, …) tensor: r, r+P, ... along ``dim``."""
        if self.size == 1:
            return t
        idx = torch.arange(self.rank, t.shape[dim], self.size)
        return t.index_select(dim, idx).contiguous()

    def whole(self, part: torch.Tensor, dim: int, batch: int) -> torch.Tensor:
        """Every rank's ``part`` put back in the single process's stream order (a collective)."""
        if self.size == 1:
            return part
        shape = list(part.shape)
        shape[dim] = batch
        full = torch.zeros(shape, dtype=torch.float64)
        full.index_copy_(dim, torch.arange(self.rank, batch, self.size), part.double())
        return self.group.reduce_(full).to(part.dtype)  # each column written by one rank: the sum is it

    def rng_states(self) -> torch.Tensor:
        """Every rank's torch random-number state, (P, n) uint8 (a collective)."""
        mine = torch.get_rng_state()
        if self.size == 1:
            return mine.unsqueeze(0)
        allr = torch.zeros((self.size, mine.numel()), dtype=torch.int64)
        allr[self.rank] = mine.to(torch.int64)
        return self.group.reduce_(allr).to(torch.uint8)

    def seed_dropout(self, seed: int) -> None:
        """Ranks > 0 draw dropout from their own generator (rank 0 keeps the single process's)."""
        if self.rank:
            torch.manual_seed(self.group.seed(seed))

    def wrap(self, objective: Objective):
        """The objective under DistributedDataParallel (gradients averaged in backward), or as is."""
        return objective if self.group is None else self.group.wrap(objective)

    def agree(self, nll_sum: float, n: int, stop: bool) -> tuple[float, int, bool]:
        """The whole batch's (−log-likelihood sum, tokens) and whether any rank must stop."""
        if self.size == 1:
            return nll_sum, n, stop
        self.chunks += 1
        if self._fault == self.chunks:  # tests: this rank dies here (SIGKILL, no clean-up)
            os.kill(os.getpid(), signal.SIGKILL)
        t = self.group.reduce_(torch.tensor([nll_sum, float(n), 1.0 if stop else 0.0], dtype=torch.float64))
        return float(t[0]), int(t[1]), bool(t[2] > 0)

    def perplexity_nll(self, model, ids: torch.Tensor, eos: int, eval_batch: int, bptt: int) -> float:
        """Mean −log-likelihood per token of ``ids``, the parts of the text split between the
        ranks (:func:`firth.lm.evaluate.evaluate` in one process)."""
        inputs, targets, lengths = eval_streams(ids, eval_batch, eos)
        if self.size == 1:
            return sequence_nll(model, inputs, targets, lengths, bptt) / int(ids.numel())
        mine = torch.arange(self.rank, inputs.shape[1], self.size)  # still longest first, as sequence_nll needs
        total = sequence_nll(model, inputs[:, mine], targets[:, mine], lengths[mine], bptt) if len(mine) else 0.0
        total = float(self.group.reduce_(torch.tensor([total], dtype=torch.float64))[0])
        return total / int(ids.numel())


def _fault(rank: int) -> int | None:
    """Tests: ``FIRTH_DIST_FAULT=RANK:CHUNKS`` makes that rank kill itself after that many chunks."""
    spec = os.environ.get(ddp.FAULT_ENV, "")
    try:
        r, n = (int(x) for x in spec.split(":")) if spec else (-1, 0)
    except ValueError:
        raise FirthError(f"{ddp.FAULT_ENV}={spec!r}: give RANK:CHUNKS, e.g. 1:10") from None
    return n if r == rank else None
