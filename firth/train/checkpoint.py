"""Training checkpoints: a directory with ``checkpoint.json`` (state) and one ``.npy`` per matrix.

Written atomically (a temporary directory renamed into place), read without pickle.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from firth.errors import FirthError
from firth.io import atomic_dir


def save_checkpoint(directory, state: dict, arrays: dict) -> None:
    """Atomically write ``state`` as JSON and ``arrays`` as .npy files into ``directory``."""
    directory = Path(directory)
    with atomic_dir(directory) as tmp:
        for name, arr in arrays.items():
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(arr), allow_pickle=False)
        (tmp / "checkpoint.json").write_text(json.dumps(state, indent=1), encoding="utf-8")


def load_checkpoint(directory):
    """(state, arrays) from a checkpoint directory, or None if there is none there."""
    directory = Path(directory)
    meta = directory / "checkpoint.json"
    if not meta.exists():
        return None
    try:
        state = json.loads(meta.read_text(encoding="utf-8"))
        arrays = {name: np.load(directory / f"{name}.npy", allow_pickle=False) for name in state["arrays"]}
    except (OSError, ValueError, KeyError) as e:
        raise FirthError(f"{directory}: unreadable checkpoint ({e}); delete it or choose another --checkpoint") from None
    return state, arrays


def vocab_fingerprint(words, counts) -> str:
    h = hashlib.sha256()
    for w in words:
        h.update(w.encode("utf-8"))
        h.update(b"\0")
    h.update(np.asarray(counts, dtype=np.int64).tobytes())
    return h.hexdigest()
