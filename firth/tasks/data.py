"""Task data: classification (``label<TAB>text``) and CoNLL-style tagging files.

Every reader raises a one-line :class:`~firth.errors.FirthError` naming the file and the
line for bad input (a line without a tab, an empty text, an unknown label at test time,
inconsistent column counts), so the CLI can print it as is.

Classification
    One example per line, ``label<TAB>text``; the text is split on whitespace into tokens.
    Blank lines are skipped. fastText's supervised format is accepted too, detected from the
    content (the first line's first token starts with ``__label__``): every token starting
    with ``__label__`` is a label, wherever it is on the line (as fastText's
    ``Dictionary::getLine`` reads it), the rest is the text; a line may have several labels
    (``--loss ova`` learns them all). Labels are stored without the ``__label__`` prefix.
Tagging (CoNLL)
    One token per line, columns separated by a tab (or, if a line has no tab, by spaces);
    the token is the first column and the gold tag is in a chosen column (default the last,
    ``column=-1``). A blank line ends a sentence; ``-DOCSTART-`` lines are skipped. Every
    non-blank line of a file must have the same number of columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from firth.errors import FirthError
from firth.io import open_text

DOCSTART = "-DOCSTART-"
LABEL_PREFIX = "__label__"  # fastText's default -label


@dataclass
class TextExample:
    label: str | None  # the (first) label
    tokens: list[str]
    labels: list[str] = field(default_factory=list)  # every label of the line (fastText format: maybe several)
    line: int = 0

    def __post_init__(self):
        if not self.labels and self.label is not None:
            self.labels = [self.label]


@dataclass
class TaggedSentence:
    tokens: list[str]
    tags: list[str] | None = None
    columns: list[list[str]] = field(default_factory=list)  # the full rows, for output


def _lines(path):
    with open_text(path) as f:
        try:
            for lineno, line in enumerate(f, 1):
                yield lineno, line.rstrip("\n").rstrip("\r")
        except UnicodeDecodeError as e:
            raise FirthError(f"{path}: not valid UTF-8 ({e.reason} at byte {e.start}); convert it to UTF-8") from None


def read_classification(path, labels=None) -> list[TextExample]:
    """Read ``label<TAB>text`` lines.

    ``labels``: the label set known to a trained model (test time); a label outside it is an
    error naming the line. Returns a list of :class:`TextExample`.
    """
    known = set(labels) if labels is not None else None
    if is_fasttext_supervised(path):
        return _read_fasttext_supervised(path, known)
    out = []
    # one str object per distinct token: a long-document file's token lists take a sixth of the memory
    one = {}.setdefault
    for lineno, line in _lines(path):
        if not line.strip():
            continue
        if "\t" not in line:
            raise FirthError(f"{path}:{lineno}: no tab; each line must be 'label<TAB>text'")
        label, text = line.split("\t", 1)
        label = label.strip()
        if not label:
            raise FirthError(f"{path}:{lineno}: empty label; each line must be 'label<TAB>text'")
        tokens = [one(t, t) for t in text.split()]
        if not tokens:
            raise FirthError(f"{path}:{lineno}: empty text after the tab; each line must be 'label<TAB>text'")
        if known is not None and label not in known:
            shown = ", ".join(sorted(known)[:10]) + (", ..." if len(known) > 10 else "")
            raise FirthError(f"{path}:{lineno}: unknown label {label!r}; the model knows: {shown}")
        out.append(TextExample(label, tokens, line=lineno))
    if not out:
        raise FirthError(f"{path}: no examples; expected lines 'label<TAB>text'")
    return out


def is_fasttext_supervised(path) -> bool:
    """Whether the first non-blank line starts with a ``__label__`` token."""
    for _, line in _lines(path):
        if line.strip():
            return line.split()[0].startswith(LABEL_PREFIX)
    return False


def _read_fasttext_supervised(path, known) -> list[TextExample]:
    out = []
    one = {}.setdefault  # one str object per distinct token (see read_classification)
    for lineno, line in _lines(path):
        toks = [one(t, t) for t in line.split()]
        if not toks:
            continue
        labs = [t[len(LABEL_PREFIX):] for t in toks if t.startswith(LABEL_PREFIX)]
        words = [t for t in toks if not t.startswith(LABEL_PREFIX)]
        if not labs:
            raise FirthError(f"{path}:{lineno}: no __label__ token; fastText format lines are '__label__X words...'")
        if any(not lab for lab in labs):
            raise FirthError(f"{path}:{lineno}: empty label ('__label__' alone)")
        if not words:
            raise FirthError(f"{path}:{lineno}: no text besides the labels")
        labs = list(dict.fromkeys(labs))  # a label repeated on a line counts once
        for lab in labs:
            if known is not None and lab not in known:
                shown = ", ".join(sorted(known)[:10]) + (", ..." if len(known) > 10 else "")
                raise FirthError(f"{path}:{lineno}: unknown label {lab!r}; the model knows: {shown}")
        out.append(TextExample(labs[0], words, labs, lineno))
    if not out:
        raise FirthError(f"{path}: no examples; expected lines '__label__X text'")
    return out


def read_texts(stream, name="<stdin>") -> list[list[str]]:
    """Read raw texts, one per line (for ``predict``); empty lines give empty token lists."""
    return [line.split() for line in stream]


def read_conll(path, column: int = -1, require_tags: bool = True, tags=None) -> list[TaggedSentence]:
    """Read a CoNLL-style file into sentences of (tokens, tags).

    ``column`` selects the gold tag column (Python indexing over the columns, default the
    last). The token is always column 0, so a tagged file needs at least two columns.
    ``tags``: the tag set of a trained model (test time); an unknown gold tag is an error.
    """
    known = set(tags) if tags is not None else None
    sents: list[TaggedSentence] = []
    ncols = None
    first_line = None
    rows: list[list[str]] = []

    def flush():
        if rows:
            toks = [r[0] for r in rows]
            tags = [r[column] for r in rows] if require_tags else None
            sents.append(TaggedSentence(toks, tags, [list(r) for r in rows]))
            rows.clear()

    for lineno, line in _lines(path):
        if not line.strip():
            flush()
            continue
        cols = line.split("\t") if "\t" in line else line.split()
        cols = [c.strip() for c in cols]
        if cols[0] == DOCSTART:
            flush()
            continue
        if ncols is None:
            ncols = len(cols)
            first_line = lineno
            if require_tags:
                if ncols < 2:
                    raise FirthError(
                        f"{path}:{lineno}: one column only; expected 'token<TAB>tag' (token first, tag in a later column)"
                    )
                if not -ncols <= column < ncols or column in (0, -ncols):
                    raise FirthError(
                        f"{path}:{lineno}: --column {column} is not a tag column of a {ncols}-column file "
                        f"(use 1..{ncols - 1} or -1..-{ncols - 1})"
                    )
        elif len(cols) != ncols:
            raise FirthError(
                f"{path}:{lineno}: {len(cols)} columns, but line {first_line} has {ncols}; "
                "every token line must have the same number of columns"
            )
        if any(not c for c in cols):
            raise FirthError(f"{path}:{lineno}: empty column; columns are separated by one tab or by spaces")
        if known is not None and cols[column] not in known:
            raise FirthError(f"{path}:{lineno}: unknown tag {cols[column]!r}; the model knows {len(known)} tags")
        rows.append(cols)
    flush()
    if not sents:
        raise FirthError(f"{path}: no sentences; expected CoNLL lines 'token<TAB>tag' with blank lines between sentences")
    return sents


def holdout_split(n: int, fraction: float = 0.1, seed: int = 0):
    """Indices (train, dev) holding out ``fraction`` of ``n`` items, seeded (NumPy RandomState)."""
    perm = np.random.RandomState(seed).permutation(n)
    k = max(1, int(round(n * fraction))) if n > 1 else 0
    return np.sort(perm[k:]), np.sort(perm[:k])


class Labels:
    """A fixed label set: index <-> string, in first-seen order of the training data."""

    def __init__(self, names):
        self.names = list(names)
        self.index = {n: i for i, n in enumerate(self.names)}

    @classmethod
    def from_data(cls, labels):
        seen = {}
        for lab in labels:
            seen.setdefault(lab, None)
        return cls(sorted(seen))

    def __len__(self):
        return len(self.names)

    def encode(self, labels):
        return np.array([self.index[x] for x in labels], dtype=np.int64)
