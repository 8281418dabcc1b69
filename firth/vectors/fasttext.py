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


def compose_vocab_vectors(words, vectors_vocab, vectors_ngrams, minn, maxn) -> np.ndarray:
    """Composed vectors of every vocabulary word (Numba kernel over the CSR subword table)."""
    from firth.vectors.kernels import compose_rows

    bucket = int(vectors_ngrams.shape[0])
    offsets, ids = subword_table(words, minn, maxn, bucket, include_word=False, base=0)
    out = np.empty((len(words), vectors_vocab.shape[1]), dtype=np.float32)
    compose_rows(
        np.ascontiguousarray(vectors_vocab, dtype=np.float32),
        np.ascontiguousarray(vectors_ngrams, dtype=np.float32),
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
        for h in ids:
            acc += self.vectors_ngrams[h]
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
        arrays = {"vectors_vocab": np.asarray(self.vectors_vocab, dtype=np.float32),
                  "vectors_ngrams": np.asarray(self.vectors_ngrams, dtype=np.float32)}
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
