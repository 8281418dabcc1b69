"""Perplexity: ``exp`` of the mean negative log-likelihood per token, ``<eos>`` and ``<unk>`` included.

:func:`evaluate` predicts every token of a text exactly once (see
:func:`firth.lm.data.eval_streams`), running ``eval_batch`` parts side by side in BPTT
chunks with the state carried from chunk to chunk, in eval mode (no dropout).
"""

from __future__ import annotations

import math

import torch

from firth.lm.data import eval_streams

__all__ = ["evaluate", "sequence_nll"]


@torch.no_grad()
def sequence_nll(model, inputs: torch.Tensor, targets: torch.Tensor, lengths: torch.Tensor, bptt: int) -> float:
    """Total −log-likelihood of ``targets`` (S, n) read from ``inputs`` (S, n), where column b
    has ``lengths[b]`` real positions; chunks of ``bptt`` steps, state carried across."""
    model.eval()
    S, n = inputs.shape
    state = model.init_state(n)
    total = 0.0
    for t0 in range(0, S, bptt):
        t1 = min(t0 + bptt, S)
        live = lengths > t0  # parts that still have tokens (the shorter ones end first)
        k = int(live.sum())
        # lengths sort descending by construction, so the live parts are the first k columns
        steps = (lengths[:k] - t0).clamp(max=t1 - t0)
        out, new = model(inputs[t0:t1, :k], state[:, :k], lengths=steps)
        nll = model.nll(out, targets[t0:t1, :k])
        mask = torch.arange(t1 - t0).unsqueeze(1) < steps.unsqueeze(0)
        total += float(nll[mask].double().sum())
        state = torch.cat([new, state[:, k:]], dim=1)
    return total


def evaluate(model, ids: torch.Tensor, eos: int, eval_batch: int = 10, bptt: int = 35) -> dict:
    """``{"perplexity", "nll", "tokens"}`` of the token ids ``ids`` (N,)."""
    inputs, targets, lengths = eval_streams(ids, eval_batch, eos)
    total = sequence_nll(model, inputs, targets, lengths, bptt)
    n = int(ids.numel())
    mean = total / n
    return {"perplexity": math.exp(mean) if mean < 700 else math.inf, "nll": mean, "tokens": n}
