"""Putting the parts together: a query text -> a weighted query model -> a BM25 ranking.

Runs (``Config.expand``):

* ``none``     plain BM25 on the analysed query;
* ``emb``      embedding expansion (Kuzi et al. 2016) interpolated with the query;
* ``rm3``      RM3 pseudo-relevance feedback;
* ``rm3+emb``  the combination: the expansion model is a mix of the RM1 and the embedding
  models, ``(1 - weight) q + weight * ((1 - mix) RM1 + mix * Emb)``, each part normalised
  to sum 1 (with ``mix`` = 0.5, the two expansion sources count equally).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from firth.errors import FirthError
from firth.search.expand import EmbeddingExpander, interpolate, normalise
from firth.search.index import Index
from firth.search.rm3 import feedback_model

EXPANSIONS = ("none", "emb", "rm3", "rm3+emb")


@dataclass(frozen=True)
class Config:
    k1: float = 1.2
    b: float = 0.75
    expand: str = "none"
    terms: int = 10  # embedding expansion terms
    weight: float = 0.5  # weight of the expansion model against the original query
    method: str = "centroid"  # or "combsum"
    fb_docs: int = 10  # RM3 feedback documents
    fb_terms: int = 10  # RM3 feedback terms
    mix: float = 0.5  # rm3+emb: share of the embedding model in the expansion model

    def with_(self, **kw) -> "Config":
        return replace(self, **kw)

    def describe(self) -> str:
        s = f"BM25 k1={self.k1:g} b={self.b:g}"
        if self.expand in ("emb", "rm3+emb"):
            s += f"; embedding expansion ({self.method}) terms={self.terms}"
        if self.expand in ("rm3", "rm3+emb"):
            s += f"; RM3 fb_docs={self.fb_docs} fb_terms={self.fb_terms}"
        if self.expand == "rm3+emb":
            s += f" mix={self.mix:g}"
        if self.expand != "none":
            s += f"; weight={self.weight:g}"
        return s

    def to_dict(self) -> dict:
        return asdict(self)


class Retriever:
    def __init__(self, index: Index, expander: EmbeddingExpander | None = None):
        self.index = index
        self.expander = expander
        self._emb_cache: dict = {}

    def analyse(self, text: str, name: str = "query") -> dict[str, float]:
        q = self.index.query_terms(text)
        if not q:
            raise FirthError(f"{name} {text!r}: no search terms left after analysis (empty, or only stop words and punctuation)")
        return q

    def expansion_terms(self, query: dict[str, float], cfg: Config) -> list[tuple[str, float]]:
        if self.expander is None:
            raise FirthError("embedding expansion asked for but no vectors given (--expand VECTORS)")
        key = (tuple(query), cfg.terms, cfg.method)
        hit = self._emb_cache.get(key)
        if hit is None:
            hit = self.expander.expand(list(query), cfg.terms, cfg.method)
            if len(self._emb_cache) > 100_000:
                self._emb_cache.clear()
            self._emb_cache[key] = hit
        return hit

    def query_model(self, query: dict[str, float], cfg: Config) -> dict[str, float]:
        """The weighted query BM25 runs with."""
        if cfg.expand not in EXPANSIONS:
            raise FirthError(f"expansion {cfg.expand!r}: use one of {', '.join(EXPANSIONS)}")
        if cfg.expand == "none" or cfg.weight == 0:
            return dict(query)
        parts = []
        if cfg.expand in ("rm3", "rm3+emb"):
            rm = feedback_model(self.index, query, cfg.fb_docs, cfg.fb_terms, cfg.k1, cfg.b)
            parts.append((1.0 - cfg.mix if cfg.expand == "rm3+emb" else 1.0, normalise(rm)))
        if cfg.expand in ("emb", "rm3+emb"):
            emb = dict(self.expansion_terms(query, cfg))
            parts.append((cfg.mix if cfg.expand == "rm3+emb" else 1.0, normalise(emb)))
        exp: dict[str, float] = {}
        for share, model in parts:
            for t, p in model.items():
                exp[t] = exp.get(t, 0.0) + share * p
        return interpolate(query, exp, cfg.weight)

    def search(self, text: str, cfg: Config = Config(), topk: int = 10):
        """(doc indices, scores, query model) for a query text."""
        model = self.query_model(self.analyse(text), cfg)
        docs, scores = self.index.search(model, cfg.k1, cfg.b, topk)
        return docs, scores, model

    def run(self, queries: dict[str, str], cfg: Config, topk: int = 1000) -> dict[str, list[str]]:
        """{query id: ranked doc ids} for every query."""
        ids = self.index.doc_ids
        out = {}
        for qid, text in queries.items():
            docs, _, _ = self.search(text, cfg, topk)
            out[qid] = [ids[d] for d in docs]
        return out
