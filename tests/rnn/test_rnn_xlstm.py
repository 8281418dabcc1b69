"""xLSTM cells against the paper's equations (unstabilised plain loops), parallel vs recurrent
mLSTM, finite-difference gradients, the runner's paths, and the stabiliser under overflow."""

import pytest
import torch

from firth.errors import FirthError
from firth.rnn import RNN, make_cell, run_cell
from firth.rnn.xlstm import MLSTMCell, SLSTMCell, mlstm_parallel
from firth.rnn.xlstm_reference import mlstm_reference, slstm_reference

REFS = {SLSTMCell: slstm_reference, MLSTMCell: mlstm_reference}


@pytest.fixture(autouse=True)
def seed():
    torch.manual_seed(0)


def padded(B=3, T=7, d=5, lengths=(7, 4, 1)):
    x = torch.randn(B, T, d, dtype=torch.float64)
    return x, torch.tensor(lengths)


def random_state(cell, B):
    """A state that could occur: memory anything, stabiliser m moderate, normaliser positive-ish."""
    return torch.randn(B, cell.state_size, dtype=torch.float64)


@pytest.mark.parametrize("cls", [SLSTMCell, MLSTMCell])
@pytest.mark.parametrize("forget", ["sigmoid", "exp"])
@pytest.mark.parametrize("heads", [1, 2])
def test_cell_matches_unstabilised_reference(cls, forget, heads):
    cell = cls(5, 8, heads=heads, forget=forget).double()
    with torch.no_grad():  # move biases away from init so every gate matters
        cell.bias.add_(0.3 * torch.randn_like(cell.bias))
    x, L = padded()
    y, s_n = run_cell(cell, x, L, torch.zeros(3, cell.state_size, dtype=torch.float64))
    for b in range(3):
        ref = REFS[cls](cell, x[b, : L[b]])
        torch.testing.assert_close(y[b, : L[b]], ref, rtol=0, atol=1e-12)
        assert torch.all(y[b, L[b]:] == 0)  # padding gives zeros
        torch.testing.assert_close(cell.output(s_n[b : b + 1])[0], ref[-1], rtol=0, atol=1e-12)


def test_slstm_recurrence_is_block_diagonal():
    cell = SLSTMCell(3, 8, heads=2).double()
    h = torch.zeros(1, 8, dtype=torch.float64)
    h[0, 1] = 1.0  # a unit in head 0 ...
    r = cell.recurrent(h).view(4, 2, 4)  # gate, head, unit
    assert torch.all(r[:, 1] == 0) and torch.any(r[:, 0] != 0)  # ... reaches head 0's gates only


def test_xlstm_heads_must_divide_hidden():
    with pytest.raises(FirthError, match="heads=3 must be ≥ 1 and divide hidden_size=8"):
        SLSTMCell(3, 8, heads=3)
    with pytest.raises(FirthError, match="forget="):
        MLSTMCell(3, 8, forget="tanh")
    with pytest.raises(FirthError, match="cell 'mlstm'"):
        make_cell("mlstm", 3, 8, nonlinearity="tanh")


@pytest.mark.parametrize("forget", ["sigmoid", "exp"])
@pytest.mark.parametrize("reverse", [False, True])
def test_mlstm_parallel_equals_recurrent_padded_and_carried(forget, reverse):
    cell = MLSTMCell(5, 8, heads=2, forget=forget).double()
    x, L = padded(B=4, T=9, lengths=(9, 5, 1, 8))
    for s0 in (torch.zeros(4, cell.state_size, dtype=torch.float64), random_state(cell, 4)):
        y_rec, s_rec = run_cell(cell, x, L, s0, reverse=reverse)
        y_par, s_par = cell.sequence(x, L, s0, reverse=reverse)
        # a random s0 can have a tiny normaliser (large outputs): compare relatively too
        torch.testing.assert_close(y_par, y_rec, rtol=1e-9, atol=1e-9)
        torch.testing.assert_close(s_par, s_rec, rtol=1e-9, atol=1e-9)  # C, n, m, h all agree


def test_mlstm_parallel_equals_recurrent_long_sequence_large_gates():
    # Large input-gate pre-activations: exp(ĩ) overflows float32 without the stabiliser.
    cell = MLSTMCell(4, 6, heads=3).double()
    with torch.no_grad():
        cell.bias[4 * 6 : 4 * 6 + 3] = 100.0
    x = torch.randn(2, 40, 4, dtype=torch.float64)
    L = torch.tensor([40, 33])
    s0 = torch.zeros(2, cell.state_size, dtype=torch.float64)
    y_rec, s_rec = run_cell(cell, x, L, s0)
    y_par, s_par = mlstm_parallel(cell, x, L, s0)
    assert torch.isfinite(y_par).all() and torch.isfinite(s_par).all()
    torch.testing.assert_close(y_par, y_rec, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(s_par, s_rec, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("cls", [SLSTMCell, MLSTMCell])
def test_stabiliser_keeps_float32_finite(cls):
    cell = cls(3, 4, heads=2)
    with torch.no_grad():
        cell.bias[: 4] = 200.0 if cls is SLSTMCell else 0.0  # sLSTM: ĩ block first
        if cls is MLSTMCell:
            cell.bias[16:18] = 200.0  # mLSTM: ĩ after q, k, v, o
    x = torch.randn(2, 30, 3)
    y, s_n = run_cell(cell, x, torch.tensor([30, 30]), torch.zeros(2, cell.state_size))
    assert torch.isfinite(y).all() and torch.isfinite(s_n).all()
    # exp(200) overflows float32 (not float64): the unstabilised reference in float64 agrees
    # with the stabilised cell run in float64, and the float32 run is close to both
    cell = cell.double()
    y64, _ = run_cell(cell, x.double(), torch.tensor([30, 30]), torch.zeros(2, cell.state_size, dtype=torch.float64))
    ref = REFS[cls](cell, x[0].double())
    torch.testing.assert_close(y64[0], ref, rtol=1e-9, atol=1e-9)
    assert (y[0].double() - ref).abs().max() < 1e-3 * max(1.0, ref.abs().max())


def _gradcheck(fn, inputs):
    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-6)


@pytest.mark.parametrize("cls", [SLSTMCell, MLSTMCell])
def test_gradcheck_step(cls):
    cell = cls(3, 4, heads=2).double()
    names = [n for n, _ in cell.named_parameters()]
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    # a state reached by running the cell (n > 0 for the sLSTM division, m consistent)
    with torch.no_grad():
        s = cell(torch.randn(2, 3, dtype=torch.float64), torch.zeros(2, cell.state_size, dtype=torch.float64))
    s.requires_grad_(True)

    def f(x, s, *ps):
        return torch.func.functional_call(cell, dict(zip(names, ps)), (x, s))

    _gradcheck(f, (x, s, *cell.parameters()))


def test_gradcheck_parallel_form():
    cell = MLSTMCell(3, 4, heads=2).double()
    names = [n for n, _ in cell.named_parameters()]
    x = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    L = torch.tensor([5, 3])
    s0 = (0.5 * random_state(cell, 2)).requires_grad_(True)

    def f(x, s0, *ps):
        with torch.nn.utils.stateless._reparametrize_module(cell, dict(zip(names, ps))):
            y, s_n = mlstm_parallel(cell, x, L, s0)
        return y, s_n

    _gradcheck(f, (x, s0, *cell.parameters()))


@pytest.mark.parametrize("cell", ["slstm", "mlstm"])
def test_runner_paths_agree_bidirectional_stacked(cell):
    rnn = RNN(cell, 5, 8, num_layers=2, bidirectional=True, heads=2).double().eval()
    assert rnn.fused_mode is None
    x, L = padded()
    y_plain, s_plain = rnn(x, L, path="plain")
    y_par, s_par = rnn(x, L)  # default: parallel forms where a cell has one
    torch.testing.assert_close(y_par, y_plain, rtol=0, atol=1e-10)
    torch.testing.assert_close(s_par, s_plain, rtol=0, atol=1e-10)
    assert y_plain.shape == (3, 7, 16)
    assert rnn.final_output(s_plain).shape == (3, 16)
    # the backward direction of sequence 2 (length 1) read only its own token
    alone, _ = rnn(x[2:3, :1], torch.tensor([1]))
    torch.testing.assert_close(y_plain[2:3, :1], alone, rtol=0, atol=1e-10)
    with pytest.raises(FirthError, match="no fused kernel"):
        rnn(x, L, path="fused")


def test_runner_carries_state_across_chunks():
    rnn = RNN("mlstm", 4, 6, num_layers=2, heads=3).double().eval()
    x = torch.randn(2, 12, 4, dtype=torch.float64)
    y_all, s_all = rnn(x)
    y1, s1 = rnn(x[:, :5])
    y2, s2 = rnn(x[:, 5:], s0=s1)
    torch.testing.assert_close(torch.cat([y1, y2], 1), y_all, rtol=0, atol=1e-10)
    torch.testing.assert_close(s2, s_all, rtol=0, atol=1e-10)
