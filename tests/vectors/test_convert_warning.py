"""`firth convert` says, in one stderr line, when the target format drops the text
normalisation the vectors were trained with (issue 17)."""

import numpy as np
import pytest

from firth.cli import main
from firth.text import Normalizer
from firth.vectors import KeyedVectors, load_vectors


def _save(path, normalizer):
    KeyedVectors(["москва", "paris"], np.eye(2, 3, dtype=np.float32), normalizer=normalizer).save(path)
    return path


@pytest.mark.parametrize("fmt", ["word2vec-text", "word2vec-binary", "vec"])
def test_lowercased_model_to_word2vec_formats_warns_once(tmp_path, capsys, fmt):
    src = _save(tmp_path / "v.firth", Normalizer(lowercase=True, digits="zero"))
    assert main(["convert", str(src), str(tmp_path / "out"), "--format", fmt]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "lowercase=True" in err[0] and "digits=zero" in err[0] and "native" in err[0]
    # what the warning is about: the written file no longer folds case
    assert "Москва" not in load_vectors(tmp_path / "out") and "Москва" in load_vectors(src)


def test_no_warning_when_nothing_is_lost(tmp_path, capsys):
    plain = _save(tmp_path / "plain.firth", Normalizer())
    assert main(["convert", str(plain), str(tmp_path / "o.txt"), "--format", "word2vec-text"]) == 0
    lower = _save(tmp_path / "lower.firth", Normalizer(lowercase=True))
    assert main(["convert", str(lower), str(tmp_path / "o.firth"), "--format", "native"]) == 0
    assert capsys.readouterr().err == ""
    assert "Москва" in load_vectors(tmp_path / "o.firth")
