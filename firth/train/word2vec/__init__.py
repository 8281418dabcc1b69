"""word2vec: skip-gram and CBOW with negative sampling (trainer, Numba kernels, NumPy reference)."""

from firth.train.word2vec.trainer import Word2Vec

__all__ = ["Word2Vec"]
