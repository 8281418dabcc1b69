"""What the explore page does, as a Python API (the JSON API of ``app.py`` mirrors it).

    from firth.explore.session import Explorer
    ex = Explorer.open(["vectors.firth", "other.vec"])    # memory-mapped, nothing computed yet
    ex.start()                                            # background: search index, completion
    ex.neighbours("king", topn=10)                        # every model's list, and their overlap
    ex.analogy("man", "king", "woman", method="add")      # 3CosAdd / 3CosMul, top 10
    ex.map(mode="neighbours", word="king", method="pca")  # 2-D points
    ex.weat("weat1"); ex.axis([("he", "she")], ["nurse", "engineer"]); ex.pair("hot", "cold")
    ex.report()                                           # firth evaluate: similarity, analogies

Every answer is a JSON-ready dict. Sizes are bounded by :class:`Limits`; nothing here ever
normalises a whole large matrix (benchmark words are looked up in a small subset that gives
the same numbers as ``firth evaluate``, see :func:`_subset`).
"""

from __future__ import annotations

import bisect
import math
import os
import threading
from dataclasses import dataclass

import numpy as np

from firth.errors import FirthError, UnknownWordError
from firth.explore.search import NeighbourIndex


@dataclass(frozen=True)
class Limits:
    word_chars: int = 100  # longest word accepted
    topn: int = 100  # most neighbours / analogy answers
    complete: int = 20  # most completions
    map_points: int = 1000  # most points on a map (t-SNE: project.TSNE_MAX_POINTS)
    map_neighbours: int = 200
    axis_pairs: int = 20
    axis_words: int = 200
    body_bytes: int = 64 * 1024  # largest JSON request


LIMITS = Limits()
EPS_COSMUL = 1e-3  # Levy & Goldberg (2014), as KeyedVectors.most_similar_cosmul


def _clean(x):
    """JSON-safe: NaN/inf -> None, NumPy scalars -> Python."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, np.ndarray):
        return _clean(x.tolist())
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def check_word(word, what: str = "word") -> str:
    if not isinstance(word, str) or not word.strip():
        raise FirthError(f"{what}: empty; type a word")
    word = word.strip()
    if len(word) > LIMITS.word_chars:
        raise FirthError(f"{what}: {len(word)} characters; at most {LIMITS.word_chars}")
    return word


def check_int(value, what: str, lo: int, hi: int) -> int:
    try:
        v = int(value)
    except (TypeError, ValueError):
        raise FirthError(f"{what}: {str(value)[:20]!r} is not a whole number") from None
    if not lo <= v <= hi:
        raise FirthError(f"{what}: {v}; must be between {lo} and {hi}")
    return v


class Model:
    """One vectors file: its KeyedVectors, a neighbour index and a completion index."""

    def __init__(self, kv, name: str):
        self.kv = kv
        self.name = name
        self.index = NeighbourIndex(kv.vectors)
        self.fasttext = hasattr(kv, "ngram_ids")
        self._sorted_keys: list[str] | None = None
        self._sorted_idx: np.ndarray | None = None
        self._lock = threading.Lock()
        self._cache: dict = {}

    @classmethod
    def open(cls, path, name: str | None = None) -> "Model":
        from firth.vectors import load_vectors

        return cls(load_vectors(path), name or os.path.basename(str(path)))

    def info(self) -> dict:
        return {"name": self.name, "words": len(self.kv), "dim": self.kv.vector_size,
                "fasttext": self.fasttext, "index_ready": self.index.ready.is_set(),
                "completion_ready": self._sorted_keys is not None}

    # ------------------------------------------------------- background work
    def build(self) -> None:
        """The completion index, then the int8 screen of the neighbour search."""
        words = self.kv.index_to_key
        order = sorted(range(len(words)), key=words.__getitem__)
        self._sorted_idx = np.asarray(order, dtype=np.int64)
        self._sorted_keys = [words[i] for i in order]
        self.index.build()

    def complete(self, prefix: str, limit: int = 10) -> list[str]:
        """Vocabulary words starting with ``prefix`` (after normalisation), most frequent first."""
        prefix = self.kv.normalize(check_word(prefix, "prefix"))
        limit = check_int(limit, "limit", 1, LIMITS.complete)
        if self._sorted_keys is None:  # index not built yet: the 200,000 most frequent words
            out = []
            for w in self.kv.index_to_key[:200_000]:
                if w.startswith(prefix):
                    out.append(w)
                    if len(out) == limit:
                        break
            return out
        lo = bisect.bisect_left(self._sorted_keys, prefix)
        hi = bisect.bisect_left(self._sorted_keys, prefix + "\U0010ffff")
        idx = self._sorted_idx[lo:hi]
        if len(idx) > limit:
            idx = np.partition(idx, limit - 1)[:limit]
        return [self.kv.index_to_key[i] for i in np.sort(idx)]

    # ------------------------------------------------------------- vectors
    def lookup(self, word: str) -> int | None:
        return self.kv.key_to_index.get(self.kv.normalize(word))

    def unit(self, word: str) -> tuple[np.ndarray, int | None]:
        """The unit vector of a word (fastText: also unseen words) and its row, if any."""
        word = check_word(word)
        i = self.lookup(word)
        if i is not None:
            return self.index.exact_rows(np.array([i]))[0], i
        if not self.fasttext:
            raise UnknownWordError(word, self.kv.suggest(word))
        v = np.asarray(self.kv.get_vector(word), dtype=np.float32)  # composed from n-grams
        n = float(np.linalg.norm(v))
        if n == 0:
            raise FirthError(f"word {word!r}: not in the vocabulary and no character n-gram has a vector")
        return v / np.float32(n), None

    def _hits(self, idx, scores) -> list[list]:
        return [[self.kv.index_to_key[i], float(s)] for i, s in zip(idx.tolist(), scores.tolist())]

    def neighbours(self, word: str, topn: int = 10) -> dict:
        topn = check_int(topn, "topn", 1, LIMITS.topn)
        q, i = self.unit(word)
        idx, scores = self.index.search(q, topn, exclude=[] if i is None else [i])
        return {"model": self.name, "word": word, "in_vocab": i is not None, "neighbours": self._hits(idx, scores)}

    def analogy(self, a: str, b: str, c: str, method: str = "add", topn: int = 10) -> dict:
        """a : b :: c : ? as KeyedVectors.analogy (question words never answers)."""
        if method not in ("add", "mul"):
            raise FirthError(f"method {method!r}: expected 'add' (3CosAdd) or 'mul' (3CosMul)")
        topn = check_int(topn, "topn", 1, LIMITS.topn)
        (ua, ia), (ub, ib), (uc, ic) = self.unit(a), self.unit(b), self.unit(c)
        exclude = [i for i in (ia, ib, ic) if i is not None]
        if method == "add":
            mean = ub + uc - ua
            n = np.linalg.norm(mean)
            idx, scores = self.index.search(mean / n if n > 0 else mean, topn, exclude)
        else:
            idx, scores = self.index.search_fn([ub, uc, ua], _cosmul, topn, exclude, bounds=_cosmul_bounds)
        return {"model": self.name, "question": [a, b, c], "method": method, "answers": self._hits(idx, scores)}

    def rows(self, words) -> tuple[list[str], np.ndarray, list[str]]:
        """(found words, their unit rows, missing words); fastText composes unseen words."""
        found, vecs, missing = [], [], []
        for w in words:
            try:
                v, _ = self.unit(w)
            except FirthError:
                missing.append(w)
                continue
            found.append(w)
            vecs.append(v)
        arr = np.stack(vecs) if vecs else np.empty((0, self.kv.vector_size), dtype=np.float32)
        return found, arr, missing

    def cached(self, key, fn):
        with self._lock:
            if key not in self._cache:
                self._cache[key] = fn()
            return self._cache[key]


def _cosmul(cos):
    # columns: b, c, a; 3CosMul with cosines shifted to [0, 1]
    return ((cos[:, 0] + 1) / 2) * ((cos[:, 1] + 1) / 2) / ((cos[:, 2] + 1) / 2 + np.float32(EPS_COSMUL))


def _cosmul_bounds(lo, hi, combine):
    # increasing in cos(b) and cos(c), decreasing in cos(a)
    upper = np.stack([hi[:, 0], hi[:, 1], lo[:, 2]], axis=1)
    lower = np.stack([lo[:, 0], lo[:, 1], hi[:, 2]], axis=1)
    return combine(lower), combine(upper)


def _subset(kv, words, case_insensitive: bool = True):
    """A small KeyedVectors with the rows ``firth evaluate`` would use for ``words`` (the
    same lookup policy, rows in vocabulary order), so benchmark code gives the same numbers
    as on the whole matrix without normalising all of it."""
    from firth.evaluate.lookup import Lookup
    from firth.vectors import KeyedVectors

    look = Lookup.get(kv, case_insensitive)
    idx = sorted({i for w in words if (i := look.index(w)) is not None})
    rows = np.asarray(kv.vectors[idx], dtype=np.float32).reshape(len(idx), kv.vector_size)
    return KeyedVectors([kv.index_to_key[i] for i in idx], rows, normalizer=kv.normalizer)


class Explorer:
    """One or two models and every operation of the page."""

    def __init__(self, models: list[Model]):
        if not 1 <= len(models) <= 2:
            raise FirthError(f"explore: {len(models)} vectors files; give one or two")
        self.models = models
        self._threads: list[threading.Thread] = []

    @classmethod
    def open(cls, paths) -> "Explorer":
        names = [os.path.basename(str(p)) for p in paths]
        if len(names) == 2 and names[0] == names[1]:
            names = [str(p) for p in paths]
        return cls([Model.open(p, n) for p, n in zip(paths, names)])

    def start(self) -> None:
        """Build the indexes in background threads (queries are exact meanwhile, only slower)."""
        for m in self.models:
            t = threading.Thread(target=m.build, name=f"explore-index-{m.name}", daemon=True)
            t.start()
            self._threads.append(t)

    def wait(self, timeout: float | None = None) -> None:
        for t in self._threads:
            t.join(timeout)

    def model(self, i=0) -> Model:
        i = check_int(i, "model", 0, len(self.models) - 1)
        return self.models[i]

    def info(self) -> dict:
        from firth.evaluate.datasets import WEAT_FILE, read_weat
        from firth.explore.project import available_methods

        return {"models": [m.info() for m in self.models], "map_methods": available_methods(),
                "weat_tests": [{"id": t.id, "name": t.name} for t in read_weat(WEAT_FILE)],
                "limits": LIMITS.__dict__}

    # ------------------------------------------------------------ neighbours
    def neighbours(self, word: str, topn: int = 10) -> dict:
        word = check_word(word)
        lists, errors = [], []
        for m in self.models:
            try:
                lists.append(m.neighbours(word, topn))
            except FirthError as e:  # one model may lack the word
                errors.append(e)
                lists.append({"model": m.name, "word": word, "error": str(e), "neighbours": []})
        out = {"word": word, "models": lists}
        if len(lists) == 2:
            a = {w for w, _ in lists[0]["neighbours"]}
            b = {w for w, _ in lists[1]["neighbours"]}
            both = [w for w, _ in lists[0]["neighbours"] if w in b]
            out["overlap"] = {"shared": both, "count": len(both),
                              "jaccard": len(a & b) / len(a | b) if a | b else None}
        if len(errors) == len(lists):
            raise errors[0]
        return _clean(out)

    def complete(self, prefix: str, limit: int = 10, model=0) -> dict:
        return {"prefix": prefix, "words": self.model(model).complete(prefix, limit)}

    def analogy(self, a, b, c, method="add", topn=10, model=0) -> dict:
        return _clean(self.model(model).analogy(a, b, c, method, topn))

    # -------------------------------------------------------------------- map
    def map(self, mode: str = "neighbours", word: str | None = None, words=None, n: int = 50,
            method: str = "pca", model=0) -> dict:
        from firth.explore.project import project

        m = self.model(model)
        center = None
        if mode == "neighbours":
            n = check_int(n, "n", 2, LIMITS.map_neighbours)
            center = check_word(word)
            hits = m.neighbours(center, n)["neighbours"]
            chosen = [center] + [w for w, _ in hits]
        elif mode == "words":
            if not isinstance(words, list) or not words:
                raise FirthError("words: give a list of words")
            if len(words) > LIMITS.map_points:
                raise FirthError(f"words: {len(words)} words; at most {LIMITS.map_points}")
            chosen = list(dict.fromkeys(check_word(w) for w in words))
        elif mode == "frequent":
            n = check_int(n, "n", 2, min(LIMITS.map_points, len(m.kv)))
            chosen = m.kv.index_to_key[:n]
        else:
            raise FirthError(f"mode {mode!r}: expected neighbours, words or frequent")
        found, X, missing = m.rows(chosen)
        if len(found) < 2:
            raise FirthError("map: fewer than two of the words have vectors")
        Y, about = project(X, method)
        points = [{"word": w, "x": float(x), "y": float(y), "center": w == center}
                  for w, (x, y) in zip(found, Y)]
        return _clean({"model": m.name, "mode": mode, "points": points, "missing": missing, **about})

    # ------------------------------------------------------------------- bias
    def weat(self, test_id: str, model=0) -> dict:
        """One bundled WEAT test (firth.evaluate.weat.run_test) and each target word's
        association s(w, A, B)."""
        from firth.evaluate.datasets import WEAT_FILE, read_weat
        from firth.evaluate.lookup import Lookup
        from firth.evaluate.weat import association, run_test

        tests = {t.id: t for t in read_weat(WEAT_FILE)}
        if test_id not in tests:
            raise FirthError(f"test {str(test_id)[:40]!r}: expected one of {', '.join(tests)}")
        m = self.model(model)
        t = tests[test_id]

        def run():
            words = [w for _, ws in t.targets + t.attributes for w in ws]
            sub = _subset(m.kv, words)
            res = run_test(sub, t)
            look, W = Lookup(sub), sub.get_normed().astype(np.float64)
            per_word = []
            A = W[[i for w in t.attributes[0][1] if (i := look.index(w)) is not None]]
            B = W[[i for w in t.attributes[1][1] if (i := look.index(w)) is not None]]
            if len(A) and len(B):
                for set_key, (_, ws) in zip(("X", "Y"), t.targets):
                    for w in ws:
                        i = look.index(w)
                        if i is not None:
                            s = association(W[i][None, :], A, B)[0]
                            per_word.append({"word": w, "set": set_key, "s": float(s)})
            res["associations"] = per_word
            return _clean({"model": m.name, **res})

        return m.cached(("weat", test_id), run)

    def axis(self, pairs, words, model=0) -> dict:
        """Bolukbasi et al. (2016): the axis is the mean of unit(a) - unit(b) over the pairs
        (normalised); each word's score is the cosine of its vector with it (> 0: the a side)."""
        m = self.model(model)
        if not isinstance(pairs, list) or not pairs:
            raise FirthError("pairs: give at least one pair of words, e.g. he she")
        if len(pairs) > LIMITS.axis_pairs:
            raise FirthError(f"pairs: {len(pairs)} pairs; at most {LIMITS.axis_pairs}")
        words = words or []
        if not isinstance(words, list) or len(words) > LIMITS.axis_words:
            raise FirthError(f"words: a list of at most {LIMITS.axis_words} words")
        diffs, used, skipped = [], [], []
        for p in pairs:
            if not isinstance(p, (list, tuple)) or len(p) != 2:
                raise FirthError("pairs: each pair must be two words")
            a, b = check_word(p[0]), check_word(p[1])
            try:
                diffs.append(m.unit(a)[0] - m.unit(b)[0])
                used.append([a, b])
            except FirthError:
                skipped.append([a, b])
        if not diffs:
            raise FirthError("pairs: no pair has both words in the vocabulary")
        axis = np.mean(diffs, axis=0)
        norm = float(np.linalg.norm(axis))
        if norm == 0:
            raise FirthError("pairs: the two sides have the same vectors; the axis is zero")
        axis = axis / norm
        found, X, missing = m.rows([check_word(w) for w in words])
        scores = X @ axis if len(found) else np.empty(0)
        proj = sorted(({"word": w, "score": float(s)} for w, s in zip(found, scores)), key=lambda d: -d["score"])
        return _clean({"model": m.name, "pairs": used, "skipped_pairs": skipped, "projections": proj,
                       "missing": missing})

    # ----------------------------------------------------------------- limits
    def pair(self, w1: str, w2: str, model=0) -> dict:
        """Cosine of two words and what the bundled WordNet lists say about the pair, beside
        the model's mean cosine of antonym / synonym / random pairs (firth.evaluate.limits)."""
        from firth.evaluate.limits import antonyms

        m = self.model(model)
        w1, w2 = check_word(w1, "w1"), check_word(w2, "w2")
        (u1, _), (u2, _) = m.unit(w1), m.unit(w2)
        ants, syns = _wordnet()
        key = frozenset((w1.lower(), w2.lower()))

        def lists():
            words = {w for pr in _wordnet_pairs() for p in pr for w in p}
            r = antonyms(_subset(m.kv, words))
            return {k: r[k] for k in ("antonym", "synonym", "random", "coverage", "most_similar_antonyms", "source")
                    if k in r}

        return _clean({"model": m.name, "w1": w1, "w2": w2, "cosine": float(u1 @ u2),
                       "wordnet": "antonyms" if key in ants else "synonyms" if key in syns else None,
                       "lists": m.cached("limits", lists)})

    # ----------------------------------------------------------------- report
    def report(self, model=0) -> dict:
        """``firth evaluate``'s bundled similarity sets and Google analogies (3CosAdd,
        3CosMul, the 30,000 most frequent words), as its JSON gives them."""
        from firth.evaluate import datasets
        from firth.evaluate.analogy import evaluate_analogies
        from firth.evaluate.similarity import evaluate_similarity

        m = self.model(model)

        def run():
            out = {}
            for p in datasets.bundled_similarity_files():
                pairs = datasets.read_pairs(p)
                sub = _subset(m.kv, [w for a, b, _ in pairs.pairs for w in (a, b)])
                r = evaluate_similarity(sub, p)
                out[p.stem] = {k: r[k] for k in ("pairs", "found", "coverage", "spearman", "pearson")}
            restrict = 30000
            r = evaluate_analogies(m.kv.limit(restrict), datasets.ANALOGY_FILE, restrict=restrict)
            analogies = {k: r[k] for k in ("semantic", "syntactic", "total")}
            return _clean({"model": m.name, "similarity": out, "analogies": analogies, "restrict": restrict})

        return m.cached("report", run)


_WORDNET: tuple | None = None


def _wordnet_pairs():
    from firth.evaluate.datasets import ANTONYMS_FILE, SYNONYMS_FILE, read_word_pairs

    return read_word_pairs(ANTONYMS_FILE), read_word_pairs(SYNONYMS_FILE)


def _wordnet():
    global _WORDNET
    if _WORDNET is None:
        ants, syns = _wordnet_pairs()
        _WORDNET = ({frozenset((a.lower(), b.lower())) for a, b in ants},
                    {frozenset((a.lower(), b.lower())) for a, b in syns})
    return _WORDNET
