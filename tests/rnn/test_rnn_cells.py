"""Cells against their equations (written independently in NumPy) and against PyTorch's cells."""

import numpy as np
import pytest
import torch

from firth.errors import FirthError
from firth.rnn.cells import GRUCell, LSTMCell, SRNNCell, make_cell


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def np_params(cell):
    """The lecture's notation: row vectors times matrices, Wˣ = weight_ihᵀ, one bias b."""
    Wx = cell.weight_ih.detach().numpy().T
    Wh = cell.weight_hh.detach().numpy().T
    return Wx, Wh, cell.bias_ih.detach().numpy(), cell.bias_hh.detach().numpy()


@pytest.fixture(autouse=True)
def seed():
    torch.manual_seed(0)


def inputs(d_in, state, batch=3):
    x = torch.randn(batch, d_in, dtype=torch.float64)
    s = torch.randn(batch, state, dtype=torch.float64)
    return x, s


@pytest.mark.parametrize("g", ["tanh", "relu"])
def test_srnn_matches_equation(g):
    cell = SRNNCell(5, 4, nonlinearity=g).double()
    x, s = inputs(5, 4)
    Wx, Ws, bi, bh = np_params(cell)
    pre = s.numpy() @ Ws + x.numpy() @ Wx + (bi + bh)
    expected = np.tanh(pre) if g == "tanh" else np.maximum(pre, 0)
    out = cell(x, s)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=0, atol=1e-12)
    assert torch.equal(cell.output(out), out)  # y = O(s) = s
    ref = torch.nn.RNNCell(5, 4, nonlinearity=g).double()
    ref.load_state_dict(cell.state_dict())
    np.testing.assert_allclose(ref(x, s).detach().numpy(), expected, atol=1e-12)


def test_lstm_matches_equation():
    cell = LSTMCell(5, 4).double()
    x, s = inputs(5, 8)
    Wx, Wh, bi, bh = np_params(cell)
    c, h = s[:, :4].numpy(), s[:, 4:].numpy()
    b = bi + bh
    blocks = lambda W: np.split(W, 4, axis=-1)  # PyTorch order i, f, z(g), o
    Wxi, Wxf, Wxz, Wxo = blocks(Wx)
    Whi, Whf, Whz, Who = blocks(Wh)
    bi_, bf, bz, bo = np.split(b, 4)
    xn = x.numpy()
    z = np.tanh(xn @ Wxz + h @ Whz + bz)
    i = sigmoid(xn @ Wxi + h @ Whi + bi_)
    f = sigmoid(xn @ Wxf + h @ Whf + bf)
    o = sigmoid(xn @ Wxo + h @ Who + bo)
    c_new = f * c + i * z
    h_new = o * np.tanh(c_new)
    out = cell(x, s).detach()
    np.testing.assert_allclose(out.numpy(), np.concatenate([c_new, h_new], axis=1), atol=1e-12)
    np.testing.assert_allclose(cell.output(out).numpy(), h_new, atol=1e-12)  # y = h
    ref = torch.nn.LSTMCell(5, 4).double()
    ref.load_state_dict(cell.state_dict())
    h_ref, c_ref = ref(x, (s[:, 4:], s[:, :4]))
    np.testing.assert_allclose(h_ref.detach().numpy(), h_new, atol=1e-12)
    np.testing.assert_allclose(c_ref.detach().numpy(), c_new, atol=1e-12)


def test_lstm_forget_bias_initialisation():
    cell = LSTMCell(3, 4, forget_bias=1.0)
    # the f block of bias_ih is shifted by +1: uniform(-1/2, 1/2) + 1 with d_h = 4
    f = cell.bias_ih[4:8].detach()
    assert bool(((f >= 0.5) & (f <= 1.5)).all())
    assert bool((cell.bias_ih[:4].abs() <= 0.5).all())


def gru_numpy(cell, x, h, cho=False):
    Wx, Wh, bi, bh = np_params(cell)
    xn = x.numpy()
    Wxr, Wxu, Wxn = np.split(Wx, 3, axis=-1)
    Whr, Whu, Whn = np.split(Wh, 3, axis=-1)
    bir, biu, bin_ = np.split(bi, 3)
    bhr, bhu, bhn = np.split(bh, 3)
    r = sigmoid(xn @ Wxr + bir + h @ Whr + bhr)
    u = sigmoid(xn @ Wxu + biu + h @ Whu + bhu)
    if cho:
        n = np.tanh(xn @ Wxn + bin_ + (r * h) @ Whn + bhn)
    else:
        n = np.tanh(xn @ Wxn + bin_ + r * (h @ Whn + bhn))
    return (1 - u) * n + u * h


def test_gru_matches_pytorch_variant():
    cell = GRUCell(5, 4).double()
    x, s = inputs(5, 4)
    out = cell(x, s).detach().numpy()
    np.testing.assert_allclose(out, gru_numpy(cell, x, s.numpy()), atol=1e-12)
    ref = torch.nn.GRUCell(5, 4).double()
    ref.load_state_dict(cell.state_dict())
    np.testing.assert_allclose(ref(x, s).detach().numpy(), out, atol=1e-12)


def test_gru_cho_variant_differs_and_matches_its_equation():
    cell = GRUCell(5, 4, variant="cho").double()
    x, s = inputs(5, 4)
    out = cell(x, s).detach().numpy()
    np.testing.assert_allclose(out, gru_numpy(cell, x, s.numpy(), cho=True), atol=1e-12)
    assert np.abs(out - gru_numpy(cell, x, s.numpy(), cho=False)).max() > 1e-3
    assert cell.fused_mode is None


@pytest.mark.parametrize("name,opts", [("srnn", {}), ("srnn", {"nonlinearity": "relu"}), ("lstm", {}), ("gru", {}), ("gru", {"variant": "cho"})])
def test_gradcheck_small_cell(name, opts):
    cell = make_cell(name, 3, 2, **opts).double()
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    s = torch.randn(2, cell.state_size, dtype=torch.float64, requires_grad=True)
    if opts.get("nonlinearity") == "relu":  # keep away from the kink of ReLU
        with torch.no_grad():
            cell.bias_ih += 2.0
    params = tuple(cell.parameters())

    def f(x, s, *ps):
        return torch.func.functional_call(cell, dict(zip([n for n, _ in cell.named_parameters()], ps)), (x, s))

    assert torch.autograd.gradcheck(f, (x, s, *params), eps=1e-6, atol=1e-6)


def test_bad_cell_options():
    with pytest.raises(FirthError, match="cell 'xyz'"):
        make_cell("xyz", 2, 2)
    with pytest.raises(FirthError, match="nonlinearity"):
        make_cell("srnn", 2, 2, nonlinearity="sigmoid")
    with pytest.raises(FirthError, match="variant"):
        make_cell("gru", 2, 2, variant="x")
