"""FastTextVectors: word vectors composed from a word row and its character n-gram rows.

A fastText model has two input matrices: one row per vocabulary word (``vectors_vocab``)
and ``bucket`` rows shared by hashed character n-grams (``vectors_ngrams``; see
:mod:`firth.vectors.subwords`). A word's vector is

    v(w) = (x_w + sum_{g in G(w)} z_g) / (1 + |G(w)|)          (w in the vocabulary)
    v(w) = (sum_{g in G(w)} z_g) / |G(w)|                      (unseen word)

where ``G(w)`` is the *list* of its n-gram buckets (with repeats). **firth averages, as
Facebook's code does** (``FastText::getWordVector`` and the hidden layer in training divide
by the number of rows), whereas Bojanowski et al. (2017) write the vector as the plain *sum*
``x_w + sum z_g``. The two differ only by a per-word scale, which cosine similarity ignores,
but averaging is what makes vectors read from Facebook's ``.bin`` identical to theirs
(``get_word_vector``) and is what firth's trainer optimises.

Every word has a vector: vocabulary words use the composed rows in ``vectors`` (computed
once, so ``most_similar`` is one matrix product as for plain KeyedVectors); an unseen word
is composed from its n-grams on the fly. A word with no n-gram of length ``minn..maxn``
that is not in the vocabulary (e.g. ``"ab"`` with minn=5) gets Facebook's answer, a zero
vector; :meth:`FastTextVectors.word_info` flags it (``zero_vector: True``), and similarity
queries on it raise a FirthError instead of returning meaningless cosines.

``"w" in kv`` keeps meaning "w is in the vocabulary" (as for every KeyedVectors, so index
based code stays right); :meth:`has_vector` says whether a vector can be composed.
"""

from __future__ import annotations

import numpy as np

from firth.errors import FirthError
from firth.vectors.formats.fasttext_bin import write_fasttext_bin
from firth.vectors.keyed import KeyedVectors
from firth.vectors.subwords import ngram_hashes, ngrams, subword_table


class NgramRows:
    """A ``bucket x dim`` n-gram matrix that stores only the rows some word uses.

    ``rows[j]`` is the row of bucket ``buckets[j]`` (``buckets`` sorted and distinct); every
    other bucket's row is **zero**. firth's fastText trainer trains only the buckets that the
    vocabulary's n-grams hash to (no other row is ever read or written in training), so it
    keeps only those: on 5M words of en-mix 157,385 of the 2M rows (8%). An unseen word's
    n-gram that no vocabulary word shares then adds zero to its vector (and counts in the
    mean, as any row): fastText and gensim leave such rows at their initial values, random
    noise (or zero, in fastText, past the first threads/10 of its matrix; docs/fasttext.md).

    It reads like the dense matrix where FastTextVectors and the writers need it: ``shape``,
    ``dtype``, ``m[h]`` (one bucket's row), ``m[s:e]`` (a dense block), ``m[ids]`` (the rows
    of an int array of bucket ids), :meth:`blocks` (the dense matrix block by block: the
    ``.bin`` and native writers), and ``np.asarray(m)`` (the whole dense matrix; avoid for
    2M buckets).
    """

    def __init__(self, rows: np.ndarray, buckets: np.ndarray, bucket: int):
        rows = np.asarray(rows)
        buckets = np.asarray(buckets)
        if rows.ndim != 2 or buckets.ndim != 1 or rows.shape[0] != buckets.shape[0]:
            raise FirthError(f"n-gram rows {rows.shape} do not match {buckets.shape} bucket ids")
        if len(buckets) and (buckets[0] < 0 or buckets[-1] >= bucket or not (np.diff(buckets) > 0).all()):
            raise FirthError(f"n-gram bucket ids must be distinct, sorted and in 0..{bucket - 1}")
        self.rows = rows
        self.buckets = buckets
        self.bucket = int(bucket)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.bucket, int(self.rows.shape[1]))

    @property
    def dtype(self):
        return self.rows.dtype

    ndim = 2

    def __len__(self) -> int:
        return self.bucket

    def __repr__(self) -> str:
        return f"<NgramRows: {len(self.buckets):,} of {self.bucket:,} buckets x {self.rows.shape[1]} stored>"

    def positions(self, ids) -> tuple[np.ndarray, np.ndarray]:
        """(position in ``rows``, found) of each bucket id (position meaningless where not found)."""
        ids = np.asarray(ids, dtype=np.int64)
        pos = np.searchsorted(self.buckets, ids)
        pos = np.minimum(pos, max(len(self.buckets) - 1, 0))
        found = (self.buckets[pos] == ids) if len(self.buckets) else np.zeros(ids.shape, bool)
        return pos, found

    def _take(self, ids: np.ndarray) -> np.ndarray:
        pos, found = self.positions(ids)
        out = np.zeros((*ids.shape, self.rows.shape[1]), dtype=self.rows.dtype)
        out[found] = self.rows[pos[found]]
        return out

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            h = int(key) + (self.bucket if key < 0 else 0)
            if not 0 <= h < self.bucket:
                raise IndexError(f"bucket {key} out of range 0..{self.bucket - 1}")
            return self._take(np.array([h]))[0]
        if isinstance(key, slice):
            s, e, step = key.indices(self.bucket)
            if step != 1:
                return self._take(np.arange(s, e, step))
            e = max(e, s)
            j0, j1 = np.searchsorted(self.buckets, [s, e])
            out = np.zeros((e - s, self.rows.shape[1]), dtype=self.rows.dtype)
            out[self.buckets[j0:j1] - s] = self.rows[j0:j1]
            return out
        ids = np.asarray(key)
        if ids.dtype.kind not in "iu":
            raise IndexError("NgramRows: index with a bucket id, a slice or an int array of bucket ids")
        if ids.size and (ids.min() < 0 or ids.max() >= self.bucket):
            raise IndexError(f"bucket ids out of range 0..{self.bucket - 1}")
        return self._take(ids)

    def blocks(self, step: int = 65536):
        """The dense matrix, ``step`` rows at a time (each a new float array)."""
        for s in range(0, self.bucket, step):
            yield self[s : s + step]

    def __array__(self, dtype=None, copy=None):
        out = self[0 : self.bucket]
        return out if dtype is None else out.astype(dtype, copy=False)


def compose_vocab_vectors(words, vectors_vocab, vectors_ngrams, minn, maxn) -> np.ndarray:
    """Composed vectors of every vocabulary word (Numba kernel over the CSR subword table).
    ``vectors_ngrams`` dense or :class:`NgramRows` (then no dense matrix is made)."""
    from firth.vectors.kernels import compose_rows

    bucket = int(vectors_ngrams.shape[0])
    offsets, ids = subword_table(words, minn, maxn, bucket, include_word=False, base=0)
    if isinstance(vectors_ngrams, NgramRows):
        pos, found = vectors_ngrams.positions(ids)
        rows = vectors_ngrams.rows
        if not found.all():  # a word whose n-gram has no stored row: point it at a zero row
            rows = np.concatenate([rows, np.zeros((1, rows.shape[1]), rows.dtype)])
            pos[~found] = len(rows) - 1
        ngrams_matrix, ids = rows, pos.astype(np.int32)
    else:
        ngrams_matrix = vectors_ngrams
    out = np.empty((len(words), vectors_vocab.shape[1]), dtype=np.float32)
    compose_rows(
        np.ascontiguousarray(vectors_vocab, dtype=np.float32),
        np.ascontiguousarray(ngrams_matrix, dtype=np.float32),
        offsets, ids, out,
    )
    return out


class FastTextVectors(KeyedVectors):
    """KeyedVectors whose words (seen or not) get vectors from character n-grams."""

    NATIVE_CLASS = "FastTextVectors"

    def __init__(
        self,
        words,
        vectors_vocab: np.ndarray,
        vectors_ngrams: np.ndarray,
        minn: int = 3,
        maxn: int = 6,
        counts=None,
        normalizer=None,
        meta=None,
        vectors: np.ndarray | None = None,
        output: np.ndarray | None = None,
    ):
        vectors_vocab = np.asarray(vectors_vocab)
        if not isinstance(vectors_ngrams, NgramRows):
            vectors_ngrams = np.asarray(vectors_ngrams)
        if vectors_vocab.ndim != 2 or vectors_ngrams.ndim != 2 or vectors_vocab.shape[1] != vectors_ngrams.shape[1]:
            raise FirthError(
                f"fastText matrices disagree: word rows {vectors_vocab.shape}, n-gram rows {vectors_ngrams.shape}"
            )
        if len(words) != vectors_vocab.shape[0]:
            raise FirthError(f"{len(words)} words but {vectors_vocab.shape[0]} word rows")
        if not (0 <= minn <= maxn or maxn == 0):
            raise FirthError(f"minn {minn} / maxn {maxn}: need 0 < minn <= maxn (or maxn = 0: no n-grams)")
        if vectors is None:
            vectors = compose_vocab_vectors(list(words), vectors_vocab, vectors_ngrams, minn, maxn)
        super().__init__(words, vectors, counts, normalizer, meta)
        self.vectors_vocab = vectors_vocab
        self.vectors_ngrams = vectors_ngrams
        self.minn = int(minn)
        self.maxn = int(maxn)
        self.output = output  # the output (context) matrix, when known: .bin export, more training

    @property
    def bucket(self) -> int:
        return int(self.vectors_ngrams.shape[0])

    def __repr__(self) -> str:
        return (
            f"<FastTextVectors: {len(self)} words x {self.vector_size} dims, "
            f"n-grams {self.minn}..{self.maxn} in {self.bucket} buckets>"
        )

    # ------------------------------------------------------------- subwords
    def ngrams(self, word: str) -> list[str]:
        """The character n-grams of the (normalised) word, Facebook's order, with repeats."""
        return ngrams(self.normalize(word), self.minn, self.maxn) if self.bucket else []

    def ngram_ids(self, word: str) -> list[int]:
        """Bucket ids (rows of ``vectors_ngrams``) of the word's n-grams."""
        return ngram_hashes(self.normalize(word), self.minn, self.maxn, self.bucket) if self.bucket else []

    def has_vector(self, word: str) -> bool:
        """True for a vocabulary word or a word with at least one n-gram."""
        return word in self or bool(self.ngram_ids(word))

    def word_info(self, word: str) -> dict:
        """How the word's vector is made: in_vocab, n_ngrams, zero_vector (no rows at all)."""
        ids = self.ngram_ids(word)
        inv = word in self
        return {
            "word": self.normalize(word),
            "in_vocab": inv,
            "n_ngrams": len(ids),
            "n_rows": len(ids) + int(inv),
            "zero_vector": not inv and not ids,
        }

    def compose(self, word: str) -> np.ndarray:
        """The word's vector computed from its rows (what Facebook's getWordVector does)."""
        key = self.normalize(word)
        ids = self.ngram_ids(key)
        acc = np.zeros(self.vector_size, dtype=np.float32)
        n = len(ids)
        i = self.key_to_index.get(key)
        if i is not None:
            acc += self.vectors_vocab[i]
            n += 1
        if ids:
            for row in self.vectors_ngrams[np.asarray(ids, dtype=np.int64)]:  # one gather, summed in order
                acc += row
        if n:
            acc *= np.float32(1.0 / n)
        return acc

    def get_vector(self, word: str, norm: bool = False) -> np.ndarray:
        """A vector for any word: the stored row of a vocabulary word, else composed from its
        n-grams; zeros for an unseen word without n-grams (see :meth:`word_info`)."""
        i = self.key_to_index.get(self.normalize(word))
        if i is not None:
            return self.get_normed()[i] if norm else self.vectors[i]
        v = self.compose(word)
        if norm:
            n = np.linalg.norm(v)
            if n > 0:
                v = v / n
        return v

    def _query(self, item):
        """The lookup hook: an unseen word is composed from its n-grams (and excludes no
        row); a word with neither a row nor an n-gram has no direction at all."""
        if isinstance(item, str) and item not in self:
            if not self.ngram_ids(item):
                raise FirthError(
                    f"word {item!r} is not in the vocabulary and has no character n-gram of length "
                    f"{self.minn}..{self.maxn}: its fastText vector is zero, so it has no neighbours"
                )
            return self.get_vector(item, norm=True), None
        return super()._query(item)

    def get_sentence_vector(self, text: str) -> np.ndarray:
        """Facebook fastText's sentence vector (``FastText::getSentenceVector`` of an
        unsupervised model): the text is split on whitespace, each word's vector divided by
        its L2 norm, and the unit vectors averaged; words whose vector is zero are left out
        of the count. No end-of-sentence token is added (fastText reads words with
        ``operator>>``, which skips the newline). Zeros when no word has a vector."""
        if not isinstance(text, str):
            raise FirthError("get_sentence_vector: give the sentence as one string (fastText splits it itself)")
        if "\n" in text:
            raise FirthError("get_sentence_vector: one line at a time (the text holds a newline), as fastText")
        acc = np.zeros(self.vector_size, dtype=np.float32)
        count = 0
        for word in text.split():
            v = self.get_vector(word)
            n = np.linalg.norm(v)
            if n > 0:
                acc += v * np.float32(1.0 / n)
                count += 1
        if count:
            acc *= np.float32(1.0 / count)
        return acc

    def add_vectors(self, keys, weights, replace: bool = False) -> None:
        raise FirthError("add_vectors: a fastText word's vector is composed from its word row and n-gram rows; "
                         "adding plain vectors would break that. Convert to word vectors first "
                         "(KeyedVectors(kv.index_to_key, kv.vectors)) and add to those")

    def limit(self, n: int) -> "FastTextVectors":
        """The ``n`` most frequent words (n-gram rows kept: unseen words still work)."""
        n = min(int(n), len(self))
        return FastTextVectors(
            self.index_to_key[:n], self.vectors_vocab[:n], self.vectors_ngrams, self.minn, self.maxn,
            None if self.counts is None else self.counts[:n], self.normalizer, self.meta,
            vectors=self.vectors[:n], output=None if self.output is None else self.output[:n],
        )

    # ------------------------------------------------------------------ I/O
    def _native_payload(self):
        extra = {"minn": self.minn, "maxn": self.maxn, "bucket": self.bucket}
        ngr = self.vectors_ngrams  # compact rows are written densely, block by block (unused buckets zero)
        arrays = {"vectors_vocab": np.asarray(self.vectors_vocab, dtype=np.float32),
                  "vectors_ngrams": ngr if isinstance(ngr, NgramRows) else np.asarray(ngr, dtype=np.float32)}
        if self.output is not None:
            arrays["output"] = np.asarray(self.output, dtype=np.float32)
        return extra, arrays

    @classmethod
    def _from_native(cls, words, vectors, counts, normalizer, meta, extra, arrays):
        n = len(words)
        for name in ("vectors_vocab", "vectors_ngrams"):
            if name not in arrays:
                raise FirthError(f"fastText archive has no {name}.npy; the file is corrupt")
        ngr = arrays["vectors_ngrams"]
        settings = {k: extra.get(k, d) for k, d in (("bucket", ngr.shape[0]), ("minn", 3), ("maxn", 6))}
        for k, v in settings.items():
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= (1 << 31 if k == "bucket" else 1000):
                raise FirthError(f"fastText archive: {k} {v!r} is not a sensible number; the file is corrupt")
        if settings["bucket"] != ngr.shape[0]:
            raise FirthError(f"fastText archive: bucket {extra.get('bucket')} but {ngr.shape[0]} n-gram rows")
        vocab, out = arrays["vectors_vocab"], arrays.get("output")
        if vocab.shape[0] < n or (out is not None and out.shape[0] < n):
            raise FirthError(f"fastText archive: {n} words but {vocab.shape[0]} word rows; the file is corrupt")
        return cls(
            words, vocab[:n], ngr, settings["minn"], settings["maxn"],
            counts, normalizer, meta, vectors=vectors, output=None if out is None else out[:n],
        )

    def save(self, path, format: str = "native") -> None:
        """As :meth:`KeyedVectors.save`, plus ``format="fasttext-bin"`` (:meth:`save_facebook`)."""
        if format == "fasttext-bin":
            self.save_facebook(path)
        else:
            super().save(path, format=format)

    def save_facebook(self, path) -> None:
        """Write a Facebook fastText ``.bin`` (``fasttext.load_model`` reads it), atomically.

        The header's training settings come from ``meta["fasttext_args"]`` (a .bin read by
        firth, or a firth fastText trainer); without an output matrix it is written as zeros.
        """
        args = self.meta.get("fasttext_args")
        ntokens = self.meta.get("ntokens")
        write_fasttext_bin(path, self.index_to_key, self.counts, self.vectors_vocab, self.vectors_ngrams,
                           self.minn, self.maxn, output=self.output, args=args if isinstance(args, dict) else None,
                           ntokens=ntokens if isinstance(ntokens, int) else None)
