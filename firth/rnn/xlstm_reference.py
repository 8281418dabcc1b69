"""Readable references for the xLSTM cells: the paper's equations, unstabilised, in plain loops.

One sequence at a time, one head at a time, one step at a time; no stabiliser ``m`` (so
only for inputs small enough that ``exp`` does not overflow, which is what the tests use).
They read the parameters of :class:`~firth.rnn.xlstm.SLSTMCell` /
:class:`~firth.rnn.xlstm.MLSTMCell` and return the outputs ``h_1..h_T`` of one sequence.
"""

from __future__ import annotations

import math

import torch

__all__ = ["slstm_reference", "mlstm_reference"]


def _forget(f_raw, kind):
    return torch.sigmoid(f_raw) if kind == "sigmoid" else torch.exp(f_raw)


def slstm_reference(cell, x: torch.Tensor) -> torch.Tensor:
    """x: (T, d_in) → h: (T, d_h). c_t = f c + i z, n_t = f n + i, h_t = o · c/n with i = exp(ĩ)."""
    d, H, hd = cell.hidden_size, cell.heads, cell.head_size
    W, b = cell.weight_ih, cell.bias
    c = torch.zeros(d, dtype=x.dtype)
    n = torch.zeros(d, dtype=x.dtype)
    h = torch.zeros(d, dtype=x.dtype)
    out = []
    for t in range(x.shape[0]):
        pre = W @ x[t] + b  # input part, gate-major: i, f, z, o
        rec = torch.zeros(4 * d, dtype=x.dtype)
        for head in range(H):  # block-diagonal R: head j's hidden slice feeds only head j's gates
            r = cell.weight_hh[head] @ h[head * hd : (head + 1) * hd]  # (4·hd,) gate-major i, f, z, o
            for g in range(4):
                rec[g * d + head * hd : g * d + (head + 1) * hd] = r[g * hd : (g + 1) * hd]
        i_raw, f_raw, z_raw, o_raw = (pre + rec).chunk(4)
        i, f = torch.exp(i_raw), _forget(f_raw, cell.forget)
        c = f * c + i * torch.tanh(z_raw)
        n = f * n + i
        h = torch.sigmoid(o_raw) * c / n
        out.append(h)
    return torch.stack(out)


def mlstm_reference(cell, x: torch.Tensor) -> torch.Tensor:
    """x: (T, d_in) → h: (T, d_h). Per head: C = f C + i v kᵀ, n = f n + i k, h = o · C q / max(|nᵀq|, 1)."""
    d, H, hd = cell.hidden_size, cell.heads, cell.head_size
    W, b = cell.weight_ih, cell.bias
    C = [torch.zeros(hd, hd, dtype=x.dtype) for _ in range(H)]
    n = [torch.zeros(hd, dtype=x.dtype) for _ in range(H)]
    out = []
    for t in range(x.shape[0]):
        a = W @ x[t] + b
        h = []
        for j in range(H):
            sl = slice(j * hd, (j + 1) * hd)
            q, k, v, o = (a[g * d : (g + 1) * d][sl] for g in range(4))
            k = k / math.sqrt(hd)
            i = torch.exp(a[4 * d + j])
            f = _forget(a[4 * d + H + j], cell.forget)
            C[j] = f * C[j] + i * torch.outer(v, k)
            n[j] = f * n[j] + i * k
            h_tilde = C[j] @ q / torch.clamp(torch.abs(n[j] @ q), min=1.0)
            h.append(torch.sigmoid(o) * h_tilde)
        out.append(torch.cat(h))
    return torch.stack(out)
