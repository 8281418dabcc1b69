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
import pickle
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from firth.errors import FirthError, check_version
from firth.io import atomic_dir, read_json, recover

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
    with atomic_dir(path, "rnn-model") as tmp:
        (tmp / CONFIG_FILE).write_text(text + "\n", encoding="utf-8")
        torch.save(state, tmp / WEIGHTS_FILE)
    return path


def load_model(path, build: Callable[[dict], nn.Module] | None = None, map_location="cpu"):
    """Rebuild a saved model: returns ``(module, config)``; the module is in eval mode.

    ``build(config) -> module``: how to construct it; default: the builder registered
    for ``config["model"]``. ``map_location``: where the tensors go ("cpu", "cuda", ...).
    """
    path = Path(path)
    recover(path)
    cfg_file, w_file = path / CONFIG_FILE, path / WEIGHTS_FILE
    if not path.is_dir() or not cfg_file.exists() or not w_file.exists():
        raise FirthError(f"{path}: not a saved firth model (expected a directory with {CONFIG_FILE} and {WEIGHTS_FILE})")
    meta = read_json(cfg_file, "model config")
    if meta.get("format") != _FORMAT:
        raise FirthError(f"{cfg_file}: not a firth model config")
    check_version(cfg_file, meta.get("version", 0), _VERSION, "not a firth model config")
    config = meta.get("config")
    if build is None:
        _builtin_builders()
        name = config.get("model") if isinstance(config, dict) else None
        if not isinstance(name, str) or name not in _BUILDERS:
            raise FirthError(f"{cfg_file}: unknown model type {name!r}; pass build= to load_model or register_model() it")
        build = _BUILDERS[name]
    try:
        # mmap: the tensors stay in the file until copied into the module, so a file's
        # declared sizes cannot make firth allocate more than the file holds
        state = torch.load(w_file, map_location="cpu", weights_only=True, mmap=True)
    except pickle.UnpicklingError:
        raise FirthError(f"{w_file}: refused: it holds Python objects, not only tensors, and firth never unpickles; "
                         "save the weights as a plain state dict") from None
    except Exception as e:  # corrupted or not a tensor file
        raise FirthError(f"{w_file}: cannot read the weights ({type(e).__name__}: {_first_line(e)})") from None
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise FirthError(f"{w_file}: not a state dict (a mapping of names to tensors); not a firth model")
    expected = _shapes_without_allocating(build, config, cfg_file)
    if expected is not None:
        got = {k: tuple(v.shape) for k, v in state.items()}
        if got != expected:
            diff = sorted(set(got) ^ set(expected)) or [k for k in expected if got[k] != expected[k]]
            k = diff[0]
            raise FirthError(f"{w_file}: the weights do not fit the model in {CONFIG_FILE} ({k}: "
                             f"{got.get(k, 'missing')} in the file, {expected.get(k, 'not in the model')} "
                             "in the config); the model is damaged")
    try:
        module = build(config)
    except FirthError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, RuntimeError) as e:
        raise FirthError(f"{cfg_file}: the config does not describe a model ({type(e).__name__}: {_first_line(e)})") from None
    try:
        module.load_state_dict(state)
    except RuntimeError as e:
        raise FirthError(f"{w_file}: the weights do not fit the model in {CONFIG_FILE} ({_first_line(e)})") from None
    for name, t in module.state_dict().items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise FirthError(f"{w_file}: {name} holds NaN or infinite values; the model is damaged (retrain it)")
    module.to(map_location)
    return module.eval(), config


def _first_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    return lines[0][:300] if lines else type(e).__name__


def _shapes_without_allocating(build, config, cfg_file) -> dict | None:
    """Parameter/buffer shapes the config implies, from a build on the meta device (no memory
    is allocated, so hidden_size 10**7 costs nothing). None if the builder cannot run there."""
    try:
        with torch.device("meta"):
            module = build(config)
    except FirthError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        raise FirthError(f"{cfg_file}: the config does not describe a model ({type(e).__name__}: {_first_line(e)})") from None
    except Exception:  # a builder that touches real data (e.g. copies numpy arrays)
        return None
    if not isinstance(module, nn.Module):
        return None
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}
