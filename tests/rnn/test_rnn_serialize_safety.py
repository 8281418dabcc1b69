"""Issue 13: a saved RNN model is validated before anything is allocated or run."""

import json
import time

import pytest
import torch

from firth.errors import FirthError
from firth.rnn import load_model, save_model
from tests.rnn.test_rnn_serialize import make_models


@pytest.fixture
def saved(tmp_path):
    acc, tag = make_models()
    save_model(tmp_path / "m", acc)
    save_model(tmp_path / "t", tag)
    return tmp_path


def _edit_config(path, fn):
    cfg_file = path / "config.json"
    meta = json.loads(cfg_file.read_text())
    meta = fn(meta)
    cfg_file.write_text(json.dumps(meta))


def _huge(meta):
    meta["config"]["rnn"]["hidden_size"] = 10**7
    return meta


def _torch_evil(path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))
    torch.save({"x": Evil()}, path / "weights.pt")


@pytest.mark.parametrize("name,damage,message", [
    ("hidden_size 10**7", lambda p: _edit_config(p, _huge), r"rnn\..*in the file.*in the config"),
    ("config is a list", lambda p: (p / "config.json").write_text("[1, 2]"), "expected a JSON dict, found list"),
    ("config not JSON", lambda p: (p / "config.json").write_text("{oops"), "not valid JSON"),
    ("unknown model", lambda p: _edit_config(p, lambda m: {**m, "config": {"model": 3}}), "unknown model type"),
    ("version text", lambda p: _edit_config(p, lambda m: {**m, "version": "x"}), "not a number"),
    ("bad cell", lambda p: _edit_config(p, lambda m: (m["config"]["rnn"].update(cell="nope"), m)[1]), "nope|config"),
    ("pickled weights", _torch_evil, "refused: it holds Python objects"),
    ("not a state dict", lambda p: torch.save([torch.zeros(2)], p / "weights.pt"), "not a state dict"),
    ("wrong shape", lambda p: torch.save({k: torch.zeros(1) for k in torch.load(p / "weights.pt")}, p / "weights.pt"),
     "do not fit"),
    ("NaN weights", lambda p: torch.save({k: v.float().fill_(float("nan")) if v.is_floating_point() else v
                                          for k, v in torch.load(p / "weights.pt").items()}, p / "weights.pt"),
     "NaN or infinite"),
])
@pytest.mark.parametrize("which", ["m", "t"])
def test_damaged_models_are_one_line_errors(saved, name, damage, message, which):
    path = saved / which
    damage(path)
    t0 = time.perf_counter()
    with pytest.raises(FirthError, match=message) as info:
        load_model(path)
    assert "\n" not in str(info.value) and len(str(info.value)) < 400
    assert time.perf_counter() - t0 < 5  # nothing of the claimed size was allocated


def test_pickle_payload_never_runs(saved, capsys):
    _torch_evil(saved / "m")
    with pytest.raises(FirthError):
        load_model(saved / "m")
    assert "pwned" not in capsys.readouterr().out
