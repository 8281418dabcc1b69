"""KeyedVectors: words and their vectors, and what one does with them.

Familiar to gensim users (``kv["king"]``, ``most_similar``, analogies) but never silently
wrong: every lookup goes through the normaliser the vectors were trained with, unknown words
raise :class:`~firth.errors.UnknownWordError` with close spellings, and similarity queries
are one matrix product over unit-length rows.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable, Sequence

import numpy as np

from firth.errors import FirthError, UnknownWordError
from firth.text import Normalizer
from firth.vectors.compat import GensimCompat
from firth.vectors.formats.native import NativeData, write_native
from firth.vectors.formats.word2vec import WORD2VEC_FORMATS, write_word2vec

_MISSING = object()
EPS_COSMUL = 1e-3  # Levy & Goldberg (2014), 3CosMul's epsilon


def _unit_rows(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0  # zero rows stay zero instead of becoming NaN
    return (m / norms).astype(np.float32, copy=False)


class KeyedVectors(GensimCompat):
    """A vocabulary (most frequent first) and a float32 matrix with one row per word."""

    def __init__(
        self,
        words: Sequence[str],
        vectors: np.ndarray,
        counts: np.ndarray | None = None,
        normalizer: Normalizer | None = None,
        meta: dict | None = None,
    ):
        vectors = np.asarray(vectors)
        if vectors.ndim != 2:
            raise FirthError(f"vectors must be a 2-d matrix, got shape {vectors.shape}")
        if vectors.dtype != np.float32:
            vectors = vectors.astype(np.float32)
        if len(words) != vectors.shape[0]:
            raise FirthError(f"{len(words)} words but {vectors.shape[0]} vectors")
        self.index_to_key: list[str] = list(words)
        self.key_to_index: dict[str, int] = {w: i for i, w in enumerate(self.index_to_key)}
        if len(self.key_to_index) != len(self.index_to_key):
            dup = _first_duplicate(self.index_to_key)
            raise FirthError(f"word {dup!r} appears twice in the vocabulary")
        self.vectors = vectors
        if counts is not None:
            counts = np.asarray(counts, dtype=np.int64)
            if counts.shape != (len(words),):
                raise FirthError(f"{len(words)} words but {counts.shape[0]} counts")
        self.counts = counts
        self.normalizer = normalizer or Normalizer()
        self.meta = dict(meta or {})
        self._normed: np.ndarray | None = None

    # ----------------------------------------------------------------- basics
    @property
    def vector_size(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {len(self)} words x {self.vector_size} dims>"

    def normalize(self, token: str) -> str:
        """The vocabulary key for a raw token (the training normalisation)."""
        return self.normalizer(token)

    def __contains__(self, word) -> bool:
        return isinstance(word, str) and self.normalize(word) in self.key_to_index

    def has_index_for(self, word: str) -> bool:
        return word in self

    def has_vector(self, word: str) -> bool:
        """Whether a vector can be given for ``word``: the vocabulary here; fastText
        vectors also compose one for unseen words."""
        return word in self

    def get_index(self, word: str, default=_MISSING) -> int:
        i = self.key_to_index.get(self.normalize(word))
        if i is None:
            if default is _MISSING:
                raise UnknownWordError(word, self.suggest(word))
            return default
        return i

    def get_vector(self, word: str, norm: bool = False) -> np.ndarray:
        i = self.get_index(word)
        return self.get_normed()[i] if norm else self.vectors[i]

    def __getitem__(self, key):
        if isinstance(key, str):
            return self.get_vector(key)
        if isinstance(key, (int, np.integer)):
            return self.vectors[key]
        return np.stack([self[k] for k in key])

    def suggest(self, word: str, n: int = 3) -> list[str]:
        """Close spellings among the most frequent 50,000 words (for error messages)."""
        key = self.normalize(word)
        pool = self.index_to_key[:50_000]
        return difflib.get_close_matches(key, pool, n=n, cutoff=0.75)

    def get_normed(self) -> np.ndarray:
        """Unit-length rows, computed once and cached."""
        if self._normed is None:
            self._normed = _unit_rows(np.asarray(self.vectors, dtype=np.float32))
        return self._normed

    def limit(self, n: int) -> "KeyedVectors":
        """The ``n`` most frequent words (a view: no copy of the matrix)."""
        n = min(int(n), len(self))
        return KeyedVectors(
            self.index_to_key[:n], self.vectors[:n],
            None if self.counts is None else self.counts[:n], self.normalizer, self.meta,
        )

    # ------------------------------------------------------ the lookup hook
    def _query(self, item) -> tuple[np.ndarray, int | None]:
        """A word or a vector as a unit query vector, and the vocabulary row to leave out of
        the answers (None for a vector). The one lookup subclasses override (fastText vectors
        compose unseen words here); every similarity query goes through it."""
        if isinstance(item, str):
            i = self.get_index(item)
            return self.get_normed()[i], i
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            if not 0 <= item < len(self):
                raise FirthError(f"row {item}: the vocabulary has {len(self)} words")
            return self.get_normed()[item], int(item)
        v = np.asarray(item, dtype=np.float32)
        if v.shape != (self.vector_size,):
            raise FirthError(f"a query vector must have {self.vector_size} values, got shape {v.shape}")
        if not np.isfinite(v).all():
            raise FirthError("a query vector holds NaN or infinity")
        n = np.linalg.norm(v)
        return (v / n if n > 0 else v), None

    def _unit(self, item) -> np.ndarray:
        return self._query(item)[0]

    def _searched(self, restrict_vocab: int | None) -> np.ndarray:
        normed = self.get_normed()
        return normed[:restrict_vocab] if restrict_vocab else normed

    # --------------------------------------------------------- similarities
    def similarity(self, w1, w2) -> float:
        """Cosine similarity of two words (or vectors)."""
        return float(np.dot(self._unit(w1), self._unit(w2)))

    def distance(self, w1, w2) -> float:
        """Cosine distance, ``1 - similarity(w1, w2)``."""
        return 1.0 - self.similarity(w1, w2)

    def distances(self, word_or_vector, other_words: Iterable[str] = ()) -> np.ndarray:
        """Cosine distances from a word or vector to ``other_words`` (all words when empty,
        itself included), as gensim's ``distances``."""
        unit = self._unit(word_or_vector)
        other_words = list(other_words)
        rows = self.get_normed() if not other_words else np.stack([self._unit(w) for w in other_words])
        return (1.0 - rows @ unit).astype(np.float32)

    @staticmethod
    def cosine_similarities(vector_1, vectors_all) -> np.ndarray:
        """Cosines between one vector and each row of ``vectors_all`` (zero vectors give 0)."""
        v = np.asarray(vector_1, dtype=np.float64)
        m = np.atleast_2d(np.asarray(vectors_all, dtype=np.float64))
        den = np.linalg.norm(m, axis=1) * np.linalg.norm(v)
        dots = m @ v
        return np.divide(dots, den, out=np.zeros_like(dots), where=den > 0)

    def n_similarity(self, ws1: Iterable[str], ws2: Iterable[str]) -> float:
        """Cosine similarity of the mean vectors of two word sets."""
        a, b = self.mean_vector(list(ws1)), self.mean_vector(list(ws2))
        return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) or 1.0))

    def closer_than(self, key1: str, key2: str) -> list[str]:
        """Every vocabulary word closer to ``key1`` than ``key2`` is (``key1`` left out)."""
        unit, i1 = self._query(key1)
        _, i2 = self._query(key2)
        scores = self.get_normed() @ unit
        bar = scores[i2] if i2 is not None else np.float32(np.dot(unit, self._unit(key2)))
        return [self.index_to_key[i] for i in np.flatnonzero(scores > bar) if i != i1]

    def words_closer_than(self, word1: str, word2: str) -> list[str]:
        """gensim 3's name for :meth:`closer_than` (gensim 4 keeps both)."""
        return self.closer_than(word1, word2)

    def rank(self, key1: str, key2: str) -> int:
        """1 + the number of words closer to ``key1`` than ``key2`` is."""
        return len(self.closer_than(key1, key2)) + 1

    def most_similar_to_given(self, key1: str, keys_list: Sequence[str]) -> str:
        """The word of ``keys_list`` most similar to ``key1`` (the first on ties)."""
        if not keys_list:
            raise FirthError("most_similar_to_given: keys_list is empty")
        return keys_list[int(np.argmax([self.similarity(key1, k) for k in keys_list]))]

    def relative_cosine_similarity(self, wa: str, wb: str, topn: int = 10) -> float:
        """cos(wa, wb) / the sum of the cosines of wa's ``topn`` nearest neighbours
        (Leeuwenberg et al. 2016; above 1/topn means closer than a typical neighbour)."""
        sims = self.similar_by_word(wa, topn)
        if not sims:
            raise FirthError(f"relative_cosine_similarity: {wa!r} has no neighbours")
        return self.similarity(wa, wb) / sum(s for _, s in sims)

    def _top(self, scores: np.ndarray, topn: int, exclude: set[int]) -> list[tuple[str, float]]:
        k = min(len(scores), topn + len(exclude))
        if k <= 0:
            return []
        part = np.argpartition(-scores, k - 1)[:k]
        best = part[np.argsort(-scores[part], kind="stable")]
        out = []
        for i in best:
            if int(i) in exclude:
                continue
            out.append((self.index_to_key[i], float(scores[i])))
            if len(out) == topn:
                break
        return out

    def _answer(self, scores: np.ndarray, topn: int | None, exclude: set[int]):
        """gensim's convention: topn=None gives the whole score array, topn < 1 nothing."""
        if topn is None:
            return scores
        return self._top(scores, int(topn), exclude) if topn >= 1 else []

    @staticmethod
    def _listify(x) -> list:
        if x is None:
            return []
        if isinstance(x, (str, np.ndarray)):
            return [x]
        return list(x)

    @staticmethod
    def _weighted(items, default: float) -> list[tuple[object, float]]:
        """gensim accepts ``(key, weight)`` pairs beside plain keys."""
        out = []
        for it in items:
            if isinstance(it, tuple) and len(it) == 2 and not isinstance(it[1], str):
                out.append((it[0], float(it[1])))
            else:
                out.append((it, default))
        return out

    def most_similar(self, positive=None, negative=None, topn: int | None = 10, restrict_vocab: int | None = None):
        """Nearest neighbours of the weighted mean of the unit vectors of ``positive`` (weight
        +1) and ``negative`` (weight -1), as gensim computes them; input words are excluded
        from the answer. Items may be words, vectors or ``(item, weight)`` pairs."""
        items = self._weighted(self._listify(positive), 1.0) + self._weighted(self._listify(negative), -1.0)
        if not items:
            raise FirthError("most_similar needs at least one word or vector")
        mean = np.zeros(self.vector_size, dtype=np.float32)
        exclude = set()
        for it, weight in items:
            unit, i = self._query(it)
            mean += np.float32(weight) * unit
            if i is not None:
                exclude.add(i)
        mean /= np.float32(sum(abs(w) for _, w in items) or 1.0)
        return self.similar_by_vector(mean, topn=topn, restrict_vocab=restrict_vocab, _exclude=exclude)

    def similar_by_vector(self, vector, topn: int | None = 10, restrict_vocab: int | None = None, _exclude=()):
        scores = self._searched(restrict_vocab) @ self._unit(vector)
        return self._answer(scores, topn, set(_exclude))

    def similar_by_key(self, key: str, topn: int | None = 10, restrict_vocab: int | None = None):
        """Nearest neighbours of one word (the word itself left out)."""
        return self.most_similar(positive=[key], topn=topn, restrict_vocab=restrict_vocab)

    def similar_by_word(self, word: str, topn: int | None = 10, restrict_vocab: int | None = None):
        """gensim's older name for :meth:`similar_by_key`."""
        return self.similar_by_key(word, topn, restrict_vocab)

    def most_similar_cosmul(self, positive=None, negative=None, topn: int | None = 10,
                            restrict_vocab: int | None = None, epsilon: float = EPS_COSMUL):
        """3CosMul (Levy & Goldberg 2014): arg max prod cos'(x, p) / (prod cos'(x, n) + epsilon),
        cosines shifted to [0, 1] by (cos + 1) / 2.

        ``epsilon`` defaults to 1e-3, Levy & Goldberg's value, which ``firth evaluate`` and
        ``kv.analogy(method="mul")`` use too; gensim uses 1e-6 (pass ``epsilon=1e-6`` to get
        gensim's lists). It only matters when a candidate is nearly opposite a negative word.
        """
        positive, negative = self._listify(positive), self._listify(negative)
        if not positive:
            raise FirthError("most_similar_cosmul needs at least one positive word")
        if not epsilon > 0:
            raise FirthError(f"most_similar_cosmul: epsilon must be positive, got {epsilon}")
        normed = self._searched(restrict_vocab)
        pos, neg, exclude = [], [], set()
        for items, acc in ((positive, pos), (negative, neg)):
            for it in items:
                unit, i = self._query(it)
                acc.append((normed @ unit + 1) / 2)
                if i is not None:
                    exclude.add(i)
        scores = np.prod(pos, axis=0)
        if neg:
            scores = scores / (np.prod(neg, axis=0) + np.float32(epsilon))
        return self._answer(scores, topn, exclude)

    def analogy(self, a: str, b: str, c: str, method: str = "add", topn: int = 1, restrict_vocab: int | None = None):
        """``a : b :: c : ?`` (man : king :: woman : queen). method "add" is 3CosAdd
        (b - a + c), "mul" is 3CosMul. The three question words are never answers."""
        if method == "add":
            return self.most_similar(positive=[b, c], negative=[a], topn=topn, restrict_vocab=restrict_vocab)
        if method == "mul":
            return self.most_similar_cosmul(positive=[b, c], negative=[a], topn=topn, restrict_vocab=restrict_vocab)
        raise FirthError(f"analogy method {method!r}: expected 'add' (3CosAdd) or 'mul' (3CosMul)")

    def rank_by_centrality(self, words: Iterable[str], use_norm: bool = True) -> list[tuple[float, str]]:
        """``(cosine to the centroid, word)`` pairs, most central first (gensim's order: ties
        by word, descending). Words without a vector are left out with a warning."""
        words = list(words)
        used = [w for w in words if self.has_vector(w)]
        if len(used) != len(words):
            warnings.warn(f"rank_by_centrality: no vector for {sorted(set(words) - set(used))}; left out", stacklevel=2)
        if not used:
            raise FirthError("rank_by_centrality: none of the words has a vector")
        vecs = np.stack([self.get_vector(w, norm=use_norm) for w in used]).astype(np.float32)
        mean = self.get_mean_vector(vecs, post_normalize=True)
        return sorted(zip((float(x) for x in vecs @ mean), used), reverse=True)

    def doesnt_match(self, words: Iterable[str]) -> str:
        """The word furthest from the centroid of the words' unit vectors."""
        return self.rank_by_centrality(words)[-1][1]

    # ---------------------------------------------------------- mean vectors
    def get_mean_vector(self, keys, weights=None, pre_normalize: bool = True, post_normalize: bool = False,
                        ignore_missing: bool = True) -> np.ndarray:
        """gensim's weighted mean: sum of ``weights[i] * v(keys[i])`` divided by the sum of
        ``|weights|`` over the keys used. Keys are words, row indices or vectors (vectors are
        taken as given); ``pre_normalize`` uses unit word vectors, ``post_normalize`` returns a
        unit vector; a missing word is skipped, or raises when ``ignore_missing=False``."""
        keys = list(keys) if not isinstance(keys, np.ndarray) else list(keys)
        if not keys:
            raise FirthError("get_mean_vector: no keys given")
        w = np.ones(len(keys), dtype=np.float32) if weights is None else np.asarray(weights, dtype=np.float32)
        if w.shape != (len(keys),):
            raise FirthError(f"get_mean_vector: {len(keys)} keys but weights of shape {w.shape}")
        mean = np.zeros(self.vector_size, dtype=np.float32)
        total = 0.0
        for k, wk in zip(keys, w):
            if isinstance(k, np.ndarray):
                vec = np.asarray(k, dtype=np.float32)
                if vec.shape != (self.vector_size,):
                    raise FirthError(f"get_mean_vector: a vector must have {self.vector_size} values, got {vec.shape}")
            elif isinstance(k, (int, np.integer)) and not isinstance(k, bool) and 0 <= k < len(self):
                vec = self.get_normed()[k] if pre_normalize else self.vectors[k]
            elif isinstance(k, str) and self.has_vector(k):
                vec = self.get_vector(k, norm=pre_normalize)
            elif ignore_missing:
                continue
            elif isinstance(k, str):
                raise UnknownWordError(k, self.suggest(k))
            else:
                raise FirthError(f"get_mean_vector: {k!r} is neither a word, a row index below {len(self)} nor a vector")
            mean += wk * vec
            total += abs(float(wk))
        if total > 0:
            mean /= np.float32(total)
        if post_normalize:
            n = np.linalg.norm(mean)
            if n > 0:
                mean /= n
        return mean

    def mean_vector(self, tokens, allow_empty: bool = False) -> np.ndarray:
        """A document as the average of its words' vectors (words without a vector skipped).

        ``tokens`` is a list of tokens or a string (whitespace-split, then normalised).
        With no known word at all, raises FirthError unless ``allow_empty`` (then zeros).
        """
        if isinstance(tokens, str):
            tokens = self.normalizer.tokens(tokens)
        known = [t for t in tokens if self.has_vector(t)]
        if not known:
            if allow_empty:
                return np.zeros(self.vector_size, dtype=np.float32)
            raise FirthError("mean_vector: none of the words has a vector")
        return self.get_mean_vector(known, pre_normalize=False)

    # ------------------------------------------------------- adding vectors
    def add_vector(self, key: str, vector) -> int:
        """Add (or replace) one word's vector; returns its row."""
        self.add_vectors([key], np.asarray(vector).reshape(1, -1), replace=True)
        return self.get_index(key)

    def add_vectors(self, keys, weights, replace: bool = False) -> None:
        """Append new words with their vectors (gensim's ``add_vectors``). A word already
        present keeps its vector unless ``replace``. Keys are stored normalised (as every
        lookup normalises them); new words get count 0. A read-only (memory-mapped) matrix
        is copied first, never written through."""
        if isinstance(keys, str):
            keys = [keys]
            weights = np.asarray(weights).reshape(1, -1)
        keys = [self._checked_key(k) for k in keys]
        m = np.asarray(weights, dtype=np.float32)
        if m.ndim != 2 or m.shape != (len(keys), self.vector_size):
            raise FirthError(f"add_vectors: {len(keys)} words need a ({len(keys)}, {self.vector_size}) matrix, got {m.shape}")
        if not np.isfinite(m).all():
            raise FirthError("add_vectors: the vectors hold NaN or infinity")
        if len(set(keys)) != len(keys):
            raise FirthError(f"add_vectors: word {_first_duplicate(keys)!r} given twice")
        old = [(n, self.key_to_index[k]) for n, k in enumerate(keys) if k in self.key_to_index]
        new = [n for n, k in enumerate(keys) if k not in self.key_to_index]
        if replace and old:
            if not self.vectors.flags.writeable:
                self.vectors = np.array(self.vectors, dtype=np.float32)
            self.vectors[[i for _, i in old]] = m[[n for n, _ in old]]
        if new:
            for n in new:
                self.key_to_index[keys[n]] = len(self.index_to_key)
                self.index_to_key.append(keys[n])
            self.vectors = np.concatenate([np.asarray(self.vectors, dtype=np.float32), m[new]])
            if self.counts is not None:
                self.counts = np.concatenate([self.counts, np.zeros(len(new), dtype=np.int64)])
        self._normed = None  # the cached unit rows are stale now

    def __setitem__(self, keys, weights) -> None:
        """``kv["word"] = vector`` (or lists of both): add or replace."""
        if isinstance(keys, str):
            keys, weights = [keys], np.asarray(weights).reshape(1, -1)
        self.add_vectors(list(keys), weights, replace=True)

    def _checked_key(self, key) -> str:
        if not isinstance(key, str):
            raise FirthError(f"add_vectors: keys are words (str), got {type(key).__name__} {key!r}")
        k = self.normalize(key)
        if not k or any(ch in k for ch in " \t\n\r"):
            raise FirthError(f"add_vectors: {key!r} is not a word (empty, or holds a space, tab or newline)")
        return k

    # ------------------------------------------------------------------ I/O
    NATIVE_CLASS = "KeyedVectors"  # the class name a native archive records (load_vectors builds it)

    def save(self, path, format: str = "native") -> None:
        """Write the vectors atomically: format native | word2vec-text | word2vec-binary | vec."""
        if format == "native":
            extra, arrays = self._native_payload()
            write_native(path, NativeData(self.NATIVE_CLASS, self.index_to_key, self.vectors, self.counts,
                                          self.normalizer, self.meta, extra, arrays))
        elif format in WORD2VEC_FORMATS:
            write_word2vec(path, self.index_to_key, self.vectors, format)
        elif format == "fasttext-bin":
            raise FirthError(
                f"--format fasttext-bin: {type(self).__name__} has no character n-grams; only fastText "
                "vectors (trained with --model fasttext-sg|fasttext-cbow, or read from a .bin) can be written as a Facebook .bin"
            )
        else:
            raise FirthError(f"--format {format!r}: expected one of native, {', '.join(WORD2VEC_FORMATS)}, fasttext-bin")

    # Subclasses (fastText) add arrays and settings to the native format through these.
    def _native_payload(self) -> tuple[dict, dict[str, np.ndarray]]:
        return {}, {}

    @classmethod
    def _from_native(cls, words, vectors, counts, normalizer, meta, extra: dict, arrays: dict):
        return cls(words, vectors, counts, normalizer, meta)


def _first_duplicate(words):
    seen = set()
    for w in words:
        if w in seen:
            return w
        seen.add(w)
    return None
