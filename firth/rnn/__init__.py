"""Recurrent networks as the lecture defines them: RNN*, S-RNN, LSTM, GRU, bidirectional, stacked.

Quick tour (everything below is importable from ``firth.rnn``)::

    from firth.rnn import RNN, RNNAcceptor, RNNTransducer, InputLayer, WordEmbedding, CharEncoder
    from firth.rnn import sequence_loss, transducer_loss, save_model, load_model

    # y₁:ₙ, sₙ = RNN*(x₁:ₙ, s₀) on a padded batch x (B, T, d_in) with lengths (B,)
    rnn = RNN("lstm", input_size=100, hidden_size=64, num_layers=2, bidirectional=True, dropout=0.2)
    y, s_n = rnn(x, lengths)            # y (B, T, 128), zero at padding; s_n (4, B, 2·64) = [c; h]
    enc = rnn.final_output(s_n)         # (B, 128) = [forward final h; backward final h]

    # a text classifier from pretrained firth vectors (``kv``), unknown words -> <unk>
    embed = InputLayer(WordEmbedding.from_vectors(kv, words=train_words, freeze=True, unk_init="mean"),
                       CharEncoder(CharEncoder.chars_from(train_words)))      # chars optional
    model = RNNAcceptor(RNN("lstm", embed.output_size, 64, bidirectional=True), num_classes=2, embed=embed)
    batch = embed.batch([["a", "good", "film"], ["bad"]])                # x, lengths, chars, char_lengths
    loss = sequence_loss(model(**batch), labels)
    save_model("out/model", model)      # directory: config.json + weights.pt (no pickle), atomic
    model, config = load_model("out/model")

    # a tagger: logits at every position, loss over real tokens only
    tagger = RNNTransducer(RNN("gru", embed.output_size, 64, bidirectional=True), num_classes=17, embed=embed)
    loss = transducer_loss(tagger(**batch), tags, batch["lengths"])

Modules (one concern each):

* :mod:`firth.rnn.cells`      — ``SRNNCell``, ``LSTMCell``, ``GRUCell``: one step R and its output O
* :mod:`firth.rnn.xlstm`      — ``SLSTMCell``, ``MLSTMCell`` (Beck et al. 2024); the mLSTM's parallel form
* :mod:`firth.rnn.runner`     — ``RNN``: RNN*, padding, stacking, bidirectional; the plain loop
* :mod:`firth.rnn.fused`      — the same parameters through PyTorch's fused kernels (the default path)
* :mod:`firth.rnn.heads`      — acceptor / transducer heads, pooling, padding-proof losses
* :mod:`firth.rnn.embedding`  — word embeddings from firth vectors (``<pad>``=0, ``<unk>``=1), characters
* :mod:`firth.rnn.models`     — ``RNNAcceptor``, ``RNNTransducer``: input → RNN → head, JSON config
* :mod:`firth.rnn.serialize`  — ``save_model`` / ``load_model`` (JSON + state dict, weights_only)
* :mod:`firth.rnn.vanishing`  — the vanishing-gradient experiment (``firth experiment vanishing-gradient``)

Padding conventions: batches are batch-first, ``lengths`` are ≥ 1 and ≤ T; word id 0 is
``<pad>``; padded outputs are zero and no loss or pooling ever reads them. Devices: all
code follows the input tensors' device (CPU or CUDA); ``lengths`` may stay on the CPU.
"""

# The names below are imported lazily (PEP 562): ``import firth.rnn.cli`` — which the
# ``firth`` command does for every sub-command, ``firth train`` included — must not import
# torch. ``from firth.rnn import RNN`` imports the submodule on first use.
_EXPORTS = {
    "firth.rnn.cells": ["CELL_TYPES", "Cell", "GRUCell", "LSTMCell", "SRNNCell", "make_cell"],
    "firth.rnn.runner": ["RNN", "check_batch", "run_cell"],
    "firth.rnn.heads": ["MLP", "AcceptorHead", "TransducerHead", "length_mask", "pool", "sequence_loss",
                        "transducer_loss"],
    "firth.rnn.embedding": ["PAD", "UNK", "PAD_INDEX", "UNK_INDEX", "UNK_INIT", "WordEmbedding", "CharEncoder",
                            "InputLayer"],
    "firth.rnn.models": ["RNNAcceptor", "RNNTransducer"],
    "firth.rnn.serialize": ["save_model", "load_model", "register_model"],
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = list(_WHERE)


def __getattr__(name):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'firth.rnn' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # cache: later lookups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
