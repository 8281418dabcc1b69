"""Facebook fastText model files: ``.bin`` read and write, ``.vec`` read and write.

The ``.bin`` layout (fastText 0.9, format version 12; all little-endian)::

    int32 magic 793712314, int32 version 12
    Args        int32 dim ws epoch minCount neg wordNgrams loss model bucket minn maxn
                lrUpdateRate; float64 t            (loss: 1 hs 2 ns 3 softmax 4 ova;
                                                    model: 1 cbow 2 skipgram 3 supervised)
    Dictionary  int32 size nwords nlabels; int64 ntokens pruneidx_size;
                size x (word bytes, NUL, int64 count, int8 type 0=word 1=label);
                pruneidx_size x (int32, int32)     (only in pruned = quantized models)
    bool quant_input; input matrix   int64 m (nwords + bucket), int64 n (dim), float32 m*n
    bool qout;        output matrix  int64 m (nwords, or nlabels when supervised), n, data

``pruneidx_size`` is -1 in an ordinary model (0 would mean "no n-grams at all" to fastText).
Reading checks every size against the file's length before touching data, so a truncated or
corrupt file gives one line naming the file; the input matrix is memory-mapped, and the
output matrix is only read when asked (``output=True``): word vectors need the input side only.

``.vec`` is word2vec's text format (:mod:`firth.vectors.formats.word2vec`).

A codec of plain data (:class:`FacebookModel` in, words and matrices out); it never imports
the vectors classes: ``load_vectors`` builds a ``FastTextVectors`` from what it reads, and
``FastTextVectors.save_facebook`` calls :func:`write_fasttext_bin`.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from firth.errors import FirthError
from firth.io import atomic_write

FASTTEXT_MAGIC = 793712314
FASTTEXT_VERSION = 12
_ARGS = ("dim", "ws", "epoch", "min_count", "neg", "word_ngrams", "loss", "model", "bucket", "minn", "maxn",
         "lr_update_rate")
LOSS_NAMES = {1: "hs", 2: "ns", 3: "softmax", 4: "ova"}
MODEL_NAMES = {1: "cbow", 2: "skipgram", 3: "supervised"}


@dataclass
class FacebookModel:
    """Everything in a Facebook ``.bin`` (matrices maybe memory-mapped; output maybe None)."""

    path: Path
    version: int
    args: dict
    words: list[str]
    counts: np.ndarray
    labels: list[str]
    label_counts: np.ndarray
    ntokens: int
    input: np.ndarray  # (nwords + bucket, dim): word rows then n-gram rows
    output: np.ndarray | None = None
    nwords_total: int = 0  # words in the file (before limit)
    notes: list[str] = field(default_factory=list)

    @property
    def model_name(self) -> str:
        return MODEL_NAMES.get(self.args["model"], str(self.args["model"]))


class _Reader:
    """Sequential reads that turn any shortfall into a one-line FirthError naming the file."""

    def __init__(self, path: Path):
        self.path = path
        self.size = os.path.getsize(path)
        self.f = open(path, "rb")
        self.buf = b""
        self.pos = 0  # position in file of buf[0]
        self.off = 0  # offset into buf

    def close(self):
        self.f.close()

    def tell(self) -> int:
        return self.pos + self.off

    def _fill(self, n: int, what: str):
        if len(self.buf) - self.off >= n:
            return
        rest = self.buf[self.off :]
        self.pos += self.off
        self.off = 0
        chunk = self.f.read(max(n - len(rest), 1 << 20))
        self.buf = rest + chunk
        if len(self.buf) < n:
            raise FirthError(f"{self.path}: truncated fastText model: file ends in the {what} (at byte {self.size})")

    def read(self, n: int, what: str) -> bytes:
        self._fill(n, what)
        out = self.buf[self.off : self.off + n]
        self.off += n
        return out

    def unpack(self, fmt: str, what: str):
        return struct.unpack(fmt, self.read(struct.calcsize(fmt), what))

    def cstring(self, what: str, max_len: int = 1 << 16) -> bytes:
        while True:
            j = self.buf.find(b"\0", self.off)
            if j >= 0:
                out = self.buf[self.off : j]
                self.off = j + 1
                return out
            if len(self.buf) - self.off > max_len:
                raise FirthError(f"{self.path}: corrupt fastText model: {what} has no end within {max_len} bytes")
            self._fill(len(self.buf) - self.off + 1, what)

    def seek(self, offset: int):
        self.f.seek(offset)
        self.pos, self.off, self.buf = offset, 0, b""


def _corrupt(path, msg):
    return FirthError(f"{path}: corrupt fastText model: {msg}")


def read_fasttext_bin(path, limit: int | None = None, output: bool = False, mmap: bool = True) -> FacebookModel:
    """Parse a Facebook fastText ``.bin``. ``limit`` keeps the first N words (most frequent);
    ``output=True`` also reads the output matrix (else only its header is checked)."""
    path = Path(path)
    if not path.exists():
        raise FirthError(f"{path}: no such file")
    if path.is_dir():
        raise FirthError(f"{path}: is a directory, expected a fastText .bin")
    r = _Reader(path)
    try:
        version, args = _read_header(r, path)
        d = _read_dictionary(r, path, limit)
        (in_off, m, n), (out_off, om, on) = _read_matrix_headers(r, path, args, d["nwords"], d["nlabels"])
    finally:
        r.close()
    if mmap and m * n:
        inp = np.memmap(path, dtype="<f4", mode="r", offset=in_off, shape=(m, n))
    else:
        inp = np.fromfile(path, dtype="<f4", count=m * n, offset=in_off).reshape(m, n)
    outm = None
    if output:
        outm = np.fromfile(path, dtype="<f4", count=om * on, offset=out_off).reshape(om, on)
        if limit is not None and om == d["nwords"]:
            outm = outm[: len(d["words"])]
    model = FacebookModel(
        path=path, version=version, args=args, words=d["words"], counts=d["counts"], labels=d["labels"],
        label_counts=d["label_counts"], ntokens=d["ntokens"], input=inp, output=outm, nwords_total=d["nwords"],
    )
    if args["model"] == 3:
        model.notes.append(
            f"a supervised fastText classifier ({d['nlabels']} labels, loss {LOSS_NAMES.get(args['loss'])}): "
            "only its word vectors are read; the labels and the classifier are ignored"
        )
    return model


def _read_header(r: "_Reader", path: Path):
    """Magic number, version and the training arguments: (version, args)."""
    head = r.read(8, "header") if r.size >= 8 else None
    if head is None:
        raise FirthError(f"{path}: not a fastText model: only {r.size} bytes")
    magic, version = struct.unpack("<ii", head)
    if magic != FASTTEXT_MAGIC:
        raise FirthError(f"{path}: not a Facebook fastText model (magic number {magic}, expected {FASTTEXT_MAGIC})")
    if version > FASTTEXT_VERSION or version < 11:
        raise FirthError(f"{path}: fastText model format version {version}; firth reads versions 11 and 12")
    vals = r.unpack("<12id", "arguments")
    args = dict(zip(_ARGS, vals[:12]))
    args["t"] = vals[12]
    _check_args(path, args)
    if version == 11 and args["model"] == 3:
        args["maxn"] = 0  # fastText: old supervised models have no char n-grams
    return version, args


def _read_dictionary(r: "_Reader", path: Path, limit: int | None) -> dict:
    """The dictionary: the first ``limit`` words (all without a limit) with their counts, the
    labels, the header's sizes and token count."""
    size, nwords, nlabels = r.unpack("<3i", "dictionary header")
    ntokens, pruneidx_size = r.unpack("<2q", "dictionary header")
    if not (0 <= nwords <= size and 0 <= nlabels and nwords + nlabels == size and size < 1 << 31):
        raise _corrupt(path, f"dictionary of {size} entries with {nwords} words and {nlabels} labels")
    if size * 10 > r.size:  # an entry takes at least 10 bytes (NUL, count, type)
        raise FirthError(f"{path}: truncated fastText model: {size} dictionary entries cannot fit in {r.size} bytes")
    keep = nwords if limit is None else min(int(limit), nwords)
    words, counts, labels, lcounts = [], np.empty(keep, np.int64), [], []
    wi = 0
    for i in range(size):
        raw = r.cstring(f"dictionary entry {i + 1}")
        cnt, typ = r.unpack("<qb", f"dictionary entry {i + 1}")
        if typ not in (0, 1) or cnt < 0:
            raise _corrupt(path, f"dictionary entry {i + 1} has type {typ} and count {cnt}")
        if typ == 0:
            if wi < keep:
                words.append(raw.decode("utf-8", errors="surrogateescape"))
                counts[wi] = cnt
            wi += 1
        else:
            labels.append(raw.decode("utf-8", errors="surrogateescape"))
            lcounts.append(cnt)
    if wi != nwords:
        raise _corrupt(path, f"dictionary header says {nwords} words, entries hold {wi}")
    if pruneidx_size > 0:
        raise FirthError(
            f"{path}: a pruned (quantized, .ftz) fastText model: its vectors are compressed by product "
            "quantization, which firth does not read; use the full .bin (or the .vec) instead"
        )
    return {"words": words, "counts": counts, "labels": labels, "label_counts": np.asarray(lcounts, np.int64),
            "nwords": nwords, "nlabels": nlabels, "ntokens": ntokens}


def _read_matrix_headers(r: "_Reader", path: Path, args: dict, nwords: int, nlabels: int):
    """Check both matrices' headers and sizes against the file: ((input offset, rows, cols),
    (output offset, rows, cols))."""
    (quant,) = r.unpack("<?", "input matrix header")
    if quant:
        raise FirthError(
            f"{path}: a quantized fastText model (.ftz): its vectors are compressed by product "
            "quantization, which firth does not read; use the full .bin (or the .vec) instead"
        )
    m, n = r.unpack("<2q", "input matrix header")
    if n != args["dim"] or m != nwords + args["bucket"]:
        raise _corrupt(path, f"input matrix is {m} x {n}, expected {nwords + args['bucket']} x {args['dim']}")
    in_off = r.tell()
    in_end = in_off + 4 * m * n
    if in_end + 17 > r.size:
        raise FirthError(f"{path}: truncated fastText model: the input matrix needs {in_end + 17} bytes, file has {r.size}")
    r.seek(in_end)
    (qout,) = r.unpack("<?", "output matrix header")
    om, on = r.unpack("<2q", "output matrix header")
    if qout:
        raise FirthError(f"{path}: a quantized fastText model (.ftz) with a quantized output matrix; not supported")
    if on != args["dim"] or om not in (nwords, nlabels):
        raise _corrupt(path, f"output matrix is {om} x {on}, expected {nwords} x {args['dim']}")
    out_off = r.tell()
    end = out_off + 4 * om * on
    if end > r.size:
        raise FirthError(f"{path}: truncated fastText model: the output matrix needs {end} bytes, file has {r.size}")
    if end < r.size:
        raise _corrupt(path, f"{r.size - end} unexpected bytes after the output matrix")
    return (in_off, m, n), (out_off, om, on)


def _check_args(path, a):
    bad = None
    if not 0 < a["dim"] <= 100_000:
        bad = f"dim {a['dim']}"
    elif a["model"] not in MODEL_NAMES:
        bad = f"model type {a['model']}"
    elif a["loss"] not in LOSS_NAMES:
        bad = f"loss type {a['loss']}"
    elif not (0 <= a["minn"] <= 1000 and 0 <= a["maxn"] <= 1000):
        bad = f"minn {a['minn']} / maxn {a['maxn']}"
    elif not 0 <= a["bucket"] < 1 << 31:
        bad = f"bucket {a['bucket']}"
    if bad:
        raise _corrupt(path, f"impossible setting {bad} in its header")


def _write_matrix(f, mat: np.ndarray, rows_per_block: int = 65536):
    m, n = mat.shape
    f.write(struct.pack("<?qq", False, m, n))
    for s in range(0, m, rows_per_block):
        f.write(np.ascontiguousarray(mat[s : s + rows_per_block], dtype="<f4").tobytes())


def write_fasttext_bin(path, words, counts, vectors_vocab, vectors_ngrams, minn: int, maxn: int,
                       output: np.ndarray | None = None, args: dict | None = None, ntokens: int | None = None) -> None:
    """Write a Facebook ``.bin`` that ``fasttext.load_model`` reads, atomically.

    Like gensim's ``save_facebook_model``: an unsupervised negative-sampling model. ``args``
    overrides the training settings recorded in the header (ws, epoch, min_count, neg, model,
    lr_update_rate, t); the matrix sizes, minn and maxn come from the arrays. Without an
    ``output`` matrix it is written as zeros (the word vectors are right, but training it
    further in fastText would start from a blank output side). Normalisation is not part of
    Facebook's format: lookups in fastText use the raw word.
    """
    words = list(words)
    n, dim = len(words), int(vectors_vocab.shape[1])
    bucket = int(vectors_ngrams.shape[0])
    for w in words:
        if "\0" in w or not w:
            raise FirthError(f"word {w!r} cannot be stored in a fastText .bin (empty or contains NUL)")
    a = {
        "dim": dim, "ws": 5, "epoch": 5, "min_count": 5, "neg": 5, "word_ngrams": 1, "loss": 2,
        "model": 2, "bucket": bucket, "minn": minn, "maxn": maxn, "lr_update_rate": 100, "t": 1e-4,
    }
    for k, v in (args or {}).items():
        if k in a and k not in ("dim", "bucket", "minn", "maxn", "loss", "word_ngrams"):
            a[k] = v
    if isinstance(a["model"], str):
        a["model"] = {"cbow": 1, "skipgram": 2, "sg": 2}.get(a["model"], 2)
    if a["model"] == 3:
        a["model"] = 2
    counts = np.asarray(counts, dtype=np.int64) if counts is not None else np.ones(n, np.int64)
    out = output if output is not None else np.zeros((n, dim), np.float32)
    if out.shape != (n, dim):
        raise FirthError(f"output matrix of shape {out.shape} does not fit {n} words x {dim}")
    ntokens = int(np.sum(counts)) if ntokens is None else int(ntokens)
    with atomic_write(Path(path), "wb") as f:
        f.write(struct.pack("<ii", FASTTEXT_MAGIC, FASTTEXT_VERSION))
        f.write(struct.pack("<12id", *[int(a[k]) for k in _ARGS], float(a["t"])))
        f.write(struct.pack("<3i2q", n, n, 0, ntokens, -1))
        parts = []
        for w, c in zip(words, counts.tolist()):
            parts.append(w.encode("utf-8", errors="surrogateescape") + b"\0" + struct.pack("<qb", int(c), 0))
        f.write(b"".join(parts))
        f.write(struct.pack("<?qq", False, n + bucket, dim))
        for block in (vectors_vocab, vectors_ngrams):
            for s in range(0, block.shape[0], 65536):
                f.write(np.ascontiguousarray(block[s : s + 65536], dtype="<f4").tobytes())
        _write_matrix(f, out)
