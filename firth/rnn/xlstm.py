"""xLSTM cells (Beck et al. 2024): sLSTM and mLSTM, as one-step cells for the ``RNN*`` runner.

Both replace the LSTM's sigmoid input gate by an **exponential** one, ``i = exp(ĩ)``, so a
new input can outweigh everything stored so far ("revise a storage decision"). The forget
gate is ``σ(f̃)`` (default, as in the paper's experiments) or ``exp(f̃)``. Exponentials
overflow, so both cells carry a **stabiliser** ``m`` (a running log-scale) and store the
memory divided by ``exp(m)``::

    m_t = max(log f_t + m_{t-1}, ĩ_t)
    i'_t = exp(ĩ_t − m_t)            f'_t = exp(log f_t + m_{t-1} − m_t)      (both ≤ 1)

The output never depends on m: memory and normaliser are scaled by the same ``exp(−m)``,
which cancels in their ratio. :mod:`firth.rnn.xlstm_reference` computes both cells without
the stabiliser, in plain loops; the tests check that the two agree.

* :class:`SLSTMCell` — scalar memory with a **normaliser** ``n``, memory mixing through a
  recurrent matrix that is **block-diagonal over heads** (one ``d_h/H × d_h/H`` block per
  head and gate)::

      c_t = f' c_{t-1} + i' z_t      n_t = f' n_{t-1} + i'      h_t = o_t ⊙ c_t / n_t

  State ``s = [c; n; m; h]`` (4·d_h); output ``h``.
* :class:`MLSTMCell` — a **matrix memory** per head, ``C ∈ ℝ^{d_v×d_k}``, written by the
  covariance rule, read with a query; no recurrent weights (gates see only the input)::

      C_t = f' C_{t-1} + i' v_t k_tᵀ        n_t = f' n_{t-1} + i' k_t
      h_t = o_t ⊙ C_t q_t / max(|n_tᵀ q_t|, exp(−m_t))

  (``max(|nᵀq|, 1)`` of the paper, written for the stabilised C and n). State
  ``[C; n; m; h]`` flattened per head (H·(d_k·d_v + d_k + 1) + d_h); output ``h``. Because the
  gates do not read ``h``, a whole sequence can be computed at once: :func:`mlstm_parallel`
  (the paper's parallel, stabilised form, O(T²) per head, used for training) gives the same
  outputs and final state as the step-by-step recurrence (used for generation).

Parameter layout: ``weight_ih`` (rows, d_in) and ``bias`` (rows,) hold all input
projections; the sLSTM's gate blocks are ordered ``i, f, z, o`` (each d_h, head-major
inside), its ``weight_hh`` is (H, 4·d_h/H, d_h/H): per head, its hidden slice → its four
gate slices. The mLSTM's rows are ``q, k, v, o`` (d_h each) then ``ĩ, f̃`` (H each).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from firth.errors import FirthError

__all__ = ["SLSTMCell", "MLSTMCell", "mlstm_parallel", "mlstm_sequence"]


def _check_heads(hidden_size: int, heads: int, name: str) -> int:
    heads = int(heads)
    if heads < 1 or hidden_size % heads:
        raise FirthError(f"{name}: heads={heads} must be ≥ 1 and divide hidden_size={hidden_size}; choose another --heads")
    return heads


def _log_forget(f_raw: torch.Tensor, forget: str) -> torch.Tensor:
    # log σ(f̃) computed stably (never log of an underflowed sigmoid); log exp(f̃) = f̃.
    return F.logsigmoid(f_raw) if forget == "sigmoid" else f_raw


class _XCell(nn.Module):
    """Shared parts: sizes, heads, forget-gate kind, the stabilised gate update."""

    fused_mode = None  # no PyTorch fused kernel computes these cells

    def __init__(self, input_size: int, hidden_size: int, heads: int, forget: str, forget_bias: float):
        super().__init__()
        if forget not in ("sigmoid", "exp"):
            raise FirthError(f"forget={forget!r}: use 'sigmoid' or 'exp'")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.heads = _check_heads(self.hidden_size, heads, type(self).__name__)
        self.head_size = self.hidden_size // self.heads
        self.forget, self.forget_bias = forget, float(forget_bias)

    @property
    def output_size(self) -> int:
        return self.hidden_size

    def output(self, s: torch.Tensor) -> torch.Tensor:
        return s[..., -self.hidden_size :]

    def _gates(self, i_raw, f_raw, m_prev):
        """Stabilised gates: ``(i', f', m)`` with ``m = max(log f + m_prev, ĩ)``."""
        log_f = _log_forget(f_raw, self.forget) + m_prev
        m = torch.maximum(log_f, i_raw)
        return torch.exp(i_raw - m), torch.exp(log_f - m), m

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, heads={self.heads}, forget={self.forget!r}"


class SLSTMCell(_XCell):
    """sLSTM: exponential gating, normaliser and stabiliser states, block-diagonal recurrence."""

    def __init__(self, input_size: int, hidden_size: int, heads: int = 1, forget: str = "sigmoid",
                 forget_bias: float = 1.0):
        super().__init__(input_size, hidden_size, heads, forget, forget_bias)
        d, H, hd = self.hidden_size, self.heads, self.head_size
        self.weight_ih = nn.Parameter(torch.empty(4 * d, self.input_size))
        self.weight_hh = nn.Parameter(torch.empty(H, 4 * hd, hd))
        self.bias = nn.Parameter(torch.empty(4 * d))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in (self.weight_ih, self.bias):
            nn.init.uniform_(p, -bound, bound)
        nn.init.uniform_(self.weight_hh, -1.0 / math.sqrt(self.head_size), 1.0 / math.sqrt(self.head_size))
        with torch.no_grad():  # f block: remember by default at the start of training
            self.bias[self.hidden_size : 2 * self.hidden_size] += self.forget_bias

    @property
    def state_size(self) -> int:
        return 4 * self.hidden_size

    def recurrent(self, h: torch.Tensor) -> torch.Tensor:
        """R h with block-diagonal R: (B, d_h) → (B, 4·d_h) in gate-major order i, f, z, o."""
        B = h.shape[0]
        H, hd = self.heads, self.head_size
        r = torch.einsum("bhd,hgd->bhg", h.reshape(B, H, hd), self.weight_hh)  # (B, H, 4·hd)
        return r.reshape(B, H, 4, hd).transpose(1, 2).reshape(B, 4 * self.hidden_size)

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        c, n, m, h = s.chunk(4, dim=-1)
        pre = x @ self.weight_ih.T + self.bias + self.recurrent(h)
        i_raw, f_raw, z_raw, o_raw = pre.chunk(4, dim=-1)
        i, f, m = self._gates(i_raw, f_raw, m)
        c = f * c + i * torch.tanh(z_raw)
        n = f * n + i
        # n ≥ i' > 0 after the first step; a zero initial state never reaches the division.
        h = torch.sigmoid(o_raw) * (c / n)
        return torch.cat([c, n, m, h], dim=-1)


class MLSTMCell(_XCell):
    """mLSTM: matrix memory per head, covariance update, query read-out; parallelisable.

    ``forward(x, s)`` is one recurrent step (generation); :meth:`sequence` runs a padded
    batch with the parallel form (training) — see :func:`mlstm_parallel`.
    """

    def __init__(self, input_size: int, hidden_size: int, heads: int = 1, forget: str = "sigmoid",
                 forget_bias: float = 3.0):
        super().__init__(input_size, hidden_size, heads, forget, forget_bias)
        d, H = self.hidden_size, self.heads
        self.weight_ih = nn.Parameter(torch.empty(4 * d + 2 * H, self.input_size))
        self.bias = nn.Parameter(torch.empty(4 * d + 2 * H))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.input_size)
        nn.init.uniform_(self.weight_ih, -bound, bound)
        nn.init.zeros_(self.bias)
        with torch.no_grad():  # f̃ bias: a long memory at the start (the paper starts at 3…6)
            self.bias[4 * self.hidden_size + self.heads :] = self.forget_bias

    @property
    def state_size(self) -> int:
        H, hd = self.heads, self.head_size
        return H * (hd * hd + hd + 1) + self.hidden_size

    def project(self, x: torch.Tensor):
        """Input projections of (..., d_in): q, k (scaled by 1/√d_k), v, o-pre (…, H, hd), ĩ, f̃ (…, H)."""
        d, H, hd = self.hidden_size, self.heads, self.head_size
        a = x @ self.weight_ih.T + self.bias
        q, k, v, o = (a[..., j * d : (j + 1) * d].unflatten(-1, (H, hd)) for j in range(4))
        return q, k / math.sqrt(hd), v, o, a[..., 4 * d : 4 * d + H], a[..., 4 * d + H :]

    def split(self, s: torch.Tensor):
        """State (B, state_size) → C (B, H, d_v, d_k), n (B, H, d_k), m (B, H), h (B, d_h)."""
        B = s.shape[0]
        H, hd = self.heads, self.head_size
        a, b = H * hd * hd, H * hd
        return (s[:, :a].reshape(B, H, hd, hd), s[:, a : a + b].reshape(B, H, hd),
                s[:, a + b : a + b + H], s[:, a + b + H :])

    @staticmethod
    def join(C, n, m, h) -> torch.Tensor:
        B = C.shape[0]
        return torch.cat([C.reshape(B, -1), n.reshape(B, -1), m, h], dim=-1)

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        C, n, m, _ = self.split(s)
        q, k, v, o, i_raw, f_raw = self.project(x)
        i, f, m = self._gates(i_raw, f_raw, m)
        C = f[..., None, None] * C + i[..., None, None] * (v.unsqueeze(-1) * k.unsqueeze(-2))
        n = f[..., None] * n + i[..., None] * k
        num = (C @ q.unsqueeze(-1)).squeeze(-1)  # C q: (B, H, d_v)
        den = torch.maximum((n * q).sum(-1).abs(), torch.exp(-m))
        h = torch.sigmoid(o) * (num / den[..., None])
        return self.join(C, n, m, h.flatten(-2))

    def sequence(self, x: torch.Tensor, lengths: torch.Tensor, s0: torch.Tensor, reverse: bool = False):
        """The parallel form on a padded batch, with ``run_cell``'s contract: ``(y, s_n)``."""
        return mlstm_sequence(self, x, lengths, s0, reverse)


def mlstm_parallel(cell: MLSTMCell, x: torch.Tensor, lengths: torch.Tensor, s0: torch.Tensor):
    """All T outputs of an mLSTM at once (Beck et al. 2024, parallel stabilised form), and the
    state after each sequence's last real token.

    With ``F_{t,s} = Σ_{r=s+1..t} log f_r`` and ``D_{t,s} = F_{t,s} + ĩ_s`` (s ≤ t, else −∞)
    the recurrence unrolls to ``C_t = Σ_s exp(D_{t,s}) v_s k_sᵀ (+ exp(F_{t,0}) C_0)``, so
    ``C_t q_t = Σ_s exp(D_{t,s}) (k_s·q_t) v_s``: a masked, decayed attention. The stabiliser
    ``m_t = max(F_{t,0} + m_0, max_s D_{t,s})`` is exactly the recurrent one (unroll its max),
    so states agree, not only outputs. A carried-in state ``s0`` enters as the s = 0 term.
    """
    B, T, _ = x.shape
    H, hd = cell.heads, cell.head_size
    C0, n0, m0, _ = cell.split(s0)
    q, k, v, o, i_raw, f_raw = cell.project(x)  # (B, T, H, hd) / (B, T, H)
    q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # (B, H, T, hd)
    log_f = _log_forget(f_raw, cell.forget).transpose(1, 2)  # (B, H, T)
    i_raw = i_raw.transpose(1, 2)
    cum = torch.cumsum(log_f, dim=-1)  # F_{t,0}
    D = cum.unsqueeze(-1) - cum.unsqueeze(-2) + i_raw.unsqueeze(-2)  # (B, H, T, T): F_{t,s} + ĩ_s
    causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
    D = D.masked_fill(~causal, float("-inf"))
    init = cum + m0.unsqueeze(-1)  # log-scale of the carried-in state at each t
    m = torch.maximum(D.amax(dim=-1), init)  # (B, H, T)
    W = torch.exp(D - m.unsqueeze(-1))  # decay weights, ≤ 1
    w0 = torch.exp(init - m)  # weight of C_0, n_0
    S = W * (q @ k.transpose(-1, -2))  # (B, H, T, T): exp(D)·(q_t·k_s)
    num = S @ v + w0.unsqueeze(-1) * (q @ C0.transpose(-1, -2))  # Σ_s … v_s + w0 · C_0 q_t
    den = S.sum(-1) + w0 * (q * n0.unsqueeze(-2)).sum(-1)
    den = torch.maximum(den.abs(), torch.exp(-m))
    h = torch.sigmoid(o) * (num / den.unsqueeze(-1)).transpose(1, 2)  # (B, T, H, hd)
    h = h.flatten(-2)
    # Final state at each sequence's own last position L−1 (rows of W beyond L are unused).
    last = (lengths.to(x.device) - 1).view(B, 1, 1).expand(B, H, 1)
    m_n = m.gather(-1, last).squeeze(-1)  # (B, H)
    w_n = W.gather(2, last.unsqueeze(-1).expand(B, H, 1, T)).squeeze(2)  # (B, H, T)
    w0_n = w0.gather(-1, last).squeeze(-1)  # (B, H)
    C_n = torch.einsum("bht,bhtv,bhtk->bhvk", w_n, v, k) + w0_n[..., None, None] * C0
    n_n = torch.einsum("bht,bhtk->bhk", w_n, k) + w0_n[..., None] * n0
    h_n = h.gather(1, (lengths.to(x.device) - 1).view(B, 1, 1).expand(B, 1, cell.hidden_size)).squeeze(1)
    live = (torch.arange(T, device=x.device).unsqueeze(0) < lengths.to(x.device).unsqueeze(1)).unsqueeze(-1)
    return torch.where(live, h, torch.zeros_like(h)), cell.join(C_n, n_n, m_n, h_n)


def _reverse_index(lengths: torch.Tensor, T: int, device) -> torch.Tensor:
    # position t of sequence b ↔ L_b − 1 − t inside the sequence; padding maps to itself
    t = torch.arange(T, device=device).unsqueeze(0)
    L = lengths.to(device).unsqueeze(1)
    return torch.where(t < L, L - 1 - t, t)


def mlstm_sequence(cell: MLSTMCell, x, lengths, s0, reverse: bool = False):
    """:func:`mlstm_parallel` in either direction: right to left reverses each sequence
    within its own length, runs it left to right, and puts the outputs back in place."""
    if not reverse:
        return mlstm_parallel(cell, x, lengths, s0)
    idx = _reverse_index(lengths, x.shape[1], x.device)
    gather = lambda t: t.gather(1, idx.unsqueeze(-1).expand(-1, -1, t.shape[-1]))
    y, s_n = mlstm_parallel(cell, gather(x), lengths, s0)
    return gather(y), s_n
