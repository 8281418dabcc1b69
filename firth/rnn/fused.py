"""The fast path: run a stack of standard cells through PyTorch's fused RNN kernels.

The parameters are the cells' own tensors (``weight_ih``, ``weight_hh``, ``bias_ih``,
``bias_hh``, already in PyTorch's layout and gate order), handed to the same functional
kernels ``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN`` call internally (``torch.lstm``,
``torch.gru``, ``torch.rnn_tanh``, ``torch.rnn_relu``). There is one set of weights and two
ways of executing it, so switching between the plain loop and this path is exact (up to
floating-point summation order) and gradients reach the same parameters either way.

Padded batches are packed (``pack_padded_sequence``) so that each sequence stops at its
true length: its final state is the one after its last real token, and the backward
direction starts there rather than at the padding. A batch without padding (every length
equal to T, as in language-model chunks) skips the packing and calls the kernels' unpacked
form, the path ``nn.LSTM`` takes for a plain tensor: no sort, no copies into and out of
the packed layout, and the kernels' whole-sequence code rather than their per-step
packed loop.
"""

from __future__ import annotations

import warnings

import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

__all__ = ["fused_forward", "fused_params"]

_KERNELS = {
    "LSTM": torch.lstm,
    "GRU": torch.gru,
    "RNN_TANH": torch.rnn_tanh,
    "RNN_RELU": torch.rnn_relu,
}


def fused_params(cells) -> list[torch.Tensor]:
    """The flat weight list the kernels expect: for each layer, for each direction,
    ``w_ih, w_hh, b_ih, b_hh`` (cells are already ordered layer-major, forward first)."""
    params = []
    for cell in cells:
        params += [cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh]
    return params


def _call(kernel, mode, inp, batch_sizes, s0, d_h, params, num_layers, dropout, training, bidirectional):
    """One kernel call on packed data (``batch_sizes`` given) or on a (B, T, d) batch
    (``batch_sizes`` None, batch-first); returns ``(out, s_n)`` with the LSTM state as ``[c; h]``."""
    layout = (batch_sizes,) if batch_sizes is not None else ()
    first = () if batch_sizes is not None else (True,)  # batch_first, unpacked form only
    with warnings.catch_warnings():
        # On CUDA, cuDNN notes that our per-cell tensors are not one contiguous chunk and
        # copies them for the call; that is the price of sharing them with the plain loop.
        warnings.filterwarnings("ignore", message=".*contiguous chunk of memory.*")
        if mode == "LSTM":
            c0, h0 = s0[..., :d_h].contiguous(), s0[..., d_h:].contiguous()
            out, h_n, c_n = kernel(inp, *layout, (h0, c0), params, True, num_layers, dropout, training,
                                   bidirectional, *first)
            return out, torch.cat([c_n, h_n], dim=-1)
        out, s_n = kernel(inp, *layout, s0.contiguous(), params, True, num_layers, dropout, training,
                          bidirectional, *first)
        return out, s_n


def fused_forward(mode, cells, x, lengths, s0, num_layers, bidirectional, dropout, training):
    """Run the fused kernel on a padded batch.

    ``x``: (B, T, d_in); ``lengths``: (B,) int64 on the CPU, all in 1…T; ``s0``:
    (L·D, B, state_size) with the LSTM state laid out as ``[c; h]``.
    Returns ``y`` (B, T, D·d_h) with zeros at padding, and ``s_n`` like ``s0``.
    """
    kernel = _KERNELS[mode]
    B, T, _ = x.shape
    params = fused_params(cells)
    d_h = cells[0].hidden_size
    run = (kernel, mode)
    rest = (params, num_layers, dropout, training, bidirectional)
    if bool((lengths == T).all()):  # no padding: the unpacked kernel, batch-first
        return _call(*run, x, None, s0, d_h, *rest)
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    # Initial states follow the packed (length-sorted) order, as nn.LSTM's permute_hidden does.
    out, s_n = _call(*run, packed.data, packed.batch_sizes, s0.index_select(1, packed.sorted_indices), d_h, *rest)
    y, _ = pad_packed_sequence(
        PackedSequence(out, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices),
        batch_first=True,
        total_length=T,
    )
    return y, s_n.index_select(1, packed.unsorted_indices)
