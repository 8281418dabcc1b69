"""`firth similar | analogy | convert | info` end to end, in process."""

import numpy as np
import pytest

from firth.cli import main
from firth.vectors import detect_format, load_vectors
from firth.vectors import KeyedVectors
from firth.text import Normalizer


@pytest.fixture
def vec_file(tmp_path):
    rng = np.random.default_rng(11)
    words = ["king", "queen", "man", "woman", "paris", "france"] + [f"w{i}" for i in range(60)]
    vecs = rng.standard_normal((len(words), 10)).astype(np.float32)
    vecs[1] = vecs[0] + 0.05 * vecs[3]  # queen ~ king
    path = tmp_path / "v.firth"
    KeyedVectors(words, vecs, normalizer=Normalizer(lowercase=True)).save(path)
    return path


def test_similar_prints_neighbours(vec_file, capsys):
    assert main(["similar", str(vec_file), "King", "--topn", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "King:" and out[1].split()[1] == "queen" and len(out) == 4


def test_analogy_prints_answers(vec_file, capsys):
    kv = load_vectors(vec_file)
    want = kv.analogy("man", "king", "woman", topn=2)
    assert main(["analogy", str(vec_file), "man", "king", "woman", "--topn", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[1] for ln in lines[1:]] == [w for w, _ in want]


@pytest.mark.parametrize("fmt", ["native", "word2vec-text", "word2vec-binary", "vec"])
def test_convert_any_to_any(vec_file, tmp_path, fmt, capsys):
    out = tmp_path / "out.anything"
    assert main(["convert", str(vec_file), str(out), "--format", fmt]) == 0
    back = load_vectors(out)
    np.testing.assert_array_equal(np.asarray(back.vectors), np.asarray(load_vectors(vec_file).vectors))
    # and back again, from the detected format
    again = tmp_path / "again"
    assert main(["convert", str(out), str(again), "--limit", "5"]) == 0
    assert detect_format(again) == "native" and len(load_vectors(again)) == 5


def test_info(vec_file, capsys):
    assert main(["info", str(vec_file)]) == 0
    out = capsys.readouterr().out
    assert "words       66" in out and "lowercase" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["similar", "{v}", "kingg"], "word 'kingg' is not in the vocabulary; did you mean: king?"),
        (["similar", "{missing}", "king"], "no such file"),
        (["similar", "{v}", "king", "--topn", "0"], "--topn 0: must be a positive number"),
        (["analogy", "{v}", "man", "king", "woman", "--limit", "-3"], "--limit -3"),
        (["convert", "{v}", "{nodir}/x.bin"], "does not exist"),
    ],
)
def test_errors_are_one_line(vec_file, tmp_path, capsys, argv, message):
    argv = [a.format(v=vec_file, missing=tmp_path / "missing", nodir=tmp_path / "nodir") for a in argv]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("firth: error: ") and message in err and err.count("\n") == 1


def test_convert_writes_facebook_bin_only_for_fasttext_vectors(vec_file, tmp_path, capsys):
    # plain word2vec vectors have no n-grams: a clear refusal, nothing written
    out = tmp_path / "x.bin"
    assert main(["convert", str(vec_file), str(out), "--format", "fasttext-bin"]) == 1
    assert "only fastText vectors" in capsys.readouterr().err and not out.exists()


def test_convert_fasttext_native_to_facebook_bin_and_back(tmp_path):
    from firth.train.fasttext import FastText

    rng = np.random.default_rng(5)
    words = [f"w{i}" for i in range(30)]
    sents = [[words[j] for j in rng.integers(0, 30, 20)] for _ in range(40)]
    kv = FastText(model="sg", dim=8, epochs=1, min_count=1, workers=1, seed=3, bucket=500, progress=False).train(sents).wv
    native = tmp_path / "ft.firth"
    kv.save(native)
    fb = tmp_path / "ft.bin"
    assert main(["convert", str(native), str(fb), "--format", "fasttext-bin"]) == 0
    assert detect_format(fb) == "fasttext-bin"
    back = load_vectors(fb)
    for w in words[:5] + ["unseen"]:
        np.testing.assert_allclose(back.get_vector(w), kv.get_vector(w), atol=1e-6)
