"""Recurrent cells, each written plainly from its equations: the ``R`` and ``O`` of the lecture.

An RNN is a function applied position by position with a state carried along::

    sᵢ = R(sᵢ₋₁, xᵢ)          yᵢ = O(sᵢ)

A cell here is an ``nn.Module`` that implements exactly one step: ``cell(x, s) -> s'``
(that is R) and ``cell.output(s) -> y`` (that is O). The runner in
:mod:`firth.rnn.runner` applies it along a sequence.

Conventions, shared by every cell so that the fused PyTorch kernels can run the *same*
parameters (see :mod:`firth.rnn.fused`):

* Parameters are stored in PyTorch's layout: ``weight_ih`` is ``(G·d_h, d_in)``,
  ``weight_hh`` is ``(G·d_h, d_h)``, ``bias_ih`` and ``bias_hh`` are ``(G·d_h,)``, G being
  the number of gate blocks. The lecture writes row vectors times matrices, ``x Wˣ`` with
  ``Wˣ ∈ ℝ^{d_in × d_h}``; that is ``x @ weight_ih.T`` here, i.e. ``Wˣ = weight_ihᵀ``.
* Two biases (``bias_ih + bias_hh``) where the lecture has one ``b``. Their sum plays the
  role of ``b``; the split is redundant for S-RNN and LSTM but it is what the fused kernels
  expect, and for the GRU it is not redundant (``b_hn`` sits inside the reset gate).
* A state is one tensor ``s`` of shape ``(batch, state_size)``. For the LSTM it is the
  lecture's concatenation ``s = [c; h]`` (``state_size = 2·d_h``).
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["Cell", "SRNNCell", "LSTMCell", "GRUCell", "CELL_TYPES", "make_cell"]


class Cell(nn.Module):
    """Base class: one recurrent step ``s' = R(s, x)`` and its output ``y = O(s)``.

    Subclasses set ``gates`` (the number of stacked weight blocks), implement
    :meth:`forward` and, if the output is not the whole state, :meth:`output`.
    ``fused_mode`` names the PyTorch fused kernel that computes the same function
    (``"LSTM"``, ``"GRU"``, ``"RNN_TANH"``, ``"RNN_RELU"``) or is ``None`` when there is
    none, in which case only the plain loop can run the cell.
    """

    gates = 1
    fused_mode: str | None = None

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        g = self.gates * self.hidden_size
        self.weight_ih = nn.Parameter(torch.empty(g, self.input_size))
        self.weight_hh = nn.Parameter(torch.empty(g, self.hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(g))
        self.bias_hh = nn.Parameter(torch.empty(g))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # PyTorch's own initialisation for its recurrent modules, so both paths start alike.
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    @property
    def state_size(self) -> int:
        """Width of the state vector s (d_h, or 2·d_h for the LSTM)."""
        return self.hidden_size

    @property
    def output_size(self) -> int:
        """Width of the output vector y = O(s)."""
        return self.hidden_size

    def output(self, s: torch.Tensor) -> torch.Tensor:
        """O(s): the output read from the state (the whole state unless overridden)."""
        return s

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"

    # Affine maps of the input and of the previous hidden vector, all gate blocks at once.
    def _affine(self, x, h):
        return x @ self.weight_ih.T + self.bias_ih, h @ self.weight_hh.T + self.bias_hh


class SRNNCell(Cell):
    """Elman network / simple RNN (S-RNN).

    ::

        sᵢ = R(sᵢ₋₁, xᵢ) = g(sᵢ₋₁ Wˢ + xᵢ Wˣ + b)
        yᵢ = O(sᵢ) = sᵢ

    with ``Wˣ = weight_ihᵀ``, ``Wˢ = weight_hhᵀ``, ``b = bias_ih + bias_hh`` and g = tanh
    (default) or ReLU. The gradient of sₙ with respect to sᵢ is a product of n − i
    Jacobians ``diag(g'(·)) Wˢᵀ``: unless their norms sit at exactly 1 it shrinks (or
    grows) exponentially with the distance — the vanishing-gradient problem.
    """

    gates = 1

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh"):
        if nonlinearity not in ("tanh", "relu"):
            from firth.errors import FirthError

            raise FirthError(f"nonlinearity {nonlinearity!r}: use 'tanh' or 'relu'")
        self.nonlinearity = nonlinearity
        self.fused_mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size)

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        ax, as_ = self._affine(x, s)
        pre = as_ + ax
        return torch.tanh(pre) if self.nonlinearity == "tanh" else torch.relu(pre)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, nonlinearity={self.nonlinearity!r}"


class LSTMCell(Cell):
    """Long short-term memory. The state is split in two halves, ``s = [c; h]``.

    ::

        z = tanh(xⱼ Wˣᶻ + hⱼ₋₁ Wʰᶻ + bᶻ)       update candidate
        i = σ(xⱼ Wˣⁱ + hⱼ₋₁ Wʰⁱ + bⁱ)          input gate
        f = σ(xⱼ Wˣᶠ + hⱼ₋₁ Wʰᶠ + bᶠ)          forget gate
        o = σ(xⱼ Wˣᵒ + hⱼ₋₁ Wʰᵒ + bᵒ)          output gate
        cⱼ = f ⊙ cⱼ₋₁ + i ⊙ z                   memory
        hⱼ = o ⊙ tanh(cⱼ)                      hidden state
        sⱼ = R(sⱼ₋₁, xⱼ) = [cⱼ; hⱼ]            yⱼ = O(sⱼ) = hⱼ

    The weight rows are stacked in PyTorch's order ``i, f, z, o`` (PyTorch calls z "g").
    Why it helps with vanishing gradients: ∂cⱼ/∂cⱼ₋₁ contains the term ``diag(f)``, so the
    error flows back through the memory scaled by the forget gate alone; where f ≈ 1 it is
    preserved over long distances. ``forget_bias`` is added to ``bias_ih``'s f block at
    initialisation (Gers et al. 2000; Jozefowicz et al. 2015 recommend 1).
    """

    gates = 4
    fused_mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, forget_bias: float = 0.0):
        self.forget_bias = float(forget_bias)
        super().__init__(input_size, hidden_size)

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if self.forget_bias:
            h = self.hidden_size
            with torch.no_grad():
                self.bias_ih[h : 2 * h] += self.forget_bias

    @property
    def state_size(self) -> int:
        return 2 * self.hidden_size

    def split(self, s: torch.Tensor):
        """``s = [c; h]`` → ``(c, h)``."""
        return s[..., : self.hidden_size], s[..., self.hidden_size :]

    def output(self, s: torch.Tensor) -> torch.Tensor:
        return s[..., self.hidden_size :]

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        c, h = self.split(s)
        ax, ah = self._affine(x, h)
        a_i, a_f, a_z, a_o = (ax + ah).chunk(4, dim=-1)
        i, f, o = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.sigmoid(a_o)
        z = torch.tanh(a_z)
        c = f * c + i * z
        h = o * torch.tanh(c)
        return torch.cat([c, h], dim=-1)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, forget_bias={self.forget_bias}"


class GRUCell(Cell):
    """Gated recurrent unit, in the variant PyTorch's fused ``nn.GRU`` computes.

    ::

        r = σ(Wᵢᵣ x + bᵢᵣ + Wₕᵣ h + bₕᵣ)              reset gate
        u = σ(Wᵢᵤ x + bᵢᵤ + Wₕᵤ h + bₕᵤ)              update gate (PyTorch's "z")
        n = tanh(Wᵢₙ x + bᵢₙ + r ⊙ (Wₕₙ h + bₕₙ))      candidate
        h' = (1 − u) ⊙ n + u ⊙ h                      sᵢ = yᵢ = h'

    Rows are stacked in PyTorch's order ``r, u, n``. The reset gate multiplies the
    *result* of the recurrent product (``r ⊙ (Wₕₙ h + bₕₙ)``). Cho et al. (2014), the
    original GRU, apply it *before* the product: ``n = tanh(Wᵢₙ x + Wₕₙ (r ⊙ h) + b)``.
    The two are different functions of the same parameters (they agree only when r = 1);
    PyTorch and cuDNN use the first because it lets all of ``Wₕ h`` be computed in one
    matrix product before the gates. ``variant="cho"`` gives the 2014 form; it has no
    fused kernel, so it always runs through the plain loop.
    """

    gates = 3

    def __init__(self, input_size: int, hidden_size: int, variant: str = "pytorch"):
        if variant not in ("pytorch", "cho"):
            from firth.errors import FirthError

            raise FirthError(f"GRU variant {variant!r}: use 'pytorch' or 'cho'")
        self.variant = variant
        self.fused_mode = "GRU" if variant == "pytorch" else None
        super().__init__(input_size, hidden_size)

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        h = s
        ax = x @ self.weight_ih.T + self.bias_ih
        ax_r, ax_u, ax_n = ax.chunk(3, dim=-1)
        w_hr, w_hu, w_hn = self.weight_hh.chunk(3, dim=0)
        b_hr, b_hu, b_hn = self.bias_hh.chunk(3, dim=0)
        r = torch.sigmoid(ax_r + h @ w_hr.T + b_hr)
        u = torch.sigmoid(ax_u + h @ w_hu.T + b_hu)
        if self.variant == "pytorch":
            n = torch.tanh(ax_n + r * (h @ w_hn.T + b_hn))
        else:  # Cho et al. 2014: reset before the recurrent product
            n = torch.tanh(ax_n + (r * h) @ w_hn.T + b_hn)
        return (1 - u) * n + u * h

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, variant={self.variant!r}"


from firth.rnn.xlstm import MLSTMCell, SLSTMCell  # noqa: E402  (xlstm imports nothing from here)

CELL_TYPES = {"srnn": SRNNCell, "lstm": LSTMCell, "gru": GRUCell, "slstm": SLSTMCell, "mlstm": MLSTMCell}


def make_cell(cell: str, input_size: int, hidden_size: int, **options) -> Cell:
    """Build a cell by name: ``"srnn"`` (options: nonlinearity), ``"lstm"`` (forget_bias),
    ``"gru"`` (variant), ``"slstm"`` / ``"mlstm"`` (heads, forget, forget_bias; see
    :mod:`firth.rnn.xlstm`)."""
    import numbers

    from firth.errors import FirthError

    if cell not in CELL_TYPES:
        raise FirthError(f"cell {cell!r}: use one of {', '.join(CELL_TYPES)}")
    for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not (isinstance(v, numbers.Integral) and not isinstance(v, bool) and 1 <= v <= 10**8):  # a damaged config too
            raise FirthError(f"cell {cell!r}: {name} must be an integer in [1, 10**8], got {str(v)[:40]}")
    try:
        return CELL_TYPES[cell](input_size, hidden_size, **options)
    except (TypeError, ValueError, OverflowError, RuntimeError) as e:  # an option this cell does not take, ...
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise FirthError(f"cell {cell!r}: {first}") from None
