"""Text normalisation: the one mapping from raw tokens to vocabulary keys.

It is saved with the vectors and applied to every lookup, so a model trained on lowercased
text finds ``paris`` when asked for ``"Paris"``, and tasks that feed raw text (classification,
tagging, search) hit the vocabulary instead of silently missing tokens.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass

from firth.errors import FirthError

_DIGITS = ("keep", "zero")
_PUNCT = ("keep", "strip")
# Translation table mapping every decimal digit to "0" (built once; covers ASCII only,
# other scripts' digits are mapped in __call__ via unicodedata).
_ZERO = str.maketrans("0123456789", "0000000000")


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P") or unicodedata.category(ch).startswith("S")


@dataclass(frozen=True)
class Normalizer:
    """How raw tokens become vocabulary keys.

    lowercase: fold case (``str.lower``).
    digits:    "keep", or "zero" to map every digit to 0 (``1984`` -> ``0000``), which pools
               the statistics of numbers as many embedding papers do.
    punct:     "keep", or "strip" to remove punctuation/symbols at both ends of a token
               (``"word,"`` -> ``word``); a token made only of punctuation becomes empty and
               is dropped by :meth:`tokens`.
    """

    lowercase: bool = False
    digits: str = "keep"
    punct: str = "keep"

    def __post_init__(self):
        if self.digits not in _DIGITS:
            raise FirthError(f"normalizer digits={self.digits!r}: expected one of {', '.join(_DIGITS)}")
        if self.punct not in _PUNCT:
            raise FirthError(f"normalizer punct={self.punct!r}: expected one of {', '.join(_PUNCT)}")

    @property
    def is_identity(self) -> bool:
        return not self.lowercase and self.digits == "keep" and self.punct == "keep"

    def __call__(self, token: str) -> str:
        if self.punct == "strip":
            i, j = 0, len(token)
            while i < j and _is_punct(token[i]):
                i += 1
            while j > i and _is_punct(token[j - 1]):
                j -= 1
            token = token[i:j]
        if self.lowercase:
            token = token.lower()
        if self.digits == "zero":
            token = token.translate(_ZERO)
            if not token.isascii():
                token = "".join("0" if ch.isdigit() else ch for ch in token)
        return token

    def tokens(self, text: str) -> list[str]:
        """Whitespace-split ``text`` and normalise each token, dropping empty results."""
        if self.is_identity:
            return text.split()
        out = []
        for tok in text.split():
            tok = self(tok)
            if tok:
                out.append(tok)
        return out

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict | None) -> "Normalizer":
        if not d:
            return cls()
        known = {k: d[k] for k in ("lowercase", "digits", "punct") if k in d}
        return cls(**known)

    def describe(self) -> str:
        parts = []
        if self.lowercase:
            parts.append("lowercase")
        if self.digits != "keep":
            parts.append(f"digits->{self.digits}")
        if self.punct != "keep":
            parts.append(f"punct->{self.punct}")
        return ", ".join(parts) or "none (tokens used as they are)"
