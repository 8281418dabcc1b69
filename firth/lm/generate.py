"""Sampling text from a language model: temperature and top-k, reproducible with a seed.

The prompt is read token by token into the state (an ``<eos>`` first, as if a line had
just ended), then each next word is drawn from ``softmax(logits / temperature)`` restricted
to the ``top_k`` most likely words, and fed back. A private ``torch.Generator`` seeded with
``seed`` makes the sample the same on every run.
"""

from __future__ import annotations

import torch

from firth.errors import FirthError

__all__ = ["generate"]


@torch.no_grad()
def generate(model, vocab, prompt: str = "", words: int = 50, temperature: float = 1.0, top_k: int = 0,
             seed: int = 1) -> list[str]:
    """The prompt's tokens (unknown ones as ``<unk>``) followed by ``words`` sampled tokens."""
    if words < 0:
        raise FirthError(f"--words {words}: must be 0 or more")
    if not temperature > 0:
        raise FirthError(f"--temperature {temperature}: must be positive")
    if top_k < 0:
        raise FirthError(f"--top-k {top_k}: must be 0 (all words) or more")
    model.eval()
    gen = torch.Generator().manual_seed(int(seed))
    tokens = prompt.split()
    ids = [vocab.eos] + [vocab.stoi.get(t, vocab.unk) for t in tokens]
    state = model.init_state(1)
    out, state = model(torch.tensor(ids).view(-1, 1), state)
    result = [vocab.itos[i] for i in ids[1:]]
    last = out[-1:]
    for _ in range(words):
        logp = model.log_probs(last).view(-1) / temperature
        if top_k and top_k < logp.numel():
            kth = torch.topk(logp, top_k).values[-1]
            logp = logp.masked_fill(logp < kth, float("-inf"))
        nxt = int(torch.multinomial(torch.softmax(logp.double(), dim=-1), 1, generator=gen))
        result.append(vocab.itos[nxt])
        last, state = model(torch.tensor([[nxt]]), state)
    return result
