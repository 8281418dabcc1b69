"""Saved language models and checkpoints: JSON + tensors, never pickle.

A model is a directory (built under a temporary name, swapped in atomically)::

    MODEL/config.json   {"format": "firth-lm", "version": 1, "config": LMConfig, "vocab": [...],
                         "counts": [...], "history": [...]}
    MODEL/weights.pt    the state dict (loaded with ``torch.load(weights_only=True)``)

A checkpoint directory holds the same two files plus ``state.pt`` (optimizer state, RNG
states, the carried hidden state) and ``progress.json`` (epoch, position, learning rate,
best validation perplexity), so training resumes exactly where it stopped.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import torch

from firth.errors import FirthError
from firth.io import atomic_dir
from firth.lm.config import LMConfig
from firth.lm.data import Vocab
from firth.lm.model import LanguageModel

__all__ = ["save_lm", "load_lm", "load_tensors", "FORMAT"]

FORMAT, VERSION = "firth-lm", 1


def load_tensors(path):
    """``torch.load(weights_only=True)`` without torch's warnings: a file pickled with another
    protocol (a damaged or foreign file) makes torch warn on stderr before it fails, and the
    caller's one-line error must be the only line the user sees."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.load(path, map_location="cpu", weights_only=True)
KIND = "language-model"


def _meta(model: LanguageModel, vocab: Vocab, history) -> dict:
    return {"format": FORMAT, "version": VERSION, "config": model.cfg.to_dict(), "vocab": vocab.itos,
            "counts": vocab.counts, "history": list(history or [])}


def write_model_files(tmp: Path, model: LanguageModel, vocab: Vocab, history=()) -> None:
    (tmp / "config.json").write_text(json.dumps(_meta(model, vocab, history), ensure_ascii=False) + "\n",
                                     encoding="utf-8")
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, tmp / "weights.pt")


def save_lm(path, model: LanguageModel, vocab: Vocab, history=(), inputs=()) -> Path:
    """Write the model directory atomically; replaces only an earlier firth language model."""
    path = Path(path)
    with atomic_dir(path, KIND, inputs=inputs) as tmp:
        write_model_files(tmp, model, vocab, history)
    return path


def read_model_files(path) -> tuple[LanguageModel, Vocab, dict]:
    path = Path(path)
    cfg_file, w_file = path / "config.json", path / "weights.pt"
    if not path.is_dir() or not cfg_file.is_file() or not w_file.is_file():
        raise FirthError(f"{path}: not a firth language model (expected a directory with config.json and weights.pt "
                         "from 'firth lm train')")
    try:
        meta = json.loads(cfg_file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise FirthError(f"{cfg_file}: not valid JSON ({e}); the model is damaged") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise FirthError(f"{cfg_file}: not a firth language model config")
    if not isinstance(meta.get("version"), int) or meta["version"] > VERSION:
        raise FirthError(f"{cfg_file}: format version {meta.get('version')!r} is not one this firth reads; upgrade firth")
    cfg = LMConfig.from_dict(meta.get("config"), str(cfg_file))
    words = meta.get("vocab")
    if not isinstance(words, list) or not 2 <= len(words) <= 50_000_000:
        raise FirthError(f"{cfg_file}: 'vocab' must be a list of words; the model is damaged")
    counts = meta.get("counts")
    if counts is not None and (not isinstance(counts, list) or len(counts) != len(words)):
        raise FirthError(f"{cfg_file}: 'counts' must have one number per vocabulary word; the model is damaged")
    vocab = Vocab(words, counts)
    model = LanguageModel(cfg, len(vocab))
    try:
        state = load_tensors(w_file)
    except Exception as e:  # not a tensor archive, truncated, or carrying objects
        raise FirthError(f"{w_file}: cannot read the weights ({type(e).__name__}); the model is damaged") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise FirthError(f"{w_file}: not a state dict of tensors; the model is damaged")
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0]
        raise FirthError(f"{w_file}: the weights do not fit config.json ({first}); the model is damaged") from None
    for name, v in state.items():
        if v.is_floating_point() and not torch.isfinite(v).all():
            raise FirthError(f"{w_file}: {name} contains NaN or infinite values; the model is damaged")
    return model.eval(), vocab, meta


def load_lm(path) -> tuple[LanguageModel, Vocab, dict]:
    """``(model, vocab, meta)`` in eval mode; every field is checked before use."""
    return read_model_files(path)


def finite(x: float) -> float | None:
    """JSON has no NaN: store non-finite numbers as null."""
    return x if math.isfinite(x) else None
