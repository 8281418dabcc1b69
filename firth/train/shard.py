"""Each rank's own share of a corpus, as byte ranges of its files, and the merge of the
ranks' word counts into one vocabulary identical to the single-process one.

No torch here: the collectives live in :mod:`firth.train.distributed`; this module is plain
file arithmetic, testable without a process group.

**Shares.** The files are laid end to end (in the order ``expand_paths`` gives) and the
total byte count is cut into ``world_size`` equal parts. Each cut point is moved forward to
a line end when one follows within ``LINE_SEARCH`` bytes, otherwise to the next whitespace
(a text8-style file is one line of millions of words, so a line end may be 200 MB away).
Both ranks that meet at a cut compute it from the same bytes, so every byte belongs to
exactly one rank and no token is ever split. A compressed file cannot be entered in the
middle (no seek into a .xz/.gz/.bz2 stream), so it is one indivisible unit that goes whole
to the rank whose range holds its middle byte.

**Vocabulary.** Rank ``r``'s share precedes rank ``r+1``'s in the corpus, so listing the
ranks' words rank by rank, each rank's in its own first-occurrence order, and keeping the
first time each word appears gives the corpus' first-occurrence order; summing the counts
gives the corpus counts. ``Vocab.from_counts`` then prunes and orders exactly as a single
process does (decreasing count, ties by first occurrence): the same words, the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from firth.errors import FirthError
from firth.train.corpus import expand_paths

LINE_SEARCH = 1 << 16  # look this far past a cut for a line end before settling for whitespace
_WS = b" \n\t\r\x0b\x0c"
_COMPRESSED = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")  # gzip, bzip2, xz (as firth.io detects them)


@dataclass(frozen=True)
class Piece:
    """Bytes [start, end) of one corpus file (``whole``: the entire file, maybe compressed)."""

    path: Path
    start: int
    end: int
    whole: bool


def is_compressed(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(6)
    return any(head.startswith(m) for m in _COMPRESSED)


def _next_cut(f, size: int, pos: int) -> int:
    """The first position >= pos just after a line end (within LINE_SEARCH bytes) or else
    just after a whitespace byte; ``size`` when there is none. ``pos`` 0 and ``size`` stay."""
    if pos <= 0 or pos >= size:
        return min(max(pos, 0), size)
    f.seek(pos - 1)
    window = f.read(LINE_SEARCH + 1)  # includes the byte before pos: a cut right after it is fine
    nl = window.find(b"\n")
    if nl >= 0:
        return pos + nl
    start = pos - 1  # the byte index of window[0]
    while True:
        hits = [i for i in (window.find(bytes([w])) for w in _WS) if i >= 0]
        if hits:
            return start + min(hits) + 1
        start += len(window)
        window = f.read(1 << 20)
        if not window:
            return size


def plan_shares(paths, world_size: int) -> list[list[Piece]]:
    """Every rank's pieces (rank order = corpus order). Each rank can compute this alone: it
    reads only the bytes around the cut points. Raises a one-line FirthError when a rank
    would get nothing (more ranks than the corpus can feed)."""
    if world_size < 1:
        raise FirthError(f"world size: must be >= 1, got {world_size}")
    files = expand_paths(paths)
    units = []  # (path, size, splittable)
    for p in files:
        size = p.stat().st_size
        if size == 0:
            raise FirthError(f"{p}: corpus file is empty")
        units.append((p, size, not is_compressed(p)))
    total = sum(u[1] for u in units)
    bounds = [total * r // world_size for r in range(world_size + 1)]
    shares: list[list[Piece]] = [[] for _ in range(world_size)]
    offset = 0  # global byte offset of the current file's first byte
    for path, size, splittable in units:
        lo, hi = offset, offset + size
        if not splittable:  # whole, to the rank whose range holds its middle byte
            mid = (lo + hi) // 2
            r = max(k for k in range(world_size) if bounds[k] <= mid)
            shares[r].append(Piece(path, 0, size, True))
        else:
            with open(path, "rb") as f:
                cuts = [(_next_cut(f, size, min(max(b - lo, 0), size)) if lo < b < hi else (0 if b <= lo else size))
                        for b in bounds]
            for r in range(world_size):
                a, b = cuts[r], cuts[r + 1]
                if b > a:
                    shares[r].append(Piece(path, a, b, a == 0 and b == size))
        offset = hi
    empty = [r for r, s in enumerate(shares) if not s]
    if empty:
        n_comp = sum(1 for u in units if not u[2])
        why = (f"{n_comp} compressed file(s) cannot be cut into byte ranges; decompress them (e.g. xz -dk)"
               if n_comp else "the corpus is too small to share")
        raise FirthError(f"--distributed: rank {empty[0]} of {world_size} would get no part of the corpus "
                         f"({why}), or run fewer ranks")
    return shares


def materialize(pieces: list[Piece], workdir) -> list[Path]:
    """Paths ``encode_corpus`` can read for these pieces: whole files as they are, partial
    ones copied (only that byte range) into ``workdir``. Why a copy: the encoder reads files;
    a rank copies at most two partial pieces (its first and last), 1/world_size of the corpus."""
    out = []
    for k, pc in enumerate(pieces):
        if pc.whole:
            out.append(pc.path)
            continue
        dst = Path(workdir) / f"piece-{k}.txt"
        with open(pc.path, "rb") as src, open(dst, "wb") as g:
            src.seek(pc.start)
            left = pc.end - pc.start
            while left > 0:
                block = src.read(min(left, 1 << 22))
                if not block:
                    raise FirthError(f"{pc.path}: the file shrank while being read; do not change a corpus during training")
                g.write(block)
                left -= len(block)
        out.append(dst)
    return out


# ---------------------------------------------------------------------------- vocabulary


def pack_counts(words: list[str], counts) -> tuple[bytes, np.ndarray]:
    """A rank's raw vocabulary as bytes (words joined by newlines: a token never holds
    whitespace) and int64 counts, for sending without pickle."""
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    if len(words) != len(counts):
        raise ValueError("words and counts differ in length")
    return "\n".join(words).encode("utf-8"), counts


def unpack_counts(blob: bytes, counts: np.ndarray, rank: int) -> list[str]:
    words = blob.decode("utf-8").split("\n") if blob else []
    if len(words) != len(counts):
        raise FirthError(f"rank {rank}: sent {len(words)} words but {len(counts)} counts; the ranks run different firth versions?")
    return words


def merge_counts(per_rank: list[tuple[list[str], np.ndarray]]) -> tuple[list[str], np.ndarray]:
    """(words, counts) of the whole corpus from the ranks' (words, counts), in rank order:
    words in corpus first-occurrence order, counts summed."""
    index: dict[str, int] = {}
    words: list[str] = []
    parts = []
    for ws, cs in per_rank:
        ids = np.empty(len(ws), dtype=np.int64)
        for i, w in enumerate(ws):
            j = index.get(w)
            if j is None:
                j = index[w] = len(words)
                words.append(w)
            ids[i] = j
        parts.append((ids, np.asarray(cs, dtype=np.int64)))
    counts = np.zeros(len(words), dtype=np.int64)
    for ids, cs in parts:
        np.add.at(counts, ids, cs)
    return words, counts


def local_mapping(local_words: list[str], vocab_index: dict[str, int]) -> np.ndarray:
    """Each of a rank's raw words -> its id in the shared vocabulary (or -1: pruned)."""
    return np.array([vocab_index.get(w, -1) for w in local_words], dtype=np.int32)
