"""The training side: corpus reading, vocabulary, sampling tables, the epoch runner,
checkpoints, and the trainers (``firth.train.word2vec``, ``firth.train.fasttext``), each
with its Numba kernels and a plain-NumPy reference of the same updates.

    from firth.train.word2vec import Word2Vec
    from firth.train.fasttext import FastText

Training produces :mod:`firth.vectors` objects; nothing here imports torch, or the areas
that use vectors (evaluate, tasks, search, rnn).
"""
