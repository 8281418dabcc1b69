"""The Porter stemmer (M. F. Porter, 1980, "An algorithm for suffix stripping").

A plain-Python rendering of the algorithm as published (step 2 has ``abli -> able`` and no
``logi`` rule; words of any length are stemmed, so ``as -> a``), which is what the Snowball
``porter`` script implements. Tests check it word for word against the ``snowballstemmer``
package's "porter" algorithm.

Words are expected lower-case. ``stem`` is pure, so callers may cache it.
"""

from __future__ import annotations

from functools import lru_cache

_VOWELS = frozenset("aeiou")


def _consonant_flags(w: str) -> list[bool]:
    """True where w[i] is a consonant. 'y' is a consonant at the start or after a vowel."""
    flags = []
    for i, ch in enumerate(w):
        if ch in _VOWELS:
            flags.append(False)
        elif ch == "y":
            flags.append(i == 0 or not flags[i - 1])
        else:
            flags.append(True)
    return flags


def _measure(stem: str) -> int:
    """m in [C](VC){m}[V]: the number of vowel-consonant sequences."""
    cons = _consonant_flags(stem)
    m = 0
    prev_vowel = False
    for c in cons:
        if c and prev_vowel:
            m += 1
        prev_vowel = not c
    return m


def _has_vowel(stem: str) -> bool:
    return not all(_consonant_flags(stem))


def _ends_double_consonant(w: str) -> bool:
    return len(w) >= 2 and w[-1] == w[-2] and _consonant_flags(w)[-1]


def _cvc(w: str) -> bool:
    """*o: ends consonant-vowel-consonant, the last not w, x or y."""
    if len(w) < 3:
        return False
    c = _consonant_flags(w)
    return c[-3] and not c[-2] and c[-1] and w[-1] not in "wxy"


def _replace(w: str, rules, condition) -> str:
    """Apply the first rule whose suffix matches (longest listed first); stop there."""
    for suffix, repl in rules:
        if w.endswith(suffix):
            stem = w[: len(w) - len(suffix)]
            return stem + repl if condition(stem) else w
    return w


_STEP2 = [
    ("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"),
    ("izer", "ize"), ("abli", "able"), ("alli", "al"), ("entli", "ent"), ("eli", "e"),
    ("ousli", "ous"), ("ization", "ize"), ("ation", "ate"), ("ator", "ate"),
    ("alism", "al"), ("iveness", "ive"), ("fulness", "ful"), ("ousness", "ous"),
    ("aliti", "al"), ("iviti", "ive"), ("biliti", "ble"),
]
_STEP3 = [
    ("icate", "ic"), ("ative", ""), ("alize", "al"), ("iciti", "ic"), ("ical", "ic"),
    ("ful", ""), ("ness", ""),
]
_STEP4 = [
    "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent",
    "ion", "ou", "ism", "ate", "iti", "ous", "ive", "ize",
]


def _longest_first(rules):
    # Porter matches the longest suffix among those listed for a step.
    return sorted(rules, key=lambda r: -len(r[0]))


_STEP2 = _longest_first(_STEP2)
_STEP3 = _longest_first(_STEP3)
_STEP4 = sorted(_STEP4, key=len, reverse=True)


def _step1a(w: str) -> str:
    if w.endswith("sses"):
        return w[:-2]
    if w.endswith("ies"):
        return w[:-2]
    if w.endswith("ss"):
        return w
    if w.endswith("s"):
        return w[:-1]
    return w


def _step1b(w: str) -> str:
    if w.endswith("eed"):
        return w[:-1] if _measure(w[:-3]) > 0 else w
    for suffix in ("ed", "ing"):
        if w.endswith(suffix):
            stem = w[: -len(suffix)]
            if not _has_vowel(stem):
                return w
            if stem.endswith(("at", "bl", "iz")):
                return stem + "e"
            if _ends_double_consonant(stem) and stem[-1] not in "lsz":
                return stem[:-1]
            if _measure(stem) == 1 and _cvc(stem):
                return stem + "e"
            return stem
    return w


def _step1c(w: str) -> str:
    if w.endswith("y") and _has_vowel(w[:-1]):
        return w[:-1] + "i"
    return w


def _step4_full(w: str) -> str:
    # "ion" is removed only after s or t; the other suffixes unconditionally (m > 1).
    for suffix in _STEP4:
        if w.endswith(suffix):
            stem = w[: len(w) - len(suffix)]
            if _measure(stem) <= 1:
                return w
            if suffix == "ion" and not stem.endswith(("s", "t")):
                return w
            return stem
    return w


def _step5a(w: str) -> str:
    if w.endswith("e"):
        stem = w[:-1]
        m = _measure(stem)
        if m > 1 or (m == 1 and not _cvc(stem)):
            return stem
    return w


def _step5b(w: str) -> str:
    if w.endswith("ll") and _measure(w) > 1:
        return w[:-1]
    return w


@lru_cache(maxsize=1 << 18)
def stem(word: str) -> str:
    """The Porter stem of a lower-case word."""
    if not word:
        return word
    w = _step1a(word)
    w = _step1b(w)
    w = _step1c(w)
    w = _replace(w, _STEP2, lambda s: _measure(s) > 0)
    w = _replace(w, _STEP3, lambda s: _measure(s) > 0)
    w = _step4_full(w)
    w = _step5a(w)
    w = _step5b(w)
    return w
