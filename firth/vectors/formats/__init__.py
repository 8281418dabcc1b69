"""Vector file formats: content detection, and one codec module per format.

* :mod:`~firth.vectors.formats.native`: firth's archive (zip of JSON + ``.npy``);
* :mod:`~firth.vectors.formats.word2vec`: word2vec C text / binary, fastText ``.vec``;
* :mod:`~firth.vectors.formats.fasttext_bin`: Facebook fastText ``.bin``.

The input format is detected from the file's content (magic number or header), never from
its name. Every write is atomic (temporary file + rename). The codecs read and write plain
data and never import the vectors classes; ``firth.vectors.load.load_vectors`` builds the
right class, and the classes write themselves with the codecs (see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import struct
from pathlib import Path

from firth.errors import FirthError
from firth.io import open_binary
from firth.vectors.formats.fasttext_bin import FASTTEXT_MAGIC
from firth.vectors.formats.native import ZIP_MAGIC

FORMATS = ("native", "word2vec-text", "word2vec-binary", "vec", "fasttext-bin")
_ZIP_MAGIC = ZIP_MAGIC
_FASTTEXT_MAGIC = struct.pack("<i", FASTTEXT_MAGIC)  # Facebook fastText .bin / .ftz


def is_vectors_file(path) -> bool:
    """Whether ``path`` holds vectors in a format firth reads (an output firth may replace)."""
    try:
        detect_format(path)
        return True
    except (FirthError, OSError):
        return False


def detect_format(path) -> str:
    """'native', 'fasttext-bin', 'word2vec-binary' or 'word2vec-text' (also .vec/GloVe text)."""
    path = Path(path)
    if not path.exists():
        raise FirthError(f"{path}: no such file")
    if path.is_dir():
        raise FirthError(f"{path}: is a directory, expected a vectors file")
    if path.stat().st_size == 0:
        raise FirthError(f"{path}: file is empty")
    with open(path, "rb") as f:
        head = f.read(64)
    if head.startswith(_ZIP_MAGIC):
        if head[30:40] == b"firth.json":
            return "native"
        raise FirthError(f"{path}: a zip archive, but not a firth vectors file (no firth.json first)")
    if head.startswith(_FASTTEXT_MAGIC):
        return "fasttext-bin"
    with open_binary(path) as f:
        header = f.readline(1024)
        try:
            first = header.decode("utf-8").split()
        except UnicodeDecodeError:
            raise FirthError(f"{path}: not a vectors file (first line is not UTF-8 text)") from None
        if len(first) == 2 and all(t.isdigit() for t in first):
            line = f.readline(min(int(first[1]), 1 << 20) * 40 + 4096)
            try:
                parts = _row_fields(line.decode("utf-8"))
                # a text row, even one whose width disagrees with the header (the reader then
                # names the line); raw float32 bytes practically never decode to "word 0.1 ..."
                if len(parts) >= 2:
                    [float(x) for x in parts[1:]]
                    return "word2vec-text"
            except (UnicodeDecodeError, ValueError):
                pass
            return "word2vec-binary"
        if len(first) > 2:
            try:
                [float(x) for x in first[1:]]
                return "word2vec-text"  # headerless text (GloVe style)
            except ValueError:
                pass
    raise FirthError(
        f"{path}: unrecognised vectors format (expected a firth archive, word2vec text/binary, "
        "a .vec file or a fastText .bin)"
    )


def _row_fields(text: str) -> list[str]:
    """A text row's fields: split on ' ' as word2vec.c writes them (a word may hold NBSP,
    U+3000, ...), or on any whitespace when that does not leave numbers after the word."""
    parts = text.rstrip("\r\n ").split(" ")
    try:
        [float(x) for x in parts[1:]]
        return parts
    except ValueError:
        return text.split()
