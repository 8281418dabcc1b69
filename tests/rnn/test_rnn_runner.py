"""RNN*: plain loop vs fused kernels, bidirectional padding, initial states, bad input."""

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from firth.errors import FirthError
from firth.rnn.runner import RNN

LENGTHS = torch.tensor([7, 3, 5, 1, 7])


@pytest.fixture(autouse=True)
def seed():
    torch.manual_seed(0)


def batch(d_in=3, lengths=LENGTHS, T=None):
    T = T or int(lengths.max())
    x = torch.randn(len(lengths), T, d_in, dtype=torch.float64)
    for b, n in enumerate(lengths.tolist()):
        x[b, n:] = 0.0
    return x.requires_grad_(True)


def run_and_grad(m, x, lengths, path, s0=None):
    y, s_n = m(x, lengths, s0=s0, path=path)
    # a loss touching outputs and final states, with distinct weights per element
    wy = torch.linspace(-1, 1, y.numel(), dtype=y.dtype).reshape(y.shape)
    ws = torch.linspace(1, -2, s_n.numel(), dtype=y.dtype).reshape(s_n.shape)
    loss = (wy * y).sum() + (ws * s_n).sum() + (y**2).sum()
    inputs = [x] + list(m.parameters()) + ([s0] if s0 is not None else [])
    grads = torch.autograd.grad(loss, inputs)
    return y.detach(), s_n.detach(), grads


@pytest.mark.parametrize("cell,opts", [("srnn", {}), ("srnn", {"nonlinearity": "relu"}), ("lstm", {}), ("gru", {})])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_plain_and_fused_agree(cell, opts, bidirectional):
    """Same parameters, two execution paths: outputs, final states and all gradients agree."""
    m = RNN(cell, 3, 4, num_layers=2, bidirectional=bidirectional, **opts).double()
    x = batch()
    s0 = torch.randn(2 * (2 if bidirectional else 1), len(LENGTHS), m.state_size, dtype=torch.float64, requires_grad=True)
    for init in (None, s0):
        y1, s1, g1 = run_and_grad(m, x, LENGTHS, "plain", init)
        y2, s2, g2 = run_and_grad(m, x, LENGTHS, "fused", init)
        assert y1.shape == (5, 7, m.output_size) and s1.shape == (m.num_layers * m.num_directions, 5, m.state_size)
        torch.testing.assert_close(y1, y2, rtol=0, atol=1e-5)
        torch.testing.assert_close(s1, s2, rtol=0, atol=1e-5)
        assert len(g1) == len(g2)
        for a, b in zip(g1, g2):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-5)
        # the gradients are not trivially zero
        assert all(float(g.abs().sum()) > 0 for g in g1)


@pytest.mark.parametrize("cell,ref_cls,opts", [
    ("lstm", torch.nn.LSTM, {}), ("gru", torch.nn.GRU, {}), ("srnn", torch.nn.RNN, {"nonlinearity": "tanh"}),
    ("srnn", torch.nn.RNN, {"nonlinearity": "relu"}),
])
def test_fused_and_plain_match_torch_nn_modules(cell, ref_cls, opts):
    """Our RNN equals nn.LSTM / nn.GRU / nn.RNN loaded with the same weights (both paths)."""
    m = RNN(cell, 3, 4, num_layers=2, bidirectional=True, **opts).double()
    ref = ref_cls(3, 4, num_layers=2, bidirectional=True, batch_first=True, **opts).double()
    with torch.no_grad():
        for k, c in enumerate(m.cells):
            sfx = f"_l{k // 2}" + ("_reverse" if k % 2 else "")
            for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(ref, n + sfx).copy_(getattr(c, n))
    x = batch()
    packed = pack_padded_sequence(x, LENGTHS, batch_first=True, enforce_sorted=False)
    out, h = ref(packed)
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
    if cell == "lstm":
        h = torch.cat([h[1], h[0]], dim=-1)  # our state is s = [c; h]
    for path in ("plain", "fused"):
        y, s_n = m(x, LENGTHS, path=path)
        torch.testing.assert_close(y, out)
        torch.testing.assert_close(s_n, h)


@pytest.mark.parametrize("path", ["plain", "fused"])
@pytest.mark.parametrize("cell", ["srnn", "lstm", "gru"])
def test_bidirectional_mixed_lengths_equals_each_sequence_alone(path, cell):
    """Padding is inert: each row of a padded batch equals running that sequence alone."""
    m = RNN(cell, 3, 4, num_layers=2, bidirectional=True).double()
    x = batch()
    # garbage in the padding must not matter either
    x_noisy = x.detach().clone()
    for b, n in enumerate(LENGTHS.tolist()):
        x_noisy[b, n:] = 100.0
    y, s_n = m(x_noisy, LENGTHS, path=path)
    for b, n in enumerate(LENGTHS.tolist()):
        y_b, s_b = m(x[b : b + 1, :n], path=path)  # unpadded, alone
        torch.testing.assert_close(y[b, :n], y_b[0], rtol=0, atol=1e-10)
        assert bool((y[b, n:] == 0).all())
        torch.testing.assert_close(s_n[:, b], s_b[:, 0], rtol=0, atol=1e-10)
    # the backward half at position 0 has read the whole sequence from its true last token
    fin = m.final_output(s_n)
    torch.testing.assert_close(fin[:, :4], torch.stack([y[b, n - 1, :4] for b, n in enumerate(LENGTHS.tolist())]))
    torch.testing.assert_close(fin[:, 4:], y[:, 0, 4:])


def test_backward_direction_is_the_reversed_sequence():
    """RNN_b(xₙ:ᵢ): the backward cell on x equals a forward run of the same cell on reversed x."""
    m = RNN("gru", 3, 4, bidirectional=True).double()
    x = batch()
    y, _ = m(x, LENGTHS, path="plain")
    fwd_only = RNN("gru", 3, 4).double()
    fwd_only.cells[0].load_state_dict(m.cells[1].state_dict())
    for b, n in enumerate(LENGTHS.tolist()):
        rev = x[b : b + 1, :n].flip(1)
        y_r, _ = fwd_only(rev, path="plain")
        torch.testing.assert_close(y[b, :n, 4:], y_r[0].flip(0))


def test_packed_sequence_in_and_out():
    m = RNN("lstm", 3, 4, bidirectional=True).double()
    x = batch()
    y, s = m(x, LENGTHS)
    packed = pack_padded_sequence(x, LENGTHS, batch_first=True, enforce_sorted=False)
    yp, sp = m(packed)
    assert isinstance(yp, torch.nn.utils.rnn.PackedSequence)
    y2, l2 = torch.nn.utils.rnn.pad_packed_sequence(yp, batch_first=True)
    torch.testing.assert_close(y2, y)
    torch.testing.assert_close(sp, s)
    assert l2.tolist() == LENGTHS.tolist()


def test_initial_state_zero_given_learned():
    m = RNN("srnn", 3, 4).double()
    x = batch()
    y0, _ = m(x, LENGTHS)
    y0b, _ = m(x, LENGTHS, s0=torch.zeros(1, 5, 4, dtype=torch.float64))
    torch.testing.assert_close(y0, y0b)
    # a shared s0 of shape (L·D, state) is broadcast over the batch
    s0 = torch.randn(1, 4, dtype=torch.float64)
    y1, _ = m(x, LENGTHS, s0=s0)
    y1b, _ = m(x, LENGTHS, s0=s0.unsqueeze(1).expand(1, 5, 4))
    torch.testing.assert_close(y1, y1b)
    # the first output follows s₁ = tanh(s₀Wˢ + x₁Wˣ + b) from the given s₀
    c = m.cells[0]
    s1 = torch.tanh(s0 @ c.weight_hh.T + x[:, 0] @ c.weight_ih.T + c.bias_ih + c.bias_hh)
    torch.testing.assert_close(y1[:, 0], s1)
    learned = RNN("lstm", 3, 4, num_layers=2, initial_state="learned").double()
    assert learned.s0.shape == (2, 8)
    with torch.no_grad():
        learned.s0.normal_()
    for path in ("plain", "fused"):
        y, _ = learned(x, LENGTHS, path=path)
        loss = y.sum()
        (g,) = torch.autograd.grad(loss, [learned.s0])
        assert float(g.abs().sum()) > 0  # s₀ is trained
    ya, _ = learned(x, LENGTHS, path="plain")
    yb, _ = learned(x, LENGTHS, path="fused")
    torch.testing.assert_close(ya, yb)


def test_dropout_between_layers_only_in_training():
    m = RNN("lstm", 3, 4, num_layers=2, dropout=0.5).double()
    x = batch()
    m.eval()
    a, _ = m(x, LENGTHS)
    b, _ = m(x, LENGTHS, path="plain")
    torch.testing.assert_close(a, b)
    m.train()
    c, _ = m(x, LENGTHS)
    assert (a - c).abs().max() > 1e-6
    one = RNN("lstm", 3, 4, num_layers=1, dropout=0.5).double().train()
    torch.testing.assert_close(one(x, LENGTHS)[0], one.eval()(x, LENGTHS)[0])  # no dropout after the last layer


def test_cho_gru_runs_plain_only():
    m = RNN("gru", 3, 4, variant="cho").double()
    assert m.fused_mode is None
    y, _ = m(batch(), LENGTHS)  # falls back to the plain loop
    assert y.shape == (5, 7, 4)
    with pytest.raises(FirthError, match="no fused kernel"):
        m(batch(), LENGTHS, path="fused")


def test_errors_are_one_clear_firth_error_each():
    m = RNN("lstm", 3, 4)
    x = torch.randn(2, 5, 3)
    with pytest.raises(FirthError, match="sequence 1 is empty"):
        m(x, torch.tensor([5, 0]))
    with pytest.raises(FirthError, match="sequence 0 has length 6 but the padded tensor has only 5 positions"):
        m(x, torch.tensor([6, 2]))
    with pytest.raises(FirthError, match="4 features per position but the RNN was built for input_size=3"):
        m(torch.randn(2, 5, 4), torch.tensor([5, 2]))
    with pytest.raises(FirthError, match=r"expected a \(batch, time, features\) tensor, got shape \(5, 3\)"):
        m(torch.randn(5, 3))
    with pytest.raises(FirthError, match="empty batch"):
        m(torch.randn(2, 0, 3))
    with pytest.raises(FirthError, match="one length per sequence"):
        m(x, torch.tensor([5, 2, 1]))
    with pytest.raises(FirthError, match="s0: expected shape"):
        m(x, torch.tensor([5, 2]), s0=torch.zeros(1, 2, 4))
