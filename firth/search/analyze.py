"""Text analysis for search: tokenise, drop stop words, stem.

One :class:`Analyzer` is saved with every index and applied, unchanged, to documents,
queries and the vocabulary of the embeddings used for expansion, so that all three speak
the same terms (``boundary layers`` -> ``boundari``, ``layer``).

Steps, in order: Unicode accents folded (NFKD, combining marks dropped), lower-cased,
split into runs of letters and digits (everything else, apostrophes included, separates
tokens), tokens shorter than ``min_len`` dropped, stop words dropped (checked before
stemming), Porter stemming.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources
from pathlib import Path

from firth.errors import FirthError

_TOKEN = re.compile(r"[^\W_]+")
BUILTIN_STOPLISTS = {"en": "stopwords_en.txt"}


def fold(text: str) -> str:
    """Lower-case and strip accents (é -> e); ASCII text takes the fast path."""
    text = text.lower()
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text


def tokenize(text: str) -> list[str]:
    """Runs of letters/digits of the folded text."""
    return _TOKEN.findall(fold(text))


def _read_stoplist(lines) -> frozenset[str]:
    words = set()
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            words.update(tokenize(line))
    return frozenset(words)


@lru_cache(maxsize=8)
def load_stoplist(name: str) -> frozenset[str]:
    """A bundled list ("en") or a file of one word a line (# comments allowed)."""
    if name in BUILTIN_STOPLISTS:
        text = resources.files("firth.data").joinpath(BUILTIN_STOPLISTS[name]).read_text("utf-8")
        return _read_stoplist(text.splitlines())
    path = Path(name)
    if not path.is_file():
        raise FirthError(f"stop list {name!r}: not a bundled list ({', '.join(BUILTIN_STOPLISTS)}) nor a file")
    return _read_stoplist(path.read_text("utf-8").splitlines())


class Analyzer:
    """Turns text into index terms. Settings round-trip through ``to_dict``/``from_dict``."""

    def __init__(self, stopwords: str | None = "en", stemmer: str | None = "porter", min_len: int = 1):
        if stemmer not in (None, "porter"):
            raise FirthError(f"stemmer {stemmer!r}: unknown; use 'porter' or none")
        if min_len < 1:
            raise FirthError(f"min_len {min_len}: must be at least 1")
        self.stopwords_name = stopwords
        self.stemmer = stemmer
        self.min_len = int(min_len)
        self.stopwords = load_stoplist(stopwords) if stopwords else frozenset()
        if stemmer == "porter":
            from firth.search.porter import stem

            self._stem = stem
        else:
            self._stem = None

    def term(self, token: str) -> str | None:
        """The index term of one already-folded token, or None if it is dropped."""
        if len(token) < self.min_len or token in self.stopwords:
            return None
        return self._stem(token) if self._stem else token

    def __call__(self, text: str) -> list[str]:
        out = []
        for tok in tokenize(text):
            t = self.term(tok)
            if t is not None:
                out.append(t)
        return out

    def analyze_word(self, word: str) -> str | None:
        """The single term a vocabulary word maps to (None if it is a stop word or splits)."""
        toks = tokenize(word)
        if len(toks) != 1:
            return None
        return self.term(toks[0])

    def to_dict(self) -> dict:
        # A stop list read from a user's file is saved as its words, so the index stays usable
        # when that file moves.
        sw = self.stopwords_name
        if sw == "custom" or (sw and sw not in BUILTIN_STOPLISTS):
            sw = sorted(self.stopwords)
        return {"stopwords": sw, "stemmer": self.stemmer, "min_len": self.min_len}

    @classmethod
    def from_dict(cls, d: dict) -> "Analyzer":
        sw = d.get("stopwords", "en")
        words = None
        if isinstance(sw, list):
            words, sw = frozenset(sw), None
        a = cls(stopwords=sw, stemmer=d.get("stemmer", "porter"), min_len=d.get("min_len", 1))
        if words is not None:
            a.stopwords, a.stopwords_name = words, "custom"
        return a

    def __repr__(self):
        return f"Analyzer({self.to_dict()})"
