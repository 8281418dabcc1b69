"""The read side: word vectors, their file formats, and what one does with them.

    from firth.vectors import KeyedVectors, FastTextVectors, load_vectors, save_vectors
    kv = load_vectors("vectors.firth")      # any format, detected from the file's content

Never imports training (``firth.train``) or the areas that use vectors (evaluate, tasks,
search, rnn): those import this package.
"""

from firth.vectors.fasttext import FastTextVectors
from firth.vectors.formats import FORMATS, detect_format
from firth.vectors.keyed import KeyedVectors
from firth.vectors.load import load_vectors, save_vectors

__all__ = ["FORMATS", "FastTextVectors", "KeyedVectors", "detect_format", "load_vectors", "save_vectors"]
