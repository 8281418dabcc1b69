"""What the long fuzz run found (issue 13), kept as table-driven cases: each damaged model
config is refused in one line (no ZeroDivisionError, no multi-line torch message, no hang)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")

from firth.errors import FirthError  # noqa: E402


def _set(cfg, key, value):
    if isinstance(cfg, dict):
        return {k: (value if k == key else _set(v, key, value)) for k, v in cfg.items()}
    return [_set(v, key, value) for v in cfg] if isinstance(cfg, list) else cfg


CASES = [  # (key in config.json, value, message)
    ("hidden_size", 0, r"hidden_size must be an integer in \[1, 10\*\*8\], got 0"),  # was ZeroDivisionError
    ("hidden_size", 2**62, r"hidden_size must be an integer in \[1, 10\*\*8\]"),  # was a 40-line torch message
    ("input_size", -3, r"input_size must be an integer in \[1, 10\*\*8\], got -3"),
    ("num_layers", 10**12, r"num_layers=1000000000000: at most 1024 layers"),  # was a hang
]


@pytest.mark.parametrize("key,value,message", CASES, ids=[f"{c[0]}={c[1]}" for c in CASES])
def test_damaged_rnn_config_is_one_line(tmp_path, key, value, message):
    from firth.rnn import load_model, save_model
    from tests.rnn.test_rnn_serialize import make_models

    acc, _ = make_models()
    save_model(tmp_path / "acc", acc)
    cfg_file = tmp_path / "acc" / "config.json"
    cfg_file.write_text(json.dumps(_set(json.loads(cfg_file.read_text()), key, value)))
    with pytest.raises(FirthError, match=message) as info:
        load_model(tmp_path / "acc")
    assert "\n" not in str(info.value)
