"""The full softmax's training loss as one autograd node: linear map, log-softmax, mean NLL.

``F.cross_entropy(F.linear(h, W, b), y)`` (the reference, :func:`linear_nll_reference`)
makes four (N, V) tensors per chunk: the logits, the log-probabilities, the loss's gradient
(zero but at the targets) and the log-softmax's gradient. With a 10k vocabulary and
N = 35 × 20 tokens each is 28 MB, written and read again, and freshly allocated memory of
that size costs page faults every step; the softmax layer is most of a small LM's step.
:func:`linear_nll` computes the same loss and the same gradients in one buffer:

* forward: ``z = h Wᵀ + b`` into the buffer; ``log_softmax`` in place (each row is read
  in full before it is written, so it may alias); ``loss = −mean(z[i, yᵢ])``;
* backward: ``exp`` in place turns the saved log-probabilities into the softmax ``P``;
  ``P[i, yᵢ] −= 1`` gives ``G = ∂(N·loss)/∂z``; then ``dh = G W``, ``dW = Gᵀ h``,
  ``db = Σᵢ Gᵢ``, each scaled by ``grad / N`` after the product (on the small results,
  not the (N, V) matrix).

Same arithmetic, in the same precision; only the summation order of the products differs
(tested against the reference in float64 and float32, and by finite differences). The
buffer holds the softmax after backward, so the node cannot be differentiated twice (a
second backward is refused by autograd's version check).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["linear_nll", "linear_nll_reference"]


class _LinearNLL(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h, weight, bias, target):
        z = torch.addmm(bias, h, weight.t())
        torch._log_softmax(z, 1, False, out=z)
        loss = z.gather(1, target.unsqueeze(1)).sum().neg_().div_(h.shape[0])
        ctx.save_for_backward(h, weight, z, target)
        return loss

    @staticmethod
    def backward(ctx, grad):
        h, weight, logp, target = ctx.saved_tensors
        g = logp.exp_()  # the softmax, in the buffer
        g.scatter_add_(1, target.unsqueeze(1), g.new_full((g.shape[0], 1), -1.0))
        scale = grad / h.shape[0]
        need = ctx.needs_input_grad
        dh = g.mm(weight).mul_(scale) if need[0] else None
        dw = g.t().mm(h).mul_(scale) if need[1] else None
        db = g.sum(0).mul_(scale) if need[2] else None
        return dh, dw, db, None


def linear_nll(h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean −log softmax(h Wᵀ + b)[target]: ``h`` (N, H), ``weight`` (V, H), ``bias`` (V,),
    ``target`` (N,) int64; a 0-dim tensor, differentiable in ``h``, ``weight`` and ``bias``."""
    return _LinearNLL.apply(h, weight, bias, target)


def linear_nll_reference(h, weight, bias, target) -> torch.Tensor:
    """The readable form :func:`linear_nll` is tested against."""
    return F.cross_entropy(F.linear(h, weight, bias), target)
