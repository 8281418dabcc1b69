"""Streaming corpus reading, and pre-encoding a corpus to integer word ids.

A corpus is one or more files (or directories of files, read in sorted order), each with
one sentence or document per line and whitespace-separated tokens. ``.gz``, ``.bz2`` and
``.xz`` files are decompressed transparently (detected by content, not by name).

Files are read in blocks of bytes, never line by line, so a text8-style file that is one
enormous line costs no more memory than any other: its tokens are cut into "sentences" of
at most ``max_sentence_length`` tokens (10,000 by default, as word2vec.c and gensim do),
and unlike gensim no token is ever dropped.

Two ways to use it:

* ``Corpus(paths, normalizer).sentences()`` yields lists of (normalised) tokens;
* ``encode_corpus(corpus, workdir)`` reads the text ONCE, building the raw vocabulary
  (counts) and writing every token as a provisional int32 id to a memory-mapped file;
  ``EncodedCorpus.remap(...)`` then applies the pruned, frequency-ordered vocabulary in
  place (dropping pruned words, as word2vec does before windowing). Training threads work
  on the ids and the sentence offsets with no Python per sentence.

Memory is bounded by the vocabulary (the token -> id dictionary), not by the corpus size.
"""

from __future__ import annotations

import lzma
import mmap
import os
import tempfile
import zlib
from array import array
from pathlib import Path
from typing import Iterator

import numpy as np

from firth.errors import FirthError
from firth.io import open_binary
from firth.text import Normalizer

MAX_SENTENCE_LENGTH = 10_000
BLOCK_SIZE = 1 << 20
REMAP_CHUNK = 1 << 22  # tokens remapped between two releases of the ids' pages
_WS = (b" ", b"\n", b"\t", b"\r", b"\x0b", b"\x0c")


# ---------------------------------------------------------------------------- files


def expand_paths(paths) -> list[Path]:
    """Files named by ``paths`` (a path or a list); directories give their files, sorted."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files = sorted(
                q for q in p.rglob("*") if q.is_file() and not any(part.startswith(".") for part in q.relative_to(p).parts)
            )
            if not files:
                raise FirthError(f"{p}: directory has no files; give a corpus file or a directory of text files")
            out.extend(files)
        elif not p.exists():
            raise FirthError(f"{p}: no such corpus file")
        else:
            out.append(p)
    if not out:
        raise FirthError("no corpus files given")
    return out


def _normalize_fn(normalizer):
    """A function raw token -> normalised token ('' = drop), or None for identity
    (a :class:`~firth.text.Normalizer` with nothing to do costs nothing)."""
    if normalizer is None:
        return None
    if isinstance(normalizer, Normalizer):
        return None if normalizer.is_identity else normalizer
    if callable(normalizer):
        return normalizer
    raise TypeError(f"normalizer must be a firth.text.Normalizer or a function, got {type(normalizer).__name__}")


def iter_blocks(path: Path, block_size: int | None = None, raw: bool = False) -> Iterator[tuple[str, int, int]]:
    """Yield (text, byte offset of its start, line number of its start) for one file.

    With ``raw=True`` the block is yielded as (validated UTF-8) bytes instead of text.

    Each block ends at whitespace (tokens are never split between blocks). Raises a
    one-line FirthError for an empty file or bytes that are not UTF-8 (with line and
    byte offset).
    """
    if block_size is None:
        block_size = BLOCK_SIZE
    f = open_binary(path)
    try:
        carry = b""
        offset = 0  # byte offset of carry[0] in the (decompressed) stream
        line = 1
        seen_any = False
        while True:
            try:
                block = f.read(block_size)
            except (OSError, EOFError, ValueError, lzma.LZMAError, zlib.error) as e:  # corrupt gzip/xz/bz2
                raise FirthError(f"{path}: cannot read compressed data ({e})") from None
            eof = not block
            if block:
                seen_any = True
            data = carry + block
            if not data:
                break
            if eof:
                cut = len(data)
            else:
                cut = max(data.rfind(w) for w in _WS) + 1
                if cut <= 0:  # no whitespace yet: one huge token, keep reading
                    carry = data
                    continue
            seg = data[:cut]
            carry = data[cut:]
            try:
                text = seg.decode("utf-8")
            except UnicodeDecodeError as e:
                bad_line = line + seg.count(b"\n", 0, e.start)
                raise FirthError(
                    f"{path}: line {bad_line} (byte offset {offset + e.start}): not UTF-8 text "
                    f"(byte 0x{seg[e.start]:02x}); re-encode the file as UTF-8"
                ) from None
            yield (seg if raw else text), offset, line
            offset += cut
            line += seg.count(b"\n")
            if eof:
                break
        if not seen_any:
            raise FirthError(f"{path}: corpus file is empty")
    finally:
        f.close()


class Corpus:
    """A re-iterable streaming corpus: files/directories, one sentence per line."""

    def __init__(self, paths, normalizer=None, max_sentence_length: int = MAX_SENTENCE_LENGTH):
        self.paths = expand_paths(paths)
        self.normalizer = normalizer
        if max_sentence_length < 1:
            raise FirthError(f"max_sentence_length: must be >= 1, got {max_sentence_length}")
        self.max_sentence_length = int(max_sentence_length)

    def __iter__(self):
        return self.sentences()

    def sentences(self) -> Iterator[list[str]]:
        """Yield sentences as lists of normalised tokens (empty tokens dropped)."""
        norm = _normalize_fn(self.normalizer)
        cache: dict[str, str] = {}
        limit = self.max_sentence_length
        for path in self.paths:
            cur: list[str] = []
            for text, _, _ in iter_blocks(path):
                lines = text.split("\n")
                for k, ln in enumerate(lines):
                    toks = ln.split()
                    if norm is not None and toks:
                        out = []
                        for t in toks:
                            n = cache.get(t)
                            if n is None:
                                n = cache[t] = norm(t)
                            if n:
                                out.append(n)
                        toks = out
                    if toks:
                        cur.extend(toks)
                        while len(cur) >= limit:
                            yield cur[:limit]
                            cur = cur[limit:]
                    if k < len(lines) - 1 and cur:  # a newline ends the sentence
                        yield cur
                        cur = []
            if cur:
                yield cur


# ---------------------------------------------------------------------------- encoding


class _RawVocab(dict):
    """raw token -> provisional id; a miss normalises the token and assigns an id."""

    def __init__(self, norm):
        super().__init__()
        self.norm = norm
        self.words: list[str] = []  # provisional id -> normalised word
        self.word_id: dict[str, int] = {}

    def __missing__(self, raw):
        w = self.norm(raw) if self.norm is not None else raw
        if not w:
            i = -1
        else:
            i = self.word_id.get(w)
            if i is None:
                i = self.word_id[w] = len(self.words)
                self.words.append(w)
        self[raw] = i
        return i


class EncodedCorpus:
    """A corpus as int32 word ids in a memory-mapped file plus int64 sentence offsets.

    ``ids[offsets[s]:offsets[s+1]]`` are the ids of sentence ``s``. Before ``remap`` the ids
    are provisional (first-occurrence order, ``words``/``counts`` give the raw vocabulary).
    """

    def __init__(self, ids_path: Path, n_tokens: int, offsets: np.ndarray, words: list[str], counts: np.ndarray, workdir):
        self.ids_path = Path(ids_path)
        self.n_tokens = int(n_tokens)
        self.offsets = offsets
        self.words = words
        self.counts = counts
        self._workdir = workdir  # a TemporaryDirectory kept alive with this object
        self._ids = None
        self._mm = None  # the np.memmap behind ids (its pages can be released, see release())
        self.premap = None  # raw token id -> provisional word id, applied at remap time

    @property
    def ids(self) -> np.ndarray:
        if self._ids is None:
            if self.n_tokens == 0:
                self._ids = np.zeros(0, dtype=np.int32)
            else:
                if self._workdir is None:  # closed: its file (a /proc/self/fd link) is gone
                    raise FirthError("the encoded corpus was closed; encode the corpus again")
                self._mm = np.memmap(self.ids_path, dtype=np.int32, mode="r+", shape=(self.n_tokens,))
                self._ids = self._mm.view(np.ndarray)
        return self._ids

    def release(self, s0: int = 0, s1: int | None = None) -> None:
        """Drop the pages of sentences [s0, s1) from this process's resident memory.

        Why: the ids are a shared file mapping, so pages a job has read stay counted in the
        process's RSS although the OS page cache holds them anyway. ``MADV_DONTNEED`` unmaps
        them (written data is kept: the mapping is shared with the file); the next read maps
        them again from the page cache. Only whole pages inside the range are dropped, so
        threads working on neighbouring ranges are never disturbed.
        """
        s1 = self.n_sentences if s1 is None else s1
        self._release_bytes(int(self.offsets[s0]) * 4, int(self.offsets[s1]) * 4)

    def _release_bytes(self, a: int, b: int) -> None:
        mm = getattr(self._mm, "_mmap", None)
        if mm is None or not hasattr(mm, "madvise") or not hasattr(mmap, "MADV_DONTNEED"):
            return
        page = mmap.PAGESIZE
        a = -(-a // page) * page
        b = min(b, len(mm)) // page * page
        if b > a:
            mm.madvise(mmap.MADV_DONTNEED, a, b - a)

    @property
    def n_sentences(self) -> int:
        return len(self.offsets) - 1

    def remap(self, mapping: np.ndarray) -> None:
        """Replace provisional ids by ``mapping[id]``; ids mapped to -1 are removed (in place)."""
        from firth.train.kernels import compact_remap

        mapping = np.ascontiguousarray(mapping, dtype=np.int32)
        if self.premap is not None:
            pm = self.premap
            mapping = np.where(pm >= 0, mapping[np.maximum(pm, 0)], -1).astype(np.int32)
            self.premap = None
        ids = self.ids
        new_offsets = np.empty_like(self.offsets)
        # in chunks of ~4M tokens, releasing the pages behind each (writes never pass reads)
        n, s, ns = 0, 0, self.n_sentences
        new_offsets[0] = 0
        while s < ns:
            e = int(np.searchsorted(self.offsets, self.offsets[s] + REMAP_CHUNK, side="right")) - 1
            e = min(max(e, s + 1), ns)
            w0 = n  # this chunk writes from w0 (never past its reads) and reads up to offsets[e]
            n = compact_remap(ids, self.offsets, mapping, new_offsets, s, e, n)
            self._release_bytes(w0 * 4, int(self.offsets[e]) * 4)
            s = e
        # drop sentences that became empty
        keep = np.concatenate([[True], np.diff(new_offsets) > 0])
        self.offsets = np.ascontiguousarray(new_offsets[keep])
        self.n_tokens = int(n)
        self._ids = ids[:n]

    def sentence(self, s: int) -> np.ndarray:
        return self.ids[self.offsets[s] : self.offsets[s + 1]]

    def close(self):
        self._ids = None
        self._mm = None
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None


class TempIds:
    """The temporary file of a corpus' ids, never left behind.

    On Linux the file is created, kept open, and its name and directory are removed at once:
    the ids live in an unnamed file reached through ``/proc/self/fd``, which the kernel frees
    however the process ends (SIGTERM, Ctrl-C, SIGKILL, a crash). Elsewhere: a
    ``firth-corpus-*`` temporary directory removed by ``cleanup()`` (called on every error,
    interruption and ``close()``).
    """

    def __init__(self, workdir=None):
        self._dir = tempfile.TemporaryDirectory(prefix="firth-corpus-", dir=workdir)
        self.path = Path(self._dir.name) / "ids.i32"
        self._fd = None
        if os.path.isdir("/proc/self/fd"):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            except OSError:
                return
            self._fd = fd
            try:
                os.unlink(self.path)
                self._dir.cleanup()
            except OSError:
                pass
            self.path = Path(f"/proc/self/fd/{fd}")

    def cleanup(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass
        self._dir.cleanup()

    def __del__(self):
        try:
            self.cleanup()
        except Exception:
            pass


def encode_corpus(source, normalizer=None, max_sentence_length: int = MAX_SENTENCE_LENGTH, workdir=None,
                  workers: int = 1) -> EncodedCorpus:
    """Read ``source`` once: count words and write provisional ids to a temp file.

    ``source`` is a path, a list of paths, a ``Corpus``, or an iterable of token lists
    (in-memory sentences; ``normalizer`` is then applied to their tokens too). Files go
    through the Numba tokenizer unless the normaliser may drop tokens; the rest through
    :class:`_IdWriter`. With ``workers > 1`` files are tokenised by that many threads
    (``firth.train.encode_parallel``): the same words, counts, ids and sentences.
    """
    paths, normalizer, limit = _resolve_source(source, normalizer, max_sentence_length)
    tmp = TempIds(workdir)
    try:
        if paths is not None and _fast_ok(normalizer):
            if workers > 1:
                return _encode_files_parallel(paths, normalizer, limit, tmp, tmp.path, int(workers))
            return _encode_files_fast(paths, normalizer, limit, tmp, tmp.path)
        vocab = _RawVocab(_normalize_fn(normalizer))
        with open(tmp.path, "wb") as out:
            writer = _IdWriter(out, vocab, limit)
            for toks, ends in _pieces(paths, source):
                writer.add(toks)
                if ends:
                    writer.end_sentence()
            writer.end_sentence()
            writer.flush()
        if writer.n_tokens == 0:
            where = ", ".join(str(p) for p in paths[:3]) + (" ..." if len(paths) > 3 else "") if paths else "corpus"
            raise FirthError(f"{where}: the corpus has no tokens; give a non-empty text file")
    except BaseException:
        tmp.cleanup()
        raise
    ids = np.memmap(tmp.path, dtype=np.int32, mode="r", shape=(writer.n_tokens,))
    counts = np.bincount(ids, minlength=len(vocab.words)).astype(np.int64)
    del ids
    offsets = np.frombuffer(writer.offsets, dtype=np.int64).copy()
    return EncodedCorpus(tmp.path, writer.n_tokens, offsets, vocab.words, counts, tmp)


def _resolve_source(source, normalizer, max_sentence_length):
    """(paths or None for in-memory sentences, normaliser, sentence length limit)."""
    if isinstance(source, Corpus):
        paths = source.paths
        normalizer = source.normalizer if normalizer is None else normalizer
        max_sentence_length = source.max_sentence_length
    elif isinstance(source, (str, os.PathLike)) or (
        isinstance(source, (list, tuple)) and source and all(isinstance(p, (str, os.PathLike)) for p in source)
    ):
        paths = expand_paths(source)
    else:
        paths = None
    if max_sentence_length < 1:
        raise FirthError(f"max_sentence_length: must be >= 1, got {max_sentence_length}")
    return paths, normalizer, int(max_sentence_length)


def _pieces(paths, sentences):
    """(tokens, ends a sentence) pieces of the files (a line ends a sentence; a file too) or
    of in-memory token lists."""
    if paths is None:
        for sent in sentences:
            if isinstance(sent, str):
                raise FirthError("corpus: expected an iterable of token lists, got a string in it (split it into tokens)")
            yield list(sent), True
        return
    for path in paths:
        for text, _, _ in iter_blocks(path):
            lines = text.split("\n")
            last = len(lines) - 1
            for k, ln in enumerate(lines):
                yield ln.split(), k < last
        yield [], True


class _IdWriter:
    """Provisional ids written to ``out`` in blocks, and sentence offsets; a sentence longer
    than ``limit`` tokens is cut every ``limit`` tokens (no token dropped)."""

    def __init__(self, out, vocab: "_RawVocab", limit: int):
        self.out = out
        self.vocab = vocab
        self.limit = limit
        self.offsets = array("q", [0])  # sentence boundaries (8 bytes per sentence)
        self.n_tokens = 0
        self.cur = 0  # tokens in the current sentence
        self.pending: list[np.ndarray] = []
        self.pending_n = 0

    def flush(self):
        if self.pending:
            self.out.write(np.concatenate(self.pending).tobytes())
            self.pending = []
            self.pending_n = 0

    def add(self, toks):
        """Encode tokens of the current sentence."""
        if not toks:
            return
        arr = np.fromiter(map(self.vocab.__getitem__, toks), dtype=np.int32, count=len(toks))
        if self.vocab.norm is not None and (arr < 0).any():
            arr = arr[arr >= 0]
        m = len(arr)
        if not m:
            return
        self.pending.append(arr)
        self.pending_n += m
        start = self.n_tokens
        self.n_tokens += m
        while self.cur + (self.n_tokens - start) >= self.limit:
            start += self.limit - self.cur
            self.offsets.append(start)
            self.cur = 0
        self.cur += self.n_tokens - start
        if self.pending_n >= (1 << 22):
            self.flush()

    def end_sentence(self):
        if self.cur:
            self.offsets.append(self.n_tokens)
            self.cur = 0


def _fast_ok(normalizer) -> bool:
    """The Numba tokenizer is used unless the normaliser may turn a token into nothing."""
    if _normalize_fn(normalizer) is None:
        return True
    return isinstance(normalizer, Normalizer) and normalizer.punct == "keep"


def _encode_files_fast(paths, normalizer, limit, tmp, ids_path) -> EncodedCorpus:
    """encode_corpus for files: Numba tokenizer on validated UTF-8 blocks."""
    from firth.train.kernels import Interner, tokenize

    it = Interner()
    offsets = array("q", [0])
    state = np.zeros(2, np.int64)  # tokens in current sentence, tokens so far
    ids = np.empty(0, np.int32)
    bounds = np.empty(0, np.int64)
    with open(ids_path, "wb") as out:
        for path in paths:
            for seg, _, _ in iter_blocks(path, raw=True):
                data = np.frombuffer(seg, dtype=np.uint8)
                n = len(data)
                if len(ids) < n // 2 + 2:
                    ids = np.empty(n // 2 + 2, np.int32)
                nbmax = seg.count(b"\n") + (n // 2 + 2) // limit + 2
                if len(bounds) < nbmax:
                    bounds = np.empty(nbmax, np.int64)
                pos = nid = nb = 0
                while pos < n:
                    pos, nid, nb, nw = tokenize(data, pos, it.table, it.tabh, it.whash, it.wbytes, it.woff, it.nw, ids, nid, bounds, nb, state, limit)
                    it.nw = nw
                    if pos < n:
                        it.grow(n - pos)
                if nid:
                    out.write(ids[:nid].tobytes())
                if nb:
                    offsets.frombytes(bounds[:nb].tobytes())
            if state[0] > 0:  # end of file ends the sentence
                offsets.append(int(state[1]))
                state[0] = 0
    n_tokens = int(state[1])
    raw_words = it.words()
    del it
    if n_tokens == 0:
        _no_tokens(paths)
    raw_counts = np.zeros(len(raw_words), np.int64)
    with open(ids_path, "rb") as f:  # in chunks: the ids never all sit in this process's memory
        while True:
            chunk = np.fromfile(f, dtype=np.int32, count=1 << 22)
            if not len(chunk):
                break
            raw_counts += np.bincount(chunk, minlength=len(raw_words))
    return _normalized(raw_words, raw_counts, offsets, n_tokens, normalizer, tmp, ids_path)


def _no_tokens(paths):
    where = ", ".join(str(p) for p in paths[:3]) + (" ..." if len(paths) > 3 else "")
    raise FirthError(f"{where}: the corpus has no tokens; give a non-empty text file")


def _encode_files_parallel(paths, normalizer, limit, tmp, ids_path, workers: int) -> EncodedCorpus:
    """encode_corpus for files with ``workers`` tokenizer threads (same result as one)."""
    from firth.train.encode_parallel import encode_files_parallel

    raw_words, raw_counts, offsets, n_tokens = encode_files_parallel(paths, ids_path, limit, workers, iter_blocks)
    if n_tokens == 0:
        _no_tokens(paths)
    return _normalized(raw_words, raw_counts, offsets, n_tokens, normalizer, tmp, ids_path)


def _normalized(raw_words, raw_counts, offsets, n_tokens, normalizer, tmp, ids_path) -> EncodedCorpus:
    """The EncodedCorpus of raw words and counts, merged by the normaliser (applied at remap)."""
    norm = _normalize_fn(normalizer)
    premap = None
    if norm is None:
        words, counts = raw_words, raw_counts
    else:
        index: dict[str, int] = {}
        words = []
        premap = np.empty(len(raw_words), np.int32)
        for i, w in enumerate(raw_words):
            nw_ = norm(w)
            j = index.get(nw_)
            if j is None:
                j = index[nw_] = len(words)
                words.append(nw_)
            premap[i] = j
        counts = np.zeros(len(words), np.int64)
        np.add.at(counts, premap, raw_counts)
    enc = EncodedCorpus(ids_path, n_tokens, np.frombuffer(offsets, dtype=np.int64).copy(), words, counts, tmp)
    enc.premap = premap
    return enc
