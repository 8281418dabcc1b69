"""firth's xLSTM cells against the official ``xlstm`` package (NX-AI) on identical weights.

Optional: skipped unless ``xlstm`` is installed (``pip install xlstm``; its "vanilla" sLSTM
backend and its mLSTM backend functions run on the CPU). The official code implements the
same cell equations inside larger blocks; these tests feed both the same pre-activations.
"""

import pytest
import torch

xlstm = pytest.importorskip("xlstm", reason="the official xlstm package is not installed (optional)")

from xlstm.blocks.mlstm.backends import parallel_stabilized_simple, recurrent_step_stabilized_simple  # noqa: E402
from xlstm.blocks.slstm.cell import sLSTMCell, sLSTMCellConfig  # noqa: E402

from firth.rnn import run_cell  # noqa: E402
from firth.rnn.xlstm import MLSTMCell, SLSTMCell, mlstm_parallel  # noqa: E402


def test_slstm_matches_official_vanilla_backend():
    torch.manual_seed(0)
    d_in, d, H, B, T = 5, 8, 2, 3, 9
    ours = SLSTMCell(d_in, d, heads=H).double()
    theirs = sLSTMCell(sLSTMCellConfig(hidden_size=d, num_heads=H, backend="vanilla", dtype="float64")).double()
    with torch.no_grad():
        ours.bias.add_(0.5 * torch.randn_like(ours.bias))
        # vanilla's internal recurrent kernel is (heads, 4·hd [gate-major], hd): firth's weight_hh layout
        theirs._recurrent_kernel_.copy_(ours.weight_hh)
        # biases: firth gate-major (4, H, hd); theirs external (H, 4, hd)
        theirs._bias_.copy_(theirs._bias_ext2int(ours.bias.view(4, H, d // H).permute(1, 0, 2)))
    x = torch.randn(B, T, d_in, dtype=torch.float64)
    wx = x @ ours.weight_ih.T  # the official cell takes the input pre-activations (gate-major i, f, z, o)
    h_theirs, _ = theirs(wx)  # (B, heads, T, hd)
    h_theirs = h_theirs.permute(0, 2, 1, 3).reshape(B, T, d)
    h_ours, _ = run_cell(ours, x, torch.full((B,), T), torch.zeros(B, ours.state_size, dtype=torch.float64))
    torch.testing.assert_close(h_ours, h_theirs, rtol=1e-10, atol=1e-10)


def test_mlstm_matches_official_parallel_and_recurrent_backends():
    torch.manual_seed(1)
    d_in, d, H, B, T = 6, 8, 2, 2, 7
    hd = d // H
    cell = MLSTMCell(d_in, d, heads=H).double()
    with torch.no_grad():
        cell.bias.add_(0.5 * torch.randn_like(cell.bias))
        cell.bias[3 * d : 4 * d] = 60.0  # output gate σ(60) = 1 to double precision: compare h̃ directly
    x = torch.randn(B, T, d_in, dtype=torch.float64)
    q, k, v, _, i_raw, f_raw = cell.project(x)  # k is already scaled by 1/√hd; the official code scales itself
    heads = lambda t: t.transpose(1, 2)  # (B, T, H, hd) -> (B, H, T, hd)
    gates = lambda g: g.transpose(1, 2).unsqueeze(-1)  # (B, T, H) -> (B, H, T, 1)
    ref = parallel_stabilized_simple(heads(q), heads(k) * hd**0.5, heads(v), gates(i_raw), gates(f_raw), eps=0.0)
    ref = ref.transpose(1, 2).reshape(B, T, d)
    y, _ = mlstm_parallel(cell, x, torch.full((B,), T), torch.zeros(B, cell.state_size, dtype=torch.float64))
    torch.testing.assert_close(y, ref, rtol=1e-10, atol=1e-10)
    # the official recurrent step, state (C, n, m) carried by hand
    C = torch.zeros(B, H, hd, hd, dtype=torch.float64)
    n = torch.zeros(B, H, hd, 1, dtype=torch.float64)
    m = torch.zeros(B, H, 1, 1, dtype=torch.float64)
    for t in range(T):
        h, (C, n, m) = recurrent_step_stabilized_simple(
            C, n, m, heads(q[:, t : t + 1]), heads(k[:, t : t + 1]) * hd**0.5, heads(v[:, t : t + 1]),
            gates(i_raw[:, t : t + 1]), gates(f_raw[:, t : t + 1]), eps=0.0)
        torch.testing.assert_close(y[:, t], h.transpose(1, 2).reshape(B, d), rtol=1e-10, atol=1e-10)
