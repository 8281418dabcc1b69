"""Inverted index with BM25 ranking, stored as NumPy CSR arrays (no pickle).

Postings are compressed-sparse-row: the documents containing term ``t`` are
``post_doc[post_ptr[t]:post_ptr[t+1]]`` (ascending) with their term frequencies in
``post_tf``. A query is then a few vector operations per query term. A forward index
(document -> terms, the same layout transposed) serves pseudo-relevance feedback, and the
analysed token sequence of each document is kept so ``firth search corpus`` can write the
exact text the embeddings for expansion should be trained on.

BM25 (Robertson & Spärck Jones; Lucene's non-negative idf):

    score(d, q) = sum_t  w_t * idf(t) * tf(t,d) * (k1 + 1) / (tf(t,d) + k1 * (1 - b + b * |d| / avgdl))
    idf(t)      = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))

where ``w_t`` is the query weight of term t (its count in a plain query).

On disk (a directory, written atomically): ``meta.json`` (format, analyzer, counts),
``terms.json``, ``docids.json``, ``titles.json`` and the ``.npy`` arrays.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from firth.errors import FirthError
from firth.io import atomic_dir
from firth.search.analyze import Analyzer

FORMAT = "firth-search-index"
VERSION = 1
K1, B = 1.2, 0.75
_ARRAYS = ("post_ptr", "post_doc", "post_tf", "fwd_ptr", "fwd_term", "fwd_tf", "doclen", "seq_ptr", "seq")


class Index:
    def __init__(self, terms, doc_ids, titles, arrays: dict, analyzer: Analyzer, meta: dict | None = None):
        self.terms: list[str] = list(terms)
        self.term_to_id = {t: i for i, t in enumerate(self.terms)}
        self.doc_ids: list[str] = list(doc_ids)
        self.titles: list[str] = list(titles) if titles is not None else [""] * len(self.doc_ids)
        for name in _ARRAYS:
            setattr(self, name, arrays[name])
        self.analyzer = analyzer
        self.meta = dict(meta or {})
        self.n_docs = len(self.doc_ids)
        self.df = np.diff(self.post_ptr).astype(np.int64)
        self.avgdl = float(self.doclen.mean()) if self.n_docs else 0.0
        n = self.n_docs
        self.idf = np.log1p((n - self.df + 0.5) / (self.df + 0.5))
        self._norm_cache: dict[tuple[float, float], np.ndarray] = {}
        self._doc_index = None

    # ----------------------------------------------------------------- building
    @classmethod
    def build(cls, docs: Iterable[tuple[str, str, str]], analyzer: Analyzer | None = None) -> "Index":
        """docs: (id, text, title) triples. Terms are numbered in order of first appearance."""
        analyzer = analyzer or Analyzer()
        vocab: dict[str, int] = {}
        doc_ids, titles, seq_chunks, seq_lens = [], [], [], []
        for did, text, title in docs:
            ids = [vocab.setdefault(t, len(vocab)) for t in analyzer(text)]
            doc_ids.append(did)
            titles.append((title or "")[:200])
            seq_chunks.append(np.asarray(ids, dtype=np.int32))
            seq_lens.append(len(ids))
        if not doc_ids:
            raise FirthError("no documents to index")
        n, v = len(doc_ids), len(vocab)
        seq = np.concatenate(seq_chunks) if seq_chunks else np.zeros(0, np.int32)
        seq_ptr = np.zeros(n + 1, np.int64)
        np.cumsum(seq_lens, out=seq_ptr[1:])
        doc_of_tok = np.repeat(np.arange(n, dtype=np.int64), seq_lens)
        key = doc_of_tok * max(v, 1) + seq
        uniq, tf = np.unique(key, return_counts=True)  # sorted by (doc, term)
        fwd_doc = (uniq // max(v, 1)).astype(np.int32)
        fwd_term = (uniq % max(v, 1)).astype(np.int32)
        fwd_ptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(fwd_doc, minlength=n), out=fwd_ptr[1:])
        order = np.argsort(fwd_term, kind="stable")  # by term, then doc (stable keeps doc order)
        post_ptr = np.zeros(v + 1, np.int64)
        np.cumsum(np.bincount(fwd_term, minlength=v), out=post_ptr[1:])
        arrays = {
            "post_ptr": post_ptr,
            "post_doc": fwd_doc[order],
            "post_tf": tf[order].astype(np.int32),
            "fwd_ptr": fwd_ptr,
            "fwd_term": fwd_term,
            "fwd_tf": tf.astype(np.int32),
            "doclen": np.asarray(seq_lens, dtype=np.int32),
            "seq_ptr": seq_ptr,
            "seq": seq.astype(np.int32),
        }
        terms = [None] * v
        for t, i in vocab.items():
            terms[i] = t
        return cls(terms, doc_ids, titles, arrays, analyzer)

    # ------------------------------------------------------------ save / load
    def save(self, path, inputs=()) -> None:
        """Write the index directory atomically; ``inputs``: paths it may not replace."""
        path = Path(path)
        meta = {
            "format": FORMAT,
            "version": VERSION,
            "analyzer": self.analyzer.to_dict(),
            "n_docs": self.n_docs,
            "n_terms": len(self.terms),
            "n_tokens": int(self.seq.size),
            "avgdl": self.avgdl,
            **{k: v for k, v in self.meta.items() if k not in ("format", "version")},
        }
        with atomic_dir(path, "search-index", inputs=inputs) as tmp:
            (tmp / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
            (tmp / "terms.json").write_text(json.dumps(self.terms, ensure_ascii=False), encoding="utf-8")
            (tmp / "docids.json").write_text(json.dumps(self.doc_ids, ensure_ascii=False), encoding="utf-8")
            (tmp / "titles.json").write_text(json.dumps(self.titles, ensure_ascii=False), encoding="utf-8")
            for name in _ARRAYS:
                np.save(tmp / f"{name}.npy", getattr(self, name), allow_pickle=False)

    @classmethod
    def load(cls, path) -> "Index":
        """An index from disk; every array is checked against the others (shapes, dtypes,
        pointer monotonicity, ids in range) before any query indexes into it."""
        from firth.io import read_json, recover
        from firth.npyfile import load_npy

        path = Path(path)
        recover(path)
        if not path.is_dir():
            raise FirthError(f"{path}: not an index directory; build one with `firth search index DOCS.jsonl -o {path}`")
        if not (path / "meta.json").is_file():
            raise FirthError(f"{path}: no readable meta.json; not a firth search index")
        meta = read_json(path / "meta.json", "search index")
        if meta.get("format") != FORMAT:
            raise FirthError(f"{path}: meta.json is not a firth search index (format {meta.get('format')!r})")
        version = meta.get("version", 0)
        if not isinstance(version, int) or version > VERSION:
            raise FirthError(f"{path}: index version {version!r} is newer than this firth reads ({VERSION})")
        lists = {}
        for name in ("terms", "docids", "titles"):
            v = read_json(path / f"{name}.json", "search index", expect=list)
            if not all(isinstance(x, str) for x in v):
                raise FirthError(f"{path}/{name}.json: must be a list of strings; rebuild the index")
            lists[name] = v
        terms, doc_ids, titles = lists["terms"], lists["docids"], lists["titles"]
        n, v = len(doc_ids), len(terms)
        if len(titles) != n or len(set(terms)) != v:
            raise FirthError(f"{path}: titles.json/terms.json do not match docids.json; rebuild the index")
        a = {}
        for name, shape in (("post_ptr", (v + 1,)), ("fwd_ptr", (n + 1,)), ("seq_ptr", (n + 1,)), ("doclen", (n,))):
            a[name] = load_npy(path / f"{name}.npy", kind="iu", shape=shape)
        nnz = int(a["post_ptr"][-1])
        for name, shape in (("post_doc", (nnz,)), ("post_tf", (nnz,)), ("fwd_term", (nnz,)), ("fwd_tf", (nnz,)),
                            ("seq", (int(a["seq_ptr"][-1]),))):
            a[name] = load_npy(path / f"{name}.npy", kind="iu", shape=shape)
        for ptr, last in (("post_ptr", nnz), ("fwd_ptr", nnz), ("seq_ptr", len(a["seq"]))):
            p = a[ptr]
            if p[0] != 0 or p[-1] != last or (np.diff(p.astype(np.int64)) < 0).any():
                raise FirthError(f"{path}/{ptr}.npy: pointers must rise from 0 to {last}; rebuild the index")
        for name, bound in (("post_doc", n), ("fwd_term", v), ("seq", v)):
            x = a[name]
            if len(x) and (int(x.min()) < 0 or int(x.max()) >= bound):
                raise FirthError(f"{path}/{name}.npy: ids outside 0..{bound - 1}; rebuild the index")
        for name in ("post_tf", "fwd_tf", "doclen"):
            if len(a[name]) and int(a[name].min()) < 0:
                raise FirthError(f"{path}/{name}.npy: negative counts; rebuild the index")
        try:
            analyzer = Analyzer.from_dict(meta.get("analyzer"))
        except FirthError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError) as e:
            raise FirthError(f"{path}/meta.json: bad analyzer settings ({e}); rebuild the index") from None
        return cls(terms, doc_ids, titles, a, analyzer, meta)

    # ---------------------------------------------------------------- queries
    def doc_index(self, doc_id: str) -> int | None:
        if self._doc_index is None:
            self._doc_index = {d: i for i, d in enumerate(self.doc_ids)}
        return self._doc_index.get(doc_id)

    def query_terms(self, text: str) -> dict[str, float]:
        """The analysed query as {term: count} (terms not in the index are kept; they score 0)."""
        q: dict[str, float] = {}
        for t in self.analyzer(text):
            q[t] = q.get(t, 0.0) + 1.0
        return q

    def _norm(self, k1: float, b: float) -> np.ndarray:
        key = (float(k1), float(b))
        norm = self._norm_cache.get(key)
        if norm is None:
            avgdl = self.avgdl or 1.0
            norm = (k1 * (1.0 - b + b * self.doclen / avgdl)).astype(np.float64)
            self._norm_cache[key] = norm
        return norm

    def scores(self, query: dict[str, float], k1: float = K1, b: float = B) -> np.ndarray:
        """BM25 score of every document for a weighted query {term: weight}."""
        if k1 < 0 or not 0 <= b <= 1:
            raise FirthError(f"BM25 parameters k1={k1}, b={b}: need k1 >= 0 and 0 <= b <= 1")
        out = np.zeros(self.n_docs, dtype=np.float64)
        norm = self._norm(k1, b)
        for term, w in query.items():
            t = self.term_to_id.get(term)
            if t is None or w == 0:
                continue
            lo, hi = self.post_ptr[t], self.post_ptr[t + 1]
            docs = self.post_doc[lo:hi]
            tf = self.post_tf[lo:hi]
            out[docs] += (w * self.idf[t] * (k1 + 1.0)) * tf / (tf + norm[docs])
        return out

    def search(self, query: dict[str, float], k1: float = K1, b: float = B, topk: int = 10):
        """(document indices, scores) of the best ``topk`` documents with a positive score,
        best first; ties broken by document order."""
        s = self.scores(query, k1, b)
        cand = np.flatnonzero(s > 0)
        if cand.size > topk:
            part = np.argpartition(-s[cand], topk - 1)[:topk]
            # keep every document tied with the k-th score so the tie-break is by doc order
            kth = s[cand[part]].min()
            cand = cand[s[cand] >= kth]
        order = np.lexsort((cand, -s[cand]))[:topk]
        top = cand[order]
        return top, s[top]

    def doc_terms(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        """(term ids, term frequencies) of document d."""
        lo, hi = self.fwd_ptr[d], self.fwd_ptr[d + 1]
        return self.fwd_term[lo:hi], self.fwd_tf[lo:hi]

    def doc_tokens(self, d: int) -> list[str]:
        """The analysed tokens of document d, in order."""
        lo, hi = self.seq_ptr[d], self.seq_ptr[d + 1]
        return [self.terms[i] for i in self.seq[lo:hi]]
