"""Supervised tasks: text classification and sequence tagging.

* :mod:`firth.tasks.data`     — readers: ``label<TAB>text`` and CoNLL columns (one-line errors)
* :mod:`firth.tasks.metrics`  — accuracy, macro-F1, per-class table, confusion matrix; token
  accuracy; span P/R/F1 with conlleval's chunk rules
* :mod:`firth.tasks.avg`      — averaged word + word-n-gram embeddings → softmax (fastText
  supervised style), Numba Hogwild kernels in :mod:`firth.tasks.kernels`
* :mod:`firth.tasks.neural`   — biLSTM acceptor classifier and biLSTM transducer tagger on
  :mod:`firth.rnn`, with the shared training loop (early stopping, best model kept)
* :mod:`firth.tasks.classify` / :mod:`firth.tasks.tagging` — file-level train / load / evaluate
* :mod:`firth.tasks.cli`      — ``firth classify train|test|predict``, ``firth tag train|test|predict``
"""
