"""How benchmark words are found in the vocabulary (one policy for every benchmark).

Every benchmark word goes through the vectors' own normaliser (``kv.normalize``), then,
by default, is compared case-insensitively as gensim does: the vocabulary is folded to
lower case and, where several vocabulary words fold to the same key (``Paris``/``paris``),
the most frequent one (lowest index) answers, exactly like gensim's
``{k.upper(): index for k in reversed(index_to_key)}``. ``restrict`` limits the vocabulary
to the ``restrict`` most frequent words.
"""

from __future__ import annotations

import weakref

import numpy as np

from firth.errors import FirthError

_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class Lookup:
    @classmethod
    def get(cls, kv, case_insensitive: bool = True, restrict: int | None = None) -> "Lookup":
        """A Lookup for these vectors and policy, built once per vectors object (a vocabulary
        of millions takes a second or two to fold)."""
        try:
            per_kv = _CACHE.setdefault(kv, {})
        except TypeError:  # not weak-referenceable: no caching
            return cls(kv, case_insensitive, restrict)
        # the vocabulary size is part of the key: words added later (kv.add_vectors) get a new Lookup
        key = (case_insensitive, None if restrict is None else min(int(restrict), len(kv.index_to_key)),
               len(kv.index_to_key))
        if key not in per_kv:
            per_kv[key] = cls(kv, case_insensitive, restrict)
        return per_kv[key]

    def __init__(self, kv, case_insensitive: bool = True, restrict: int | None = None):
        n = len(kv.index_to_key)
        if restrict is not None:
            if restrict < 1:
                raise FirthError(f"--restrict: must be a positive number of words, got {restrict}")
            n = min(n, int(restrict))
        # no reference to kv itself (the cache above is keyed weakly on it)
        self.keys = kv.index_to_key
        norm = getattr(kv, "normalizer", None)
        self._normalize = norm if callable(norm) else kv.normalize
        self.n = n
        self.case_insensitive = case_insensitive
        keys = kv.index_to_key[:n]
        if case_insensitive:
            m: dict[str, int] = {}
            for i, k in enumerate(keys):
                m.setdefault(k.lower(), i)
            self.map = m
        elif n == len(kv.index_to_key):
            self.map = kv.key_to_index
        else:
            self.map = {k: i for i, k in enumerate(keys)}

    def key(self, word: str) -> str:
        w = self._normalize(word)
        return w.lower() if self.case_insensitive else w

    def index(self, word: str) -> int | None:
        return self.map.get(self.key(word))

    def fold(self, index: int) -> str:
        k = self.keys[index]
        return k.lower() if self.case_insensitive else k

    def variants(self) -> dict[str, list[int]]:
        """folded key -> all vocabulary indices (< n) that fold to it (for excluding question words)."""
        out: dict[str, list[int]] = {}
        for i, k in enumerate(self.keys[: self.n]):
            out.setdefault(k.lower() if self.case_insensitive else k, []).append(i)
        return out


def check_dim(kv, expected: int | None, what: str = "vectors"):
    """Vectors of the wrong width (e.g. a file of 100-d vectors where 300-d were expected)."""
    d = kv.vectors.shape[1] if kv.vectors.ndim == 2 else None
    if expected is not None and d != expected:
        raise FirthError(f"{what}: vectors have {d} dimensions but {expected} were expected (--dim); "
                         f"check that you gave the right vectors file")
    if len(kv.index_to_key) == 0:
        raise FirthError(f"{what}: the vocabulary is empty")


def normed(kv) -> np.ndarray:
    return np.asarray(kv.get_normed(), dtype=np.float32)
