"""Vector formats: round trips, gensim interop, detection by content, clear errors."""

import zipfile

import numpy as np
import pytest

from firth.vectors import detect_format, load_vectors
from firth.vectors import KeyedVectors
from firth.errors import FirthError
from firth.text import Normalizer

FORMATS = ["native", "word2vec-text", "word2vec-binary", "vec"]


@pytest.fixture
def kv():
    rng = np.random.default_rng(3)
    words = ["the", "of", "käse", "naïve", "東京"] + [f"w{i}" for i in range(40)]
    vecs = rng.standard_normal((len(words), 12)).astype(np.float32)
    return KeyedVectors(words, vecs, counts=np.arange(len(words), 0, -1),
                        normalizer=Normalizer(lowercase=True), meta={"model": "sg", "epochs": 5})


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_is_exact_and_detected_by_content(kv, fmt, tmp_path):
    path = tmp_path / "no-extension"  # detection never looks at the name
    kv.save(path, format=fmt)
    assert detect_format(path) == ("native" if fmt == "native" else
                                   "word2vec-binary" if fmt == "word2vec-binary" else "word2vec-text")
    back = load_vectors(path)
    assert back.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(np.asarray(back.vectors), kv.vectors)


def test_native_keeps_counts_normaliser_meta_and_memory_maps(kv, tmp_path):
    path = tmp_path / "v.firth"
    kv.save(path)
    back = load_vectors(path)
    assert back.normalizer == kv.normalizer and back.meta == kv.meta
    np.testing.assert_array_equal(back.counts, kv.counts)
    assert isinstance(back.vectors.base, np.memmap) or isinstance(back.vectors, np.memmap)
    assert "KÄSE" in back
    with zipfile.ZipFile(path) as zf:  # stored, never pickled
        assert zf.namelist()[0] == "firth.json"
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())


@pytest.mark.parametrize("fmt", FORMATS)
def test_limit_keeps_most_frequent(kv, fmt, tmp_path):
    path = tmp_path / "v"
    kv.save(path, format=fmt)
    back = load_vectors(path, limit=7)
    assert back.index_to_key == kv.index_to_key[:7]
    np.testing.assert_array_equal(np.asarray(back.vectors), kv.vectors[:7])


@pytest.mark.parametrize("binary", [False, True])
def test_reads_gensim_files_and_gensim_reads_ours(kv, binary, tmp_path):
    gm = pytest.importorskip("gensim.models", reason="gensim (test extra) is the oracle here")
    g = gm.KeyedVectors(kv.vector_size)
    g.add_vectors(kv.index_to_key, kv.vectors)
    theirs = tmp_path / "g"
    g.save_word2vec_format(str(theirs), binary=binary)
    back = load_vectors(theirs)
    assert back.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(back.vectors, kv.vectors)
    ours = tmp_path / "o"
    kv.save(ours, format="word2vec-binary" if binary else "word2vec-text")
    g2 = gm.KeyedVectors.load_word2vec_format(str(ours), binary=binary)
    assert list(g2.index_to_key) == kv.index_to_key
    np.testing.assert_array_equal(g2.vectors, kv.vectors)


def test_compressed_text_is_read(kv, tmp_path):
    import gzip

    path = tmp_path / "v.txt"
    kv.save(path, format="word2vec-text")
    gz = tmp_path / "v.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    np.testing.assert_array_equal(load_vectors(gz).vectors, kv.vectors)


def test_headerless_glove_text(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_text("a 1 2 3\nb 4 5 6\n")
    back = load_vectors(path)
    assert back.index_to_key == ["a", "b"] and back.vector_size == 3


@pytest.mark.parametrize("fmt", FORMATS)
def test_truncated_files_say_so(kv, fmt, tmp_path):
    path = tmp_path / "v"
    kv.save(path, format=fmt)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(FirthError, match="truncated|corrupt|expected"):
        load_vectors(path)


def test_malformed_and_empty_files(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("2 3\na 1 2 3\nb 1 x 3\n")
    with pytest.raises(FirthError, match=r"line 3: a value is not a number"):
        load_vectors(bad)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(FirthError, match="empty"):
        load_vectors(empty)
    with pytest.raises(FirthError, match="no such file"):
        load_vectors(tmp_path / "missing")
    junk = tmp_path / "junk"
    junk.write_bytes(b"\x00\x01\x02 hello")
    with pytest.raises(FirthError, match="format|UTF-8"):
        load_vectors(junk)


def test_failed_write_leaves_nothing(tmp_path):
    kv = KeyedVectors(["has space"], np.zeros((1, 2)))
    out = tmp_path / "out.txt"
    with pytest.raises(FirthError, match="whitespace"):
        kv.save(out, format="word2vec-text")
    assert not out.exists() and not list(tmp_path.iterdir())
