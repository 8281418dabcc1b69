"""gensim's KeyedVectors calls that hand the work to other modules: Word Mover's Distance
(:mod:`firth.vectors.wmd`), the benchmark evaluations (:mod:`firth.evaluate`'s similarity and
analogy code, which imports no vectors module), and word2vec files with a vocabulary-count
file. A mixin of :class:`~firth.vectors.keyed.KeyedVectors`, kept apart so that keyed.py holds
the vectors and their similarity queries only.
"""

from __future__ import annotations

import warnings

import numpy as np

from firth.errors import FirthError


class GensimCompat:
    """Methods with gensim's signatures and return values (see docs/coming-from-gensim.md)."""

    def wmdistance(self, document1, document2, norm: bool = True) -> float:
        """Word Mover's Distance (Kusner et al. 2015) between two token lists: the least total
        Euclidean distance needed to move one document's normalised bag of words onto the
        other's (gensim's definition; needs POT: ``pip install 'firth[wmd]'``).

        Tokens without a vector are dropped; if a document has none left the distance is
        ``inf`` (with a warning), as in gensim. ``norm`` uses unit word vectors.
        """
        from firth.vectors.wmd import word_movers_distance

        docs = []
        for doc in (document1, document2):
            if isinstance(doc, str):
                raise FirthError("wmdistance: give each document as a list of tokens, not a string")
            kept = [self.normalize(t) for t in doc if self.has_vector(t)]
            docs.append(kept)
        if not docs[0] or not docs[1]:
            warnings.warn("wmdistance: a document has no word with a vector; the distance is inf", stacklevel=2)
            return float("inf")
        words = sorted(set(docs[0]) | set(docs[1]))
        vecs = np.stack([self.get_vector(w, norm=norm) for w in words]).astype(np.float64)
        pos = {w: i for i, w in enumerate(words)}
        bags = []
        for doc in docs:
            bag = np.zeros(len(words))
            np.add.at(bag, [pos[w] for w in doc], 1.0)
            bags.append(bag / len(doc))
        return word_movers_distance(vecs, bags[0], bags[1])

    def evaluate_word_pairs(self, pairs, delimiter: str = "\t", encoding: str = "utf8", restrict_vocab: int = 300000,
                            case_insensitive: bool = True, dummy4unknown: bool = False):
        """gensim's ``evaluate_word_pairs``: ``((pearson, p), (spearman, p), oov_ratio)``, the
        ratio in percent, computed by :func:`firth.evaluate.similarity.evaluate_pairs`.

        The p-values (two-sided, as scipy's) need SciPy; without it they are NaN. Lines
        that are not ``word<TAB>word<TAB>score`` raise a FirthError naming the line (gensim
        skips them). ``firth evaluate`` reports the same correlations with more detail.
        """
        from firth.evaluate.datasets import read_pairs
        from firth.evaluate.similarity import evaluate_pairs

        _gensim_text_options(delimiter, encoding)
        res = evaluate_pairs(self, read_pairs(pairs), oov="zero" if dummy4unknown else "skip",
                             case_insensitive=case_insensitive, restrict=restrict_vocab)
        n = res["scored"]
        ratio = 100.0 * res["oov"] / res["pairs"] if res["pairs"] else 0.0
        return ((res["pearson"], _p_value("pearson", res["pearson"], n)),
                (res["spearman"], _p_value("spearman", res["spearman"], n)), ratio)

    def evaluate_word_analogies(self, analogies, restrict_vocab: int = 300000, case_insensitive: bool = True,
                                dummy4unknown: bool = False, similarity_function: str = "most_similar"):
        """gensim's ``evaluate_word_analogies``: ``(score, sections)``, each section a dict
        ``{"section", "correct", "incorrect"}`` of question 4-tuples (upper-cased when
        ``case_insensitive``, as gensim gives them), the last one "Total accuracy".

        Solved by :func:`firth.evaluate.analogy.evaluate_analogies` (the same policy as
        gensim: questions with a word outside the ``restrict_vocab`` most frequent are skipped,
        or counted wrong with ``dummy4unknown``). ``similarity_function="most_similar_cosmul"``
        is 3CosMul with firth's epsilon 1e-3 (see :meth:`most_similar_cosmul`).
        """
        from firth.evaluate.analogy import evaluate_analogies
        from firth.evaluate.datasets import read_analogies
        from firth.evaluate.lookup import Lookup

        methods = {"most_similar": "add", "most_similar_cosmul": "mul"}
        if similarity_function not in methods:
            raise FirthError(f"similarity_function {similarity_function!r}: expected one of {', '.join(methods)}")
        method = methods[similarity_function]
        sections = read_analogies(analogies)
        res = evaluate_analogies(self, sections, methods=(method,), restrict=restrict_vocab,
                                 case_insensitive=case_insensitive)
        look = Lookup.get(self, case_insensitive, restrict_vocab)
        pred = iter(res["predictions"][method].tolist())
        out = []
        for sec in sections:
            d = {"section": sec.name, "correct": [], "incorrect": []}
            for q in sec.questions:
                shown = tuple(w.upper() for w in q) if case_insensitive else tuple(q)
                idx = [look.index(w) for w in q]
                if any(i is None for i in idx):  # not answered: the same test as evaluate_analogies'
                    if dummy4unknown:
                        d["incorrect"].append(shown)
                    continue
                d["correct" if look.fold(next(pred)) == look.fold(idx[3]) else "incorrect"].append(shown)
            out.append(d)
        total = {"section": "Total accuracy",
                 "correct": [q for d in out for q in d["correct"]],
                 "incorrect": [q for d in out for q in d["incorrect"]]}
        out.append(total)
        n = len(total["correct"]) + len(total["incorrect"])
        return (len(total["correct"]) / n if n else 0.0), out

    def save_word2vec_format(self, fname, fvocab=None, binary: bool = False, total_vec=None,
                             write_header: bool = True, prefix: str = "", append: bool = False,
                             sort_attr: str = "count") -> None:
        """gensim's ``save_word2vec_format``: word2vec C text or binary (``binary=True``),
        written atomically; ``fvocab`` also writes ``word count`` lines. The text
        normalisation is not kept by this format (see :meth:`save`, native format).
        Options firth does not implement (headerless, appending, a prefix, a partial count)
        raise instead of being ignored."""
        if total_vec is not None or not write_header or prefix or append or sort_attr != "count":
            raise FirthError("save_word2vec_format: total_vec, write_header=False, prefix, append and sort_attr "
                             "are not supported; firth writes the whole vocabulary, most frequent first")
        self.save(fname, format="word2vec-binary" if binary else "word2vec-text")
        if fvocab is not None:
            from firth.io import atomic_write

            counts = self.counts if self.counts is not None else np.zeros(len(self), dtype=np.int64)
            with atomic_write(fvocab, "w") as f:
                f.write("".join(f"{w} {int(c)}\n" for w, c in zip(self.index_to_key, counts)))

    @classmethod
    def load_word2vec_format(cls, fname, fvocab=None, binary: bool = False, encoding: str = "utf8",
                             unicode_errors: str = "strict", limit: int | None = None, datatype=np.float32,
                             no_header: bool = False) -> "KeyedVectors":
        """gensim's ``load_word2vec_format`` (a headerless text file is detected by itself);
        ``fvocab`` reads ``word count`` lines written by word2vec's ``-save-vocab``.
        firth keeps float32 vectors: another ``datatype`` raises."""
        from firth.vectors.formats.word2vec import read_word2vec

        _gensim_text_options("\t", encoding)
        if np.dtype(datatype) != np.float32:
            raise FirthError(f"datatype {np.dtype(datatype)}: firth keeps float32 vectors; cast kv.vectors yourself")
        if binary and no_header:
            raise FirthError("no_header: a word2vec binary file always has a header")
        words, vectors = read_word2vec(fname, "word2vec-binary" if binary else "word2vec-text", limit, unicode_errors)
        counts = _read_fvocab(fvocab, words) if fvocab is not None else None
        return cls(words, vectors, counts)


def _read_fvocab(path, words) -> np.ndarray:
    """Counts from a ``word count`` file, in the order of ``words`` (missing words: 0)."""
    from firth.io import open_binary

    found: dict[str, int] = {}
    with open_binary(path) as f:
        for no, raw in enumerate(f, 1):
            parts = raw.decode("utf-8", errors="replace").split()
            if not parts:
                continue
            if len(parts) != 2 or not parts[1].isdigit():
                raise FirthError(f"{path}: line {no}: expected 'word count', got {raw[:80]!r}")
            found[parts[0]] = int(parts[1])
    return np.array([found.get(w, 0) for w in words], dtype=np.int64)


def _gensim_text_options(delimiter, encoding) -> None:
    if delimiter not in ("\t", " ", None):
        raise FirthError(f"delimiter {delimiter!r}: firth's readers take tab- or space-separated files")
    if str(encoding).lower().replace("-", "").replace("_", "") != "utf8":
        raise FirthError(f"encoding {encoding!r}: firth reads UTF-8; convert the file (iconv -t UTF-8)")


def _p_value(kind: str, r: float, n: int) -> float:
    """Two-sided p-value of a correlation over n pairs, as scipy.stats.pearsonr/spearmanr
    compute it; NaN without SciPy (an optional dependency)."""
    try:
        from scipy import stats
    except ImportError:
        return float("nan")
    if not np.isfinite(r) or n < 3:
        return float("nan")
    if kind == "pearson":  # the exact null distribution of r for normal data
        dist = stats.beta(n / 2 - 1, n / 2 - 1, loc=-1, scale=2)
        return float(2 * dist.cdf(-abs(r)))
    with np.errstate(divide="ignore"):
        t = r * np.sqrt((n - 2) / ((r + 1.0) * (1.0 - r)))
    return float(2 * stats.t.sf(abs(t), n - 2))
