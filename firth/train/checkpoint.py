"""Training checkpoints, kept so that a crash, a kill or a damaged file never loses the run.

A ``--checkpoint DIR`` directory holds one sub-directory per saved epoch::

    DIR/firth-output.json         {"firth": 1, "kind": "checkpoint"}
    DIR/checkpoint.json           an index: newest epoch, settings, counters (for people and scripts)
    DIR/epoch-000003/              the previous one, kept as a fallback
    DIR/epoch-000004/              the newest: checkpoint.json + one .npy per matrix

Each epoch directory is written under a temporary name and renamed into place
(:func:`firth.io.atomic_dir`), so a kill leaves either the complete new epoch or none of it;
the older epochs are deleted only after the newer one is in place (``KEEP`` are kept).
``checkpoint.json`` records the SHA-256 of its own content and of every array file, so a torn
or flipped file is detected on resume; the newest epoch that reads back intact **and** passes
the trainer's checks (shapes, dtypes, counters against the vocabulary and options, finite
values) is used, with a message naming what was skipped and what the run resumed from.
Arrays are read with :func:`firth.npyfile.load_npy` (header checked against the file size
before allocation, never pickle). A checkpoint written by an earlier firth (one directory
with ``checkpoint.json`` at the top) is still read.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from pathlib import Path

import numpy as np

from firth.errors import FirthError
from firth.io import MARKER, atomic_dir, atomic_write, check_output, output_kind, read_json, recover
from firth.npyfile import load_npy

KIND = "checkpoint"
EPOCH_KIND = "checkpoint-epoch"
KEEP = 2  # epochs kept: the newest and one fallback
_EPOCH = re.compile(r"^epoch-(\d{6,})$")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_CHUNK = 1 << 24


class Mismatch(FirthError):
    """An intact checkpoint that belongs to another run (options, corpus, epochs): no fallback,
    the user has to choose."""


class _HashingWriter:
    """A write-only file object that hashes what goes through it (one pass for save + digest)."""

    def __init__(self, f):
        self.f, self.h, self.n = f, hashlib.sha256(), 0

    def write(self, b):
        self.h.update(b)
        self.n += len(b)
        return self.f.write(b)

    def flush(self):
        self.f.flush()


def _state_digest(state: dict) -> str:
    body = {k: v for k, v in state.items() if k != "state_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()


def _file_digest(path: Path) -> tuple[int, str]:
    h = hashlib.sha256()
    n = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            n += len(chunk)
    return n, h.hexdigest()


def _epoch_dirs(directory: Path) -> list[tuple[int, Path]]:
    """The epoch sub-directories, newest first."""
    out = []
    try:
        entries = list(directory.iterdir())
    except OSError:
        return []
    for p in entries:
        m = _EPOCH.match(p.name)
        if m and p.is_dir() and not p.is_symlink():
            out.append((int(m.group(1)), p))
    return sorted(out, reverse=True)


def _is_legacy(directory: Path) -> bool:
    """One checkpoint at the top of the directory (written before epoch sub-directories)."""
    return (directory / "checkpoint.json").is_file() and output_kind(directory) in ("output", "legacy")


def check_checkpoint_dir(directory, inputs=()) -> Path:
    """Fail fast (before reading the corpus): ``directory`` must be a firth checkpoint
    directory, an empty directory, or a new path in a writable place."""
    directory = Path(directory)
    if directory.is_dir() and _is_legacy(directory):
        if not os.access(directory, os.W_OK | os.X_OK):
            raise FirthError(f"{directory}: cannot write in it (permission denied or read-only); choose another --checkpoint")
        return directory
    check_output(directory, KIND, is_dir=True, inputs=inputs, option="--checkpoint")
    if directory.is_dir() and output_kind(directory) == KIND:
        _clean(directory)
    return directory


def save_checkpoint(directory, state: dict, arrays: dict, inputs=()) -> Path:
    """Write ``state`` (JSON) and ``arrays`` (.npy) as a new epoch directory of ``directory``;
    then delete the epochs older than the ``KEEP`` newest. Returns the epoch directory."""
    directory = check_checkpoint_dir(directory, inputs)
    legacy = directory.is_dir() and _is_legacy(directory)
    if not directory.is_dir() or output_kind(directory) == "":
        with atomic_dir(directory, KIND):
            pass  # a new (or empty) directory: give it its marker
    epoch = int(state.get("epochs_trained", 0))
    target = directory / f"epoch-{epoch:06d}"
    if target.exists() and output_kind(target) != EPOCH_KIND:
        shutil.rmtree(target, ignore_errors=True)  # a damaged epoch of ours (its marker too): superseded
    state = dict(state)
    files = {}
    with atomic_dir(target, EPOCH_KIND) as tmp:
        for name, arr in arrays.items():
            if not _NAME.match(name):
                raise ValueError(f"bad checkpoint array name {name!r}")
            with open(tmp / f"{name}.npy", "wb") as f:
                w = _HashingWriter(f)
                np.save(w, np.ascontiguousarray(arr), allow_pickle=False)
                f.flush()
                os.fsync(f.fileno())
            files[name] = {"bytes": w.n, "sha256": w.h.hexdigest()}
        state["files"] = files
        state["state_sha256"] = _state_digest(state)
        with open(tmp / "checkpoint.json", "w", encoding="utf-8") as f:
            f.write(json.dumps(state, indent=1))
            f.flush()
            os.fsync(f.fileno())
    _prune(directory, target, legacy)
    _write_index(directory, target, state)
    return target


def _write_index(directory: Path, newest: Path, state: dict) -> None:
    """DIR/checkpoint.json: what the directory holds, for people and scripts (never read back
    as a checkpoint: the epoch directories are the truth)."""
    index = {"format": "firth-checkpoint-index", "version": 1, "latest": newest.name,
             "kept": [p.name for _, p in _epoch_dirs(directory)]}
    for key in ("format", "settings", "epochs_trained", "call_epochs", "call_base", "words_trained", "epoch_losses"):
        if key in state:
            index["checkpoint_format" if key == "format" else key] = state[key]
    with atomic_write(directory / "checkpoint.json", "w") as f:
        f.write(json.dumps(index, indent=1))


def _prune(directory: Path, newest: Path, legacy: bool) -> None:
    """Keep the KEEP newest epochs (``newest`` among them); remove leftovers of killed saves."""
    keep = {newest}
    top = int(_EPOCH.match(newest.name).group(1))
    for n, p in _epoch_dirs(directory):
        if len(keep) >= KEEP:
            break
        if n < top:
            keep.add(p)
    for _, p in _epoch_dirs(directory):
        if p not in keep:
            shutil.rmtree(p, ignore_errors=True)
    _clean(directory)
    if legacy:  # the old single checkpoint: superseded, and the directory gets its own kind
        for p in directory.glob("*.npy"):
            p.unlink(missing_ok=True)
        with atomic_write(directory / MARKER, "w") as f:
            f.write(json.dumps({"firth": 1, "kind": KIND}) + "\n")


def _clean(directory: Path) -> None:
    for p in directory.glob(".epoch-*.firth-old"):  # a replacement killed between its renames
        recover(directory / p.name[1:-len(".firth-old")])
    for p in directory.glob(".*.tmp"):  # a save killed before its rename (an epoch, the index)
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def _read_one(where: Path) -> tuple[dict, dict]:
    """(state, arrays) of one saved epoch, its digests verified; FirthError if damaged."""
    state = read_json(where / "checkpoint.json", "checkpoint")
    names = state.get("arrays")
    if not (isinstance(names, list) and names and all(isinstance(n, str) and _NAME.match(n) for n in names)
            and len(set(names)) == len(names)):
        raise FirthError(f"{where}/checkpoint.json: bad 'arrays' list {str(names)[:80]}")
    files = state.get("files")
    if "state_sha256" in state or files is not None:  # written with digests: verify them
        if state.get("state_sha256") != _state_digest(state):
            raise FirthError(f"{where}/checkpoint.json: content does not match its checksum (damaged)")
        if not isinstance(files, dict) or sorted(files) != sorted(names):
            raise FirthError(f"{where}/checkpoint.json: 'files' does not list the arrays")
        for name in names:
            path = where / f"{name}.npy"
            try:
                n, digest = _file_digest(path)
            except FileNotFoundError:
                raise FirthError(f"{path}: missing") from None
            except OSError as e:
                raise FirthError(f"{path}: cannot read ({e.strerror or e})") from None
            rec = files[name]
            if not isinstance(rec, dict) or rec.get("bytes") != n or rec.get("sha256") != digest:
                raise FirthError(f"{path}: does not match its checksum (truncated or damaged)")
    arrays = {name: load_npy(where / f"{name}.npy", kind="fiu", shape=(None, None)) for name in names}
    return state, arrays


def load_checkpoint(directory, validate=None, log=None):
    """``(state, arrays)`` of the newest usable checkpoint in ``directory`` (see
    :func:`find_checkpoint`), or None if there is none there."""
    got = find_checkpoint(directory, validate, log)
    return None if got is None else got[:2]


def find_checkpoint(directory, validate=None, log=None):
    """``(state, arrays, where)`` of the newest usable checkpoint in ``directory``, or None if
    there is none there.

    ``validate(state, arrays)`` raises FirthError when a checkpoint cannot be used (damaged,
    crafted: wrong shapes, counters) -- the previous one is tried, and ``log`` (default: a
    line on stderr) says so -- or :class:`Mismatch` when it belongs to another run (raised at
    once). When no checkpoint there is usable: a one-line FirthError naming the newest's problem.
    """
    directory = Path(directory)
    if log is None:
        def log(msg):
            print(f"firth: warning: {msg}", file=sys.stderr)
    if not directory.exists():
        return None
    if not directory.is_dir():
        raise FirthError(f"{directory}: not a directory; --checkpoint names a directory")
    candidates = [p for _, p in _epoch_dirs(directory)]
    if (directory / "checkpoint.json").exists() and output_kind(directory) != KIND:
        candidates.append(directory)  # written by an earlier firth: one checkpoint at the top
    if not candidates:
        return None
    problems = []
    for where in candidates:
        try:
            state, arrays = _read_one(where)
            if validate is not None:
                validate(state, arrays)
        except Mismatch as e:
            raise Mismatch(f"{where}: {e}") from None
        except FirthError as e:
            why = str(e)
            problems.append((where, why[len(str(where)) + 1:] if why.startswith(f"{where}/") else why))
            continue
        except (MemoryError, ValueError, TypeError, KeyError, OverflowError) as e:  # a validator's blind spot
            problems.append((where, f"{type(e).__name__}: {str(e)[:200]}"))
            continue
        for bad, why in problems:
            log(f"checkpoint {bad} is unusable ({why}); falling back to {where}")
        return state, arrays, where
    where, why = problems[0]
    more = f" (and {len(problems) - 1} older one{'s' if len(problems) > 2 else ''} unusable too)" if len(problems) > 1 else ""
    raise FirthError(f"{where}: damaged checkpoint, cannot resume: {why}{more}; "
                     f"delete {directory} to start over or choose another --checkpoint")


# ------------------------------------------------------------------ checks for trainers


def check_int(state: dict, key: str, lo: int = 0, hi: int = 2**62) -> int:
    v = state.get(key)
    if not (isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi):
        raise FirthError(f"checkpoint.json: '{key}' must be an integer in [{lo}, {hi}], got {str(v)[:40]}")
    return v


def check_number(state: dict, key: str, lo: float = 0.0) -> float:
    v = state.get(key)
    if not (isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) and v >= lo):
        raise FirthError(f"checkpoint.json: '{key}' must be a finite number >= {lo}, got {str(v)[:40]}")
    return float(v)


def check_matrix(name: str, arr: np.ndarray, shape: tuple) -> np.ndarray:
    """``arr`` must be float32 of exactly ``shape`` with finite values; returned C-contiguous."""
    if arr.dtype != np.float32:
        raise FirthError(f"{name}.npy: dtype {arr.dtype}, expected float32")
    if arr.shape != tuple(shape):
        raise FirthError(f"{name}.npy: shape {arr.shape}, expected {tuple(shape)} for this vocabulary and these options")
    if not all_finite(arr):
        raise FirthError(f"{name}.npy: holds NaN or infinite values")
    return np.ascontiguousarray(arr)


def all_finite(arr: np.ndarray, rows: int = 65536) -> bool:
    """Whether every value is finite, a block of rows at a time (no full-size temporary)."""
    a = arr.reshape(arr.shape[0], -1) if arr.ndim > 1 else arr.reshape(-1, 1)
    return all(np.isfinite(a[i:i + rows]).all() for i in range(0, a.shape[0], rows))


def vocab_fingerprint(words, counts) -> str:
    h = hashlib.sha256()
    for w in words:
        h.update(w.encode("utf-8", "surrogateescape") if isinstance(w, str) else bytes(w))
        h.update(b"\0")
    h.update(np.asarray(counts, dtype=np.int64).tobytes())
    return h.hexdigest()
