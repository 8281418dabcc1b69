"""Recurrent networks as the lecture defines them: RNN*, S-RNN, LSTM, GRU, bidirectional, stacked.

Public API (import from ``firth.rnn``)::

    from firth.rnn import RNN
    rnn = RNN("lstm", input_size=100, hidden_size=64, num_layers=2, bidirectional=True, dropout=0.2)
    y, s_n = rnn(x, lengths)          # x: (B, T, 100) padded, lengths: (B,)
    enc = rnn.final_output(s_n)       # (B, 128): [forward final; backward final]

Modules (one concern each):

* :mod:`firth.rnn.cells`   — ``SRNNCell``, ``LSTMCell``, ``GRUCell``: one step R and its output O
* :mod:`firth.rnn.runner`  — ``RNN``: y₁:ₙ, sₙ = RNN*(x₁:ₙ, s₀); padding, stacking, bidirectional
* :mod:`firth.rnn.fused`   — the same parameters through PyTorch's fused kernels (default path)
"""

from firth.rnn.cells import CELL_TYPES, Cell, GRUCell, LSTMCell, SRNNCell, make_cell
from firth.rnn.runner import RNN, check_batch, run_cell

__all__ = [
    "RNN", "Cell", "SRNNCell", "LSTMCell", "GRUCell", "CELL_TYPES", "make_cell", "check_batch", "run_cell",
]
