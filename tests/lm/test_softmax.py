"""The one-node softmax loss (firth/lm/softmax.py) against nn.Linear + F.cross_entropy."""

import pytest
import torch

from firth.lm import LMConfig, LanguageModel
from firth.lm.softmax import linear_nll, linear_nll_reference
from firth.lm.train import train_step

TOL = {torch.float64: dict(rtol=1e-12, atol=1e-14), torch.float32: dict(rtol=2e-5, atol=1e-6)}


def _case(n, hidden, vocab, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    h = torch.randn(n, hidden, generator=g, dtype=dtype)
    w = torch.rand(vocab, hidden, generator=g, dtype=dtype) * 2 - 1
    b = torch.randn(vocab, generator=g, dtype=dtype)
    t = torch.randint(0, vocab, (n,), generator=g)
    return [x.requires_grad_() for x in (h, w, b)], t


def _loss_and_grads(fn, case, scale=1.0):
    (h, w, b), t = case
    loss = fn(h, w, b, t)
    return [loss.detach()] + list(torch.autograd.grad(loss * scale, (h, w, b)))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("n, hidden, vocab", [(1, 3, 2), (70, 16, 500), (35 * 4, 20, 1001)])
def test_fused_equals_reference_loss_and_gradients(dtype, n, hidden, vocab):
    case = _case(n, hidden, vocab, dtype)
    # a scale other than 1 checks that backward uses the incoming gradient
    fused = _loss_and_grads(linear_nll, case, scale=2.5)
    ref = _loss_and_grads(linear_nll_reference, case, scale=2.5)
    for name, a, r in zip(("loss", "dh", "dW", "db"), fused, ref):
        assert a.dtype == dtype and a.shape == r.shape, name
        torch.testing.assert_close(a, r, **TOL[dtype], msg=name)
    assert fused[0].item() > 0


def test_fused_handles_extreme_logits_like_reference():
    # logits of ±1e3: the log-softmax must stay finite (no exp overflow in the forward)
    (h, w, b), t = _case(6, 4, 9, torch.float64)
    with torch.no_grad():
        h.mul_(300)
    fused = _loss_and_grads(linear_nll, ((h, w, b), t))
    ref = _loss_and_grads(linear_nll_reference, ((h, w, b), t))
    assert all(torch.isfinite(x).all() for x in fused)
    for a, r in zip(fused, ref):
        torch.testing.assert_close(a, r, **TOL[torch.float64])


def test_fused_gradients_match_finite_differences():
    (h, w, b), t = _case(5, 3, 7, torch.float64, seed=3)
    grads = _loss_and_grads(linear_nll, ((h, w, b), t))[1:]
    eps = 1e-6
    for x, g in zip((h, w, b), grads):
        num = torch.empty_like(g)
        with torch.no_grad():
            flat = x.view(-1)
            for i in range(flat.numel()):
                keep = flat[i].item()
                flat[i] = keep + eps
                up = linear_nll(h, w, b, t).item()
                flat[i] = keep - eps
                down = linear_nll(h, w, b, t).item()
                flat[i] = keep
                num.view(-1)[i] = (up - down) / (2 * eps)
        torch.testing.assert_close(g, num, rtol=1e-6, atol=1e-8)


def test_second_backward_is_refused():
    # backward turns the saved log-probabilities into the gradient in place: a second
    # backward through the same node must fail loudly, not return wrong gradients
    (h, w, b), t = _case(4, 3, 5, torch.float64)
    loss = linear_nll(h, w, b, t)
    loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


@pytest.mark.parametrize("tied", [False, True])
def test_model_loss_fused_equals_plain_for_every_parameter(tied):
    torch.manual_seed(0)
    model = LanguageModel(LMConfig(hidden=12, emb=12, dropout=0.0, tied=tied), 40).double().train()
    x, y = torch.randint(0, 40, (7, 3)), torch.randint(0, 40, (7, 3))
    grads = {}
    for fused in (True, False):
        model.fused_softmax = fused
        model.zero_grad()
        out, _ = model(x, model.init_state(3))
        loss = model.loss(out, y)
        loss.backward()
        grads[fused] = [loss.detach()] + [p.grad.clone() for p in model.parameters()]
    for a, r in zip(grads[True], grads[False]):
        torch.testing.assert_close(a, r, **TOL[torch.float64])
    # the reference is also what the evaluation's per-token losses average to
    with torch.no_grad():
        out, _ = model(x, model.init_state(3))
        torch.testing.assert_close(model.nll(out, y).mean(), grads[True][0], **TOL[torch.float64])


def _train(fused, steps=4, dtype=torch.float64):
    torch.manual_seed(5)
    model = LanguageModel(LMConfig(hidden=10, emb=8, dropout=0.3), 30).to(dtype).train()
    model.fused_softmax = fused
    params = list(model.parameters())
    optim = torch.optim.SGD(params, lr=5.0)
    data = torch.randint(0, 30, (6 * steps + 1, 4))
    state, losses = model.init_state(4), []
    for i in range(steps):
        lv, state = train_step(model, optim, params, 0.25, data[6 * i:6 * i + 6], data[6 * i + 1:6 * i + 7], state)
        losses.append(lv)
    return losses, [p.detach().clone() for p in params]


def test_training_steps_fused_equal_plain_and_are_deterministic():
    fused, plain = _train(True), _train(False)
    assert fused[0] == pytest.approx(plain[0], rel=1e-12)
    for a, r in zip(fused[1], plain[1]):
        torch.testing.assert_close(a, r, **TOL[torch.float64])
    again = _train(True, dtype=torch.float32)
    assert again[0] == _train(True, dtype=torch.float32)[0]  # bit-identical with a seed
