"""Saving and loading models without pickling objects: a JSON config plus a state dict.

A saved model is a directory, written atomically (built under a temporary name, then
renamed into place, so a crash never leaves half a model)::

    model/config.json    {"format": "firth-model", "version": 1, "config": {...}}
    model/weights.pt     the state dict: a flat mapping name → tensor

Loading reads the JSON, rebuilds the module from it (a registered builder, or the one
you pass), then ``torch.load(..., weights_only=True)``: only tensors and plain containers
are accepted, so a file cannot run code when it is loaded.

Usage (any module whose constructor arguments fit in JSON)::

    save_model("out/model", model, config)             # config: a JSON-able dict
    model, config = load_model("out/model", build=MyModel.from_config)
    # or register once: register_model("my-model", MyModel.from_config) and put
    # "model": "my-model" in the config; firth.rnn's models are registered already.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from firth.errors import FirthError
from firth.io import atomic_dir

__all__ = ["save_model", "load_model", "register_model", "CONFIG_FILE", "WEIGHTS_FILE"]

CONFIG_FILE, WEIGHTS_FILE = "config.json", "weights.pt"
_FORMAT, _VERSION = "firth-model", 1
_BUILDERS: dict[str, Callable[[dict], nn.Module]] = {}


def register_model(name: str, build: Callable[[dict], nn.Module]) -> None:
    """Let :func:`load_model` rebuild configs whose ``"model"`` is ``name``."""
    _BUILDERS[name] = build


def _builtin_builders() -> None:
    from firth.rnn.models import RNNAcceptor, RNNTransducer
    from firth.rnn.runner import RNN

    _BUILDERS.setdefault(RNNAcceptor.kind, RNNAcceptor.from_config)
    _BUILDERS.setdefault(RNNTransducer.kind, RNNTransducer.from_config)
    _BUILDERS.setdefault("rnn", lambda c: RNN(**{k: v for k, v in c.items() if k != "model"}))


def save_model(path, module: nn.Module, config: dict | None = None) -> Path:
    """Write ``module``'s weights and ``config`` (default: ``module.config()``) to directory ``path``."""
    if config is None:
        if not hasattr(module, "config"):
            raise FirthError(f"{path}: pass a config dict to save_model ({type(module).__name__} has no config())")
        config = module.config()
    try:
        text = json.dumps({"format": _FORMAT, "version": _VERSION, "config": config}, indent=1, ensure_ascii=False)
    except TypeError as e:
        raise FirthError(f"{path}: the model config is not JSON-serialisable ({e})") from None
    state = {k: v.detach().cpu() for k, v in module.state_dict().items()}
    path = Path(path)
    with atomic_dir(path) as tmp:
        (tmp / CONFIG_FILE).write_text(text + "\n", encoding="utf-8")
        torch.save(state, tmp / WEIGHTS_FILE)
    return path


def load_model(path, build: Callable[[dict], nn.Module] | None = None, map_location="cpu"):
    """Rebuild a saved model: returns ``(module, config)``; the module is in eval mode.

    ``build(config) -> module``: how to construct it; default: the builder registered
    for ``config["model"]``. ``map_location``: where the tensors go ("cpu", "cuda", ...).
    """
    path = Path(path)
    cfg_file, w_file = path / CONFIG_FILE, path / WEIGHTS_FILE
    if not path.is_dir() or not cfg_file.exists() or not w_file.exists():
        raise FirthError(f"{path}: not a saved firth model (expected a directory with {CONFIG_FILE} and {WEIGHTS_FILE})")
    try:
        meta = json.loads(cfg_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise FirthError(f"{cfg_file}: not valid JSON ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        raise FirthError(f"{cfg_file}: not a firth model config")
    if meta.get("version", 0) > _VERSION:
        raise FirthError(f"{cfg_file}: saved by a newer firth (format version {meta['version']}); upgrade firth")
    config = meta["config"]
    if build is None:
        _builtin_builders()
        name = config.get("model") if isinstance(config, dict) else None
        if name not in _BUILDERS:
            raise FirthError(f"{cfg_file}: unknown model type {name!r}; pass build= to load_model or register_model() it")
        build = _BUILDERS[name]
    module = build(config)
    try:
        state = torch.load(w_file, map_location=map_location, weights_only=True)
    except Exception as e:  # corrupted or not a tensor file
        raise FirthError(f"{w_file}: cannot read the weights ({type(e).__name__}: {e})") from None
    try:
        module.load_state_dict(state)
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0]
        raise FirthError(f"{w_file}: the weights do not fit the model in {CONFIG_FILE} ({first})") from None
    module.to(map_location)
    return module.eval(), config
