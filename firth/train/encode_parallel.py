"""Encoding a corpus with several threads: the same vocabulary and ids as one thread.

``encode_files_parallel`` is ``corpus._encode_files_fast`` (the one-thread Numba path, which
stays the reference, itself checked against the Python ``str.split`` + dict reader) spread
over ``workers`` threads. The text is read in blocks cut at whitespace, as before; each block
is a *chunk* tokenised by a worker thread in a ``nogil`` Numba call with a word table of its
own (ids in the chunk's first-occurrence order, per-word counts, and the token positions
where a line ends). The main thread takes the chunks back in file order and:

1. interns each chunk's words, in the chunk's order, into the global table
   (``merge_words``): a word gets the next global id the first time a chunk brings it, so
   the global ids are the whole text's first-occurrence order, as one thread gives;
2. maps the chunk's ids to global ids and adds its counts (``map_ids_count``), writes the
   ids to the temporary file, in order;
3. turns the chunk's line ends into sentence boundaries, carrying the open sentence over to
   the next chunk and cutting every ``max_sentence_length`` tokens (``_Sentences``): the
   boundaries one thread's tokenizer gives (a line ends a sentence if it has tokens, a
   sentence longer than the limit is cut every ``limit`` tokens, a file's end ends one).

So the vocabulary, counts, ids and sentence offsets are identical for any number of
workers, whatever the block size (``tests/train/test_corpus_parallel.py``).
"""

from __future__ import annotations

from array import array
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from firth.errors import FirthError
from firth.train.kernels import Interner, _intern, tokenize

NO_LIMIT = np.int64(1) << 62  # a chunk's tokenizer never cuts sentences: the merge does


@njit(nogil=True, cache=True)
def merge_words(lwbytes, lwoff, lwhash, lnw, k, table, tabh, whash, wbytes, woff, nw, lmap):
    """Intern local words k, k+1, ... (bytes ``lwbytes[lwoff[w]:lwoff[w+1]]``, hash
    ``lwhash[w]``) into the global table; ``lmap[w]`` = global id. Stops when the global table
    must grow (like ``tokenize``). Returns (next local word, global word count)."""
    size = table.shape[0]
    while k < lnw:
        tl = lwoff[k + 1] - lwoff[k]
        if nw * 2 >= size or woff[nw] + tl > wbytes.shape[0] or nw + 2 >= woff.shape[0]:
            break
        w, nw = _intern(lwbytes, lwoff[k], tl, lwhash[k], table, tabh, whash, wbytes, woff, nw)
        lmap[k] = w
        k += 1
    return k, nw


@njit(nogil=True, cache=True)
def map_ids_count(ids, n, lmap, lcounts, lnw, counts):
    """ids[:n] <- lmap[ids[:n]] in place; counts[lmap[w]] += lcounts[w]."""
    for i in range(n):
        ids[i] = lmap[ids[i]]
    for w in range(lnw):
        counts[lmap[w]] += lcounts[w]


@njit(nogil=True, cache=True)
def count_ids(ids, n, counts):
    """counts[:] = 0; counts[ids[k]] += 1 for k < n."""
    counts[:] = 0
    for i in range(n):
        counts[ids[i]] += 1


class _Chunk:
    """A worker's result for one block: local ids, line ends, word table and counts."""

    __slots__ = ("ids", "nid", "bounds", "nb", "it", "counts", "file_end")


def _tokenize_chunk(data: np.ndarray, file_end: bool) -> _Chunk:
    """Tokenise one block with a fresh local word table (runs in a worker thread; the Numba
    calls release the GIL)."""
    it = Interner()
    n = len(data)
    ids = np.empty(n // 2 + 2, np.int32)
    bounds = np.empty(int(np.count_nonzero(data == 10)) + 2, np.int64)
    # state[0] = 1: a newline before the chunk's first token ends the sentence carried in
    # from the previous chunk (the merge drops it if that sentence is empty)
    state = np.array([1, 0], np.int64)
    pos = nid = nb = 0
    while pos < n:
        pos, nid, nb, nw = tokenize(data, pos, it.table, it.tabh, it.whash, it.wbytes, it.woff, it.nw, ids, nid, bounds,
                                    nb, state, NO_LIMIT)
        it.nw = nw
        if pos < n:
            it.grow(n - pos)
    counts = np.empty(it.nw, np.int64)
    count_ids(ids, nid, counts)
    c = _Chunk()
    c.ids, c.nid, c.bounds, c.nb, c.it, c.counts, c.file_end = ids, nid, bounds, nb, it, counts, file_end
    return c


class _Sentences:
    """Sentence offsets from line ends at global token positions, cut every ``limit`` tokens
    (what ``tokenize`` does in one pass with its state, done here across chunks)."""

    def __init__(self, limit: int):
        self.limit = int(limit)
        self.offsets = array("q", [0])
        self.start = 0  # where the open sentence starts

    def end_at(self, ends: np.ndarray) -> None:
        """Sentences end at the (non-decreasing) global positions ``ends``; empty ones are dropped."""
        if not len(ends):
            return
        ends = ends[ends > self.start]
        if not len(ends):
            return
        starts = np.empty_like(ends)
        starts[0] = self.start
        starts[1:] = ends[:-1]
        keep = ends > starts
        ends, starts = ends[keep], starts[keep]
        lim = self.limit
        if int((ends - starts).max()) <= lim:
            self.offsets.frombytes(ends.astype(np.int64).tobytes())
        else:
            for a, b in zip(starts.tolist(), ends.tolist()):
                if b - a > lim:
                    self.offsets.frombytes(np.arange(a + lim, b, lim, dtype=np.int64).tobytes())
                self.offsets.append(b)
        self.start = int(ends[-1])

    def cut_open(self, g: int) -> None:
        """Emit the limit cuts of the open sentence up to global position ``g`` (tokens so far),
        so that a sentence of a single enormous line does not wait to the end of the file."""
        lim = self.limit
        if g - self.start >= lim:
            last = self.start + (g - self.start) // lim * lim
            self.offsets.frombytes(np.arange(self.start + lim, last + 1, lim, dtype=np.int64).tobytes())
            self.start = last


def encode_files_parallel(paths, ids_path, limit: int, workers: int, iter_blocks) -> tuple[list[str], np.ndarray, array, int]:
    """Tokenise ``paths`` with ``workers`` threads; write global provisional ids to ``ids_path``.

    Returns (raw words in first-occurrence order, their counts, sentence offsets, tokens):
    what the one-thread tokenizer gives for the same files.
    """
    g_it = Interner()
    counts = np.zeros(1 << 15, np.int64)
    sents = _Sentences(limit)
    g = 0  # tokens so far
    max_inflight = 2 * workers + 1

    def consume(c: _Chunk, out) -> None:
        nonlocal counts, g
        lit = c.it
        lmap = np.empty(lit.nw, np.int32)
        k = 0
        while k < lit.nw:
            k, g_it.nw = merge_words(lit.wbytes, lit.woff, lit.whash, lit.nw, k, g_it.table, g_it.tabh, g_it.whash,
                                     g_it.wbytes, g_it.woff, g_it.nw, lmap)
            if k < lit.nw:
                g_it.grow(int(lit.woff[lit.nw] - lit.woff[k]))
        if g_it.nw > len(counts):
            counts = np.concatenate([counts, np.zeros(max(len(counts), g_it.nw - len(counts)), np.int64)])
        map_ids_count(c.ids, c.nid, lmap, c.counts, lit.nw, counts)
        if c.nid:
            c.ids[: c.nid].tofile(out)
        # line ends (local positions, before which the line had tokens or the chunk began)
        sents.end_at(c.bounds[: c.nb] + g)
        g += c.nid
        if c.file_end:
            sents.end_at(np.array([g], np.int64))
        else:
            sents.cut_open(g)

    pending: deque = deque()
    with open(ids_path, "wb") as out, ThreadPoolExecutor(max_workers=workers, thread_name_prefix="firth-encode") as pool:
        try:
            for path in paths:
                blocks = iter_blocks(path, raw=True)
                nxt = next(blocks, None)
                while nxt is not None:
                    seg = nxt[0]
                    nxt = next(blocks, None)
                    pending.append(pool.submit(_tokenize_chunk, np.frombuffer(seg, dtype=np.uint8), nxt is None))
                    while len(pending) >= max_inflight or (pending and pending[0].done()):
                        consume(pending.popleft().result(), out)
            while pending:
                consume(pending.popleft().result(), out)
        except BaseException:
            for f in pending:
                f.cancel()
            raise
    if g_it.nw > len(counts):  # pragma: no cover - consume grows it
        raise FirthError("internal error: word counts shorter than the vocabulary")
    return g_it.words(), counts[: g_it.nw].copy(), sents.offsets, g
