"""Word-level RNN language models on firth's ``RNN*`` runner (any cell, xLSTM included).

::

    from firth.lm import LMConfig, train, evaluate, generate, load_lm
    cfg = LMConfig(cell="lstm", layers=2, hidden=200, emb=200, dropout=0.2, epochs=6)
    model, vocab, history = train(cfg, "train.txt", "valid.txt", output="lm/")
    model, vocab, meta = load_lm("lm/")
    ids, oov = read_ids("test.txt", vocab)
    evaluate(model, ids, vocab.eos)["perplexity"]
    " ".join(generate(model, vocab, "the", words=20, temperature=0.8, top_k=40, seed=1))

Modules: :mod:`~firth.lm.config` (``LMConfig``), :mod:`~firth.lm.data` (vocabulary, PTB
conventions, streams), :mod:`~firth.lm.model` (``LanguageModel``), :mod:`~firth.lm.train`,
:mod:`~firth.lm.evaluate`, :mod:`~firth.lm.generate`, :mod:`~firth.lm.store` (save/load,
no pickle), :mod:`~firth.lm.cli` (``firth lm``). See docs/lm.md.
"""

_EXPORTS = {
    "firth.lm.config": ["LMConfig"],
    "firth.lm.data": ["Vocab", "read_ids", "EOS", "UNK"],
    "firth.lm.model": ["LanguageModel"],
    "firth.lm.train": ["train"],
    "firth.lm.evaluate": ["evaluate"],
    "firth.lm.generate": ["generate"],
    "firth.lm.store": ["save_lm", "load_lm"],
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = list(_WHERE)


def __getattr__(name):  # lazy (PEP 562): `firth lm --help` must not import torch
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'firth.lm' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
