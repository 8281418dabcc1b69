"""Benchmark files: where the bundled ones live, and strict readers for each format.

Readers raise a one-line :class:`~firth.errors.FirthError` naming the file and line of the
first malformed line (gensim skips such lines silently; a typo in a benchmark should not
quietly shrink it).

Formats
-------
* similarity: ``word1<TAB>word2<TAB>score`` (whitespace accepted when there are exactly
  three fields); blank lines and lines starting with ``#`` are ignored.
* analogies: ``: section name`` headers, then ``a b c d`` lines ("a is to b as c is to d").
* WEAT: a JSON list (or one object) of tests ``{"id", "targets": {X: [...], Y: [...]},
  "attributes": {A: [...], B: [...]}}``; ``name`` and the rest are optional.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from firth.errors import FirthError

DATA = Path(__file__).resolve().parent.parent / "data" / "eval"
SIMILARITY_DIR = DATA / "similarity"
ANALOGY_FILE = DATA / "analogy" / "questions-words.txt"
WEAT_FILE = DATA / "weat" / "weat.json"
ANTONYMS_FILE = DATA / "limits" / "wordnet_antonyms.tsv"
SYNONYMS_FILE = DATA / "limits" / "wordnet_synonyms.tsv"

# the order of the bundled similarity sets in reports (the better known first)
SIMILARITY_ORDER = ["ws353", "ws353_sim", "ws353_rel", "simlex999", "men", "men_natural", "rw",
                    "mturk287", "rg65", "mc30"]


def bundled_similarity_files() -> list[Path]:
    files = {p.stem: p for p in SIMILARITY_DIR.glob("*.tsv")}
    order = [s for s in SIMILARITY_ORDER if s in files] + sorted(set(files) - set(SIMILARITY_ORDER))
    return [files[s] for s in order]


def _read_lines(path) -> list[str]:
    p = Path(path)
    if not p.is_file():
        raise FirthError(f"{p}: no such benchmark file")
    try:
        return p.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise FirthError(f"{p}: not UTF-8 text ({e.reason} at byte {e.start})") from None


@dataclass
class PairSet:
    name: str
    path: str
    pairs: list[tuple[str, str, float]]
    lines: list[int]  # 1-based line numbers of the pairs


def read_pairs(path) -> PairSet:
    """A word-pair similarity file (``w1<TAB>w2<TAB>score``)."""
    pairs, lines = [], []
    for no, line in enumerate(_read_lines(path), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        parts = line.rstrip("\r\n").split("\t")
        if len(parts) != 3:
            parts = s.split()
        if len(parts) != 3 or not parts[0].strip() or not parts[1].strip():
            raise FirthError(f"{path}:{no}: expected 'word1<TAB>word2<TAB>score', got {s[:80]!r}")
        try:
            score = float(parts[2])
        except ValueError:
            raise FirthError(f"{path}:{no}: score {parts[2].strip()!r} is not a number") from None
        if score != score:
            raise FirthError(f"{path}:{no}: score is NaN")
        pairs.append((parts[0].strip(), parts[1].strip(), score))
        lines.append(no)
    if not pairs:
        raise FirthError(f"{path}: no word pairs found (expected 'word1<TAB>word2<TAB>score' lines)")
    return PairSet(Path(path).stem, str(path), pairs, lines)


@dataclass
class AnalogySection:
    name: str
    questions: list[tuple[str, str, str, str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """Google-set convention: ``gram*`` sections are syntactic, the rest semantic."""
        return "syntactic" if self.name.startswith("gram") else "semantic"


def read_analogies(path) -> list[AnalogySection]:
    """An analogy file in the word2vec ``questions-words.txt`` format."""
    sections: list[AnalogySection] = []
    for no, line in enumerate(_read_lines(path), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith(":"):
            name = s[1:].strip()
            if not name:
                raise FirthError(f"{path}:{no}: section header ':' has no name")
            sections.append(AnalogySection(name))
            continue
        parts = s.split()
        if len(parts) != 4:
            raise FirthError(f"{path}:{no}: expected 4 words 'a b c d' (a is to b as c is to d), "
                             f"got {len(parts)}: {s[:80]!r}")
        if not sections:
            raise FirthError(f"{path}:{no}: question before the first ': section' header")
        sections[-1].questions.append(tuple(parts))
        sections[-1].lines.append(no)
    sections = [s for s in sections if s.questions]
    if not sections:
        raise FirthError(f"{path}: no analogy questions found (expected ': section' then 'a b c d' lines)")
    return sections


@dataclass
class WeatTest:
    id: str
    name: str
    targets: list[tuple[str, list[str]]]  # (X name, words), (Y name, words)
    attributes: list[tuple[str, list[str]]]  # (A name, words), (B name, words)
    extra: dict = field(default_factory=dict)


def read_weat(path) -> list[WeatTest]:
    """WEAT tests from JSON: a list of tests (the bundled weat.json format) or one test."""
    p = Path(path)
    text = "\n".join(_read_lines(p))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise FirthError(f"{p}:{e.lineno}: not valid JSON ({e.msg})") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data:
        raise FirthError(f"{p}: expected a JSON list of WEAT tests (or one test object)")
    tests = []
    for k, t in enumerate(data):
        where = f"{p}: test {k + 1}"
        if not isinstance(t, dict):
            raise FirthError(f"{where}: expected an object with 'targets' and 'attributes'")
        tid = str(t.get("id") or t.get("name") or f"test{k + 1}")
        where = f"{p}: test {tid!r}"
        groups = {}
        for key in ("targets", "attributes"):
            g = t.get(key)
            if not isinstance(g, dict) or len(g) != 2:
                raise FirthError(f"{where}: '{key}' must be an object with exactly two named word lists")
            sets = []
            for name, words in g.items():
                if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
                    raise FirthError(f"{where}: {key} set {name!r} must be a list of words")
                words = [w.strip() for w in words if w.strip()]
                if not words:
                    raise FirthError(f"{where}: {key} set {name!r} is empty; give at least one word")
                sets.append((str(name), words))
            groups[key] = sets
        extra = {k2: v for k2, v in t.items() if k2 not in ("id", "name", "targets", "attributes")}
        tests.append(WeatTest(tid, str(t.get("name", tid)), groups["targets"], groups["attributes"], extra))
    return tests


def read_word_pairs(path) -> list[tuple[str, str]]:
    """A plain two-column word pair list (antonyms / synonyms); a third column is ignored."""
    out = []
    for no, line in enumerate(_read_lines(path), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        parts = s.split("\t") if "\t" in s else s.split()
        if len(parts) < 2:
            raise FirthError(f"{path}:{no}: expected 'word1<TAB>word2', got {s[:80]!r}")
        out.append((parts[0].strip(), parts[1].strip()))
    if not out:
        raise FirthError(f"{path}: no word pairs found")
    return out
