"""``RNN*``: a cell applied along a sequence, stacked and optionally bidirectional.

The lecture's abstraction::

    y₁:ₙ, sₙ = RNN*(x₁:ₙ, s₀)        sᵢ = R(sᵢ₋₁, xᵢ)        yᵢ = O(sᵢ)

R and O are one cell (:mod:`firth.rnn.cells`), the same at every position. On top of it:

* **Bidirectional**: ``biRNN(x₁:ₙ, i) = [RNN_f(x₁:ᵢ); RNN_b(xₙ:ᵢ)]`` — a second cell reads
  the sequence right to left and the outputs are concatenated position by position. In a
  padded batch the backward cell of each sequence must start at *that sequence's* last
  real token, not at the end of the padding.
* **Stacked**: layer k+1 reads the outputs y₁:ₙ of layer k (dropout between layers).

Inputs are padded batches ``x`` of shape (B, T, d_in) with ``lengths`` (B,), or a
``PackedSequence``. Two ways of executing the same parameters:

* the **plain loop** (``path="plain"``), the readable reference: a Python loop over
  positions calling the cell; at each step a sequence whose length is already passed keeps
  its state unchanged, which makes padding inert in both directions;
* the **fused path** (``path="fused"``, :mod:`firth.rnn.fused`): PyTorch's fused kernels on
  packed sequences, used by default whenever all cells are standard ones;
* the **parallel path** (``path="parallel"``): cells with a whole-sequence form (the mLSTM,
  :mod:`firth.rnn.xlstm`) run it through their ``sequence()`` method, the others the plain
  loop; the default for cells without a fused kernel.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from firth.errors import FirthError
from firth.rnn.cells import Cell, make_cell
from firth.rnn.fused import fused_forward

__all__ = ["RNN", "check_batch", "run_cell"]


def check_batch(x, lengths, input_size: int | None = None) -> torch.Tensor:
    """Validate a padded batch and return its lengths as a CPU int64 tensor.

    Raises one clear FirthError for: a tensor that is not (batch, time, features), the
    wrong number of features, an empty batch, an empty sequence, lengths longer than the
    tensor, lengths of the wrong shape.
    """
    if not isinstance(x, torch.Tensor) or x.dim() != 3:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise FirthError(
            f"RNN input: expected a (batch, time, features) tensor, got shape {shape}; "
            "batch your sequences (pad them) and give one feature vector per position"
        )
    B, T, d = x.shape
    if input_size is not None and d != input_size:
        raise FirthError(
            f"RNN input: {d} features per position but the RNN was built for input_size={input_size}"
        )
    if B == 0 or T == 0:
        raise FirthError(f"RNN input: empty batch (shape {tuple(x.shape)}); give at least one non-empty sequence")
    if lengths is None:
        return torch.full((B,), T, dtype=torch.int64)
    lengths = torch.as_tensor(lengths).to("cpu", torch.int64)
    if lengths.shape != (B,):
        raise FirthError(f"RNN lengths: expected shape ({B},) (one length per sequence), got {tuple(lengths.shape)}")
    if (lengths < 1).any():
        k = int(torch.nonzero(lengths < 1)[0])
        raise FirthError(
            f"RNN lengths: sequence {k} is empty (length {int(lengths[k])}); "
            "remove empty sequences before batching"
        )
    if (lengths > T).any():
        k = int(torch.nonzero(lengths > T)[0])
        raise FirthError(
            f"RNN lengths: sequence {k} has length {int(lengths[k])} but the padded tensor has only {T} positions"
        )
    return lengths


def run_cell(cell: Cell, x: torch.Tensor, lengths: torch.Tensor, s0: torch.Tensor, reverse: bool = False):
    """The plain loop: ``sᵢ = R(sᵢ₋₁, xᵢ)``, ``yᵢ = O(sᵢ)`` for one cell and one direction.

    ``x``: (B, T, d_in), ``lengths``: (B,), ``s0``: (B, state_size). Returns ``y``
    (B, T, output_size) with zeros at padded positions and ``sₙ`` (B, state_size), the
    state after each sequence's last real token.

    Padding: at step t a sequence with ``length ≤ t`` keeps its state (``torch.where``), so
    padded positions change nothing. Going right to left (``reverse=True``) a sequence's
    state therefore stays at s₀ through its padding and starts moving at its own last
    token — exactly ``RNN_b(xₙ:ᵢ)`` of the unpadded sequence.
    """
    B, T, _ = x.shape
    live_len = lengths.to(x.device)
    s = s0
    ys = [None] * T
    steps = range(T - 1, -1, -1) if reverse else range(T)
    for t in steps:
        s_new = cell(x[:, t], s)
        live = (live_len > t).unsqueeze(1)  # (B, 1): is position t a real token?
        s = torch.where(live, s_new, s)
        y = cell.output(s_new)
        ys[t] = torch.where(live, y, torch.zeros_like(y))
    return torch.stack(ys, dim=1), s


class RNN(nn.Module):
    """A stack of recurrent layers, optionally bidirectional: ``y, sₙ = rnn(x, lengths, s0)``.

    Parameters
    ----------
    cell: ``"srnn"``, ``"lstm"``, ``"gru"``, ``"slstm"`` or ``"mlstm"`` (see
        :func:`firth.rnn.cells.make_cell`).
    input_size, hidden_size: d_in and d_h.
    num_layers: stacked layers; layer k+1 reads the (concatenated) outputs of layer k.
    bidirectional: add a right-to-left cell per layer; outputs are ``[y_f; y_b]``.
    dropout: dropout probability on the inputs of layers 2…L (between layers, not after
        the last one — as nn.LSTM does), active in training mode only.
    initial_state: ``"zeros"`` (s₀ = 0) or ``"learned"`` (a trained s₀ per layer and
        direction, shared by all sequences). A tensor passed as ``s0`` overrides both.
    fused: use the fused kernels when possible (default). ``forward(path=...)`` overrides.
    cell_options: passed to the cell (``nonlinearity`` for S-RNN, ``forget_bias`` for the
        LSTM, ``variant`` for the GRU).

    Shapes: ``x`` (B, T, d_in) padded (batch first) with ``lengths`` (B,), or a
    ``PackedSequence``; ``s0`` and ``sₙ`` are (L·D, B, state_size), ordered layer by
    layer, forward before backward (like PyTorch's ``h_n``), with the LSTM state laid out
    as ``[c; h]``. ``y`` is (B, T, D·d_h), zero at padded positions (a ``PackedSequence``
    in, a ``PackedSequence`` out).
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        initial_state: str = "zeros",
        fused: bool = True,
        **cell_options,
    ):
        super().__init__()
        if num_layers < 1:
            raise FirthError(f"num_layers={num_layers}: need at least one layer")
        if num_layers > 1024:  # a damaged or crafted model config: building 10**12 layers never ends
            raise FirthError(f"num_layers={num_layers}: at most 1024 layers")
        if not 0.0 <= dropout < 1.0:
            raise FirthError(f"dropout={dropout}: must be in [0, 1)")
        if initial_state not in ("zeros", "learned"):
            raise FirthError(f"initial_state={initial_state!r}: use 'zeros' or 'learned'")
        self.cell_type = cell
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.num_layers = int(num_layers)
        self.num_directions = 2 if bidirectional else 1
        self.bidirectional = bool(bidirectional)
        self.dropout = float(dropout)
        self.initial_state = initial_state
        self.fused = bool(fused)
        self.cell_options = dict(cell_options)
        cells = []
        for layer in range(self.num_layers):
            d_in = self.input_size if layer == 0 else self.hidden_size * self.num_directions
            for _ in range(self.num_directions):
                cells.append(make_cell(cell, d_in, self.hidden_size, **cell_options))
        # Layer-major, forward before backward: the order of PyTorch's flat weights and h_n.
        self.cells = nn.ModuleList(cells)
        if initial_state == "learned":
            self.s0 = nn.Parameter(torch.zeros(len(cells), self.state_size))
        else:
            self.register_parameter("s0", None)

    @property
    def state_size(self) -> int:
        return self.cells[0].state_size

    @property
    def output_size(self) -> int:
        """Width of y (and of :meth:`final_output`): D·d_h."""
        return self.hidden_size * self.num_directions

    @property
    def fused_mode(self) -> str | None:
        """The fused kernel that computes these cells, or None (plain loop only)."""
        modes = {c.fused_mode for c in self.cells}
        return modes.pop() if len(modes) == 1 else None

    def config(self) -> dict:
        """Constructor arguments, JSON-serialisable (for :func:`firth.rnn.serialize.save_model`)."""
        return dict(
            cell=self.cell_type, input_size=self.input_size, hidden_size=self.hidden_size,
            num_layers=self.num_layers, bidirectional=self.bidirectional, dropout=self.dropout,
            initial_state=self.initial_state, fused=self.fused, **self.cell_options,
        )

    def initial(self, batch: int, like: torch.Tensor, s0=None) -> torch.Tensor:
        """s₀ as (L·D, B, state_size): given, learned, or zeros (on ``like``'s device/dtype)."""
        shape = (len(self.cells), batch, self.state_size)
        if s0 is not None:
            s0 = torch.as_tensor(s0, device=like.device, dtype=like.dtype)
            if s0.dim() == 2:  # one s₀ per layer/direction, shared across the batch
                s0 = s0.unsqueeze(1).expand(shape)
            if tuple(s0.shape) != shape:
                raise FirthError(
                    f"RNN s0: expected shape {shape} (layers·directions, batch, state_size), got {tuple(s0.shape)}"
                )
            return s0
        if self.s0 is not None:
            return self.s0.to(like.dtype).unsqueeze(1).expand(shape)
        return like.new_zeros(shape)

    def forward(self, x, lengths=None, s0=None, path: str | None = None):
        """``y₁:ₙ, sₙ = RNN*(x₁:ₙ, s₀)``; see the class docstring for shapes.

        ``path``: ``"plain"`` (reference loop), ``"fused"`` (PyTorch kernels), ``"parallel"``
        (whole-sequence forms where a cell has one) or None (fused when ``self.fused`` and the
        cells are standard, otherwise parallel).
        """
        packed_in = isinstance(x, PackedSequence)
        if packed_in:
            x, lengths = pad_packed_sequence(x, batch_first=True)
        lengths = check_batch(x, lengths, self.input_size)
        s0 = self.initial(x.shape[0], x, s0)
        if path is None:
            path = "fused" if (self.fused and self.fused_mode) else "parallel"
        if path == "fused":
            if self.fused_mode is None:
                raise FirthError("RNN: these cells have no fused kernel (e.g. GRU variant 'cho'); use path='plain'")
            y, s_n = fused_forward(
                self.fused_mode, list(self.cells), x, lengths, s0,
                self.num_layers, self.bidirectional, self.dropout, self.training,
            )
        elif path in ("plain", "parallel"):
            y, s_n = self._plain(x, lengths, s0, parallel=(path == "parallel"))
        else:
            raise FirthError(f"RNN path={path!r}: use 'plain', 'fused', 'parallel' or None")
        if packed_in:
            y = pack_padded_sequence(y, lengths, batch_first=True, enforce_sorted=False)
        return y, s_n

    def _plain(self, x, lengths, s0, parallel=False):
        finals = []
        inp = x
        D = self.num_directions
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0:
                inp = F.dropout(inp, self.dropout, self.training)
            outs = []
            for d in range(D):
                k = layer * D + d
                cell = self.cells[k]
                run = cell.sequence if (parallel and hasattr(cell, "sequence")) else (
                    lambda *a, reverse, cell=cell: run_cell(cell, *a, reverse=reverse))
                y, s_n = run(inp, lengths, s0[k], reverse=(d == 1))
                outs.append(y)
                finals.append(s_n)
            inp = torch.cat(outs, dim=-1) if D == 2 else outs[0]
        return inp, torch.stack(finals, dim=0)

    def final_output(self, s_n: torch.Tensor) -> torch.Tensor:
        """The encoding of each whole sequence: O(sₙ) of the top layer, (B, D·d_h).

        For a biRNN, the forward cell's state after the last real token concatenated with
        the backward cell's state after the first token — ``[RNN_f(x₁:ₙ); RNN_b(xₙ:₁)]``.
        """
        top = self.cells[-self.num_directions :]
        states = s_n[-self.num_directions :]
        return torch.cat([c.output(s) for c, s in zip(top, states)], dim=-1)

    def extra_repr(self) -> str:
        return (
            f"cell={self.cell_type!r}, layers={self.num_layers}, bidirectional={self.bidirectional}, "
            f"dropout={self.dropout}, initial_state={self.initial_state!r}, fused={self.fused}"
        )
