"""fastText: skip-gram and CBOW over character n-grams (trainer, Numba kernels, NumPy reference)."""

from firth.train.fasttext.trainer import FastText

__all__ = ["FastText"]
