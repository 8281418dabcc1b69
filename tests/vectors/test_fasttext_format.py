"""Facebook fastText interop: firth reads their .bin to the same vectors, writes a .bin they
load to the same vectors, and refuses bad files with one line naming the file."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from firth.errors import FirthError
from firth.vectors import FastTextVectors, detect_format, load_vectors
from firth.vectors.formats.fasttext_bin import read_fasttext_bin
from firth.vectors.load import load_fasttext_bin
from tests.vectors.test_fasttext_fixtures import trained_model

UNSEEN = ["unfriendliest", "naïve", "日本語", "zqxj", "x", "Straße", "antidisestablishmentarianism"]


@pytest.fixture
def model(tmp_path_factory):
    return trained_model(tmp_path_factory)


def _max_diff(kv, ft, words):
    return max(float(np.abs(kv.get_vector(w) - ft.get_word_vector(w)).max()) for w in words)


def test_read_bin_equals_facebook_vectors(model):
    ft, path = model
    assert detect_format(path) == "fasttext-bin"
    kv = load_vectors(path)
    assert isinstance(kv, FastTextVectors)
    assert kv.index_to_key == ft.words
    assert (kv.minn, kv.maxn, kv.bucket) == (3, 6, 50_000)
    words = ft.words
    assert all(w not in kv for w in UNSEEN)
    assert _max_diff(kv, ft, words) < 1e-5
    assert _max_diff(kv, ft, UNSEEN) < 1e-5
    # in-vocabulary rows are the composed vectors themselves
    np.testing.assert_allclose(kv.vectors[:50], np.stack([ft.get_word_vector(w) for w in words[:50]]), atol=1e-5)
    assert kv.counts[0] == ft.get_words(include_freq=True)[1][0]


def test_limit_reads_fewer_words_but_all_ngrams(model):
    ft, path = model
    kv = load_vectors(path, limit=100)
    assert len(kv) == 100 and kv.index_to_key == ft.words[:100]
    # a word cut by the limit is now unseen: composed from n-grams only (not Facebook's answer)
    cut = ft.words[500]
    assert cut not in kv and kv.has_vector(cut)
    assert _max_diff(kv, ft, UNSEEN + ft.words[:100]) < 1e-5
    fb = read_fasttext_bin(path, limit=10)
    assert fb.output is None and len(fb.words) == 10 and fb.nwords_total == len(ft.words)


def test_written_bin_loads_in_facebook_fasttext(model, tmp_path):
    fasttext = pytest.importorskip("fasttext")
    ft, path = model
    kv = load_fasttext_bin(path, output=True)
    out = tmp_path / "firth.bin"
    kv.save_facebook(out)
    assert out.read_bytes() == path.read_bytes()  # every byte, output matrix included
    kv2 = load_fasttext_bin(path)  # input side only: output written as zeros
    out2 = tmp_path / "firth2.bin"
    kv2.save_facebook(out2)
    ft2 = fasttext.load_model(str(out2))
    assert ft2.words == ft.words
    assert _max_diff(kv2, ft2, ft.words[:300] + UNSEEN) < 1e-5
    np.testing.assert_allclose(ft2.get_word_vector("unfriendliest"), ft.get_word_vector("unfriendliest"), atol=1e-6)


def test_native_and_vec_round_trips(model, tmp_path):
    ft, path = model
    kv = load_vectors(path)
    kv.save(tmp_path / "m.firth")
    back = load_vectors(tmp_path / "m.firth")
    assert isinstance(back, FastTextVectors) and (back.minn, back.maxn, back.bucket) == (3, 6, 50_000)
    assert _max_diff(back, ft, ft.words[:200] + UNSEEN) < 1e-5
    lim = load_vectors(tmp_path / "m.firth", limit=20)
    assert isinstance(lim, FastTextVectors) and len(lim) == 20 and _max_diff(lim, ft, UNSEEN) < 1e-5
    kv.save(tmp_path / "m.vec", format="vec")
    vec = load_vectors(tmp_path / "m.vec")
    assert vec.index_to_key == ft.words
    np.testing.assert_allclose(vec.vectors, kv.vectors, atol=1e-6)


def test_unseen_words_in_similarity_and_zero_vector_flag(model):
    ft, path = model
    kv = load_vectors(path)
    nn = kv.most_similar("unfriendliest", topn=5)
    assert len(nn) == 5 and all(w in kv for w, _ in nn)
    assert -1.0 <= kv.similarity("unfriendliest", "friendly") <= 1.0
    wide = FastTextVectors(kv.index_to_key, kv.vectors_vocab, kv.vectors_ngrams, 5, 6)
    info = wide.word_info("ab")  # "<ab>" has 4 characters < minn: no n-gram at all
    assert info["zero_vector"] and info["n_ngrams"] == 0
    assert not wide.get_vector("ab").any()
    with pytest.raises(FirthError, match="'ab'.*zero"):
        wide.most_similar("ab")


# ----------------------------------------------------------------------------- bad files


def _one_line(excinfo, path):
    msg = str(excinfo.value)
    assert "\n" not in msg and str(path) in msg
    return msg


def test_wrong_magic(tmp_path, model):
    _, path = model
    bad = tmp_path / "bad.bin"
    data = bytearray(path.read_bytes())
    data[0:4] = struct.pack("<i", 12345)
    bad.write_bytes(bytes(data))
    with pytest.raises(FirthError) as e:
        load_fasttext_bin(bad)
    assert "magic number 12345" in _one_line(e, bad)
    with pytest.raises(FirthError) as e:
        load_vectors(bad)
    _one_line(e, bad)


@pytest.mark.parametrize("cut", [20, 60, 2000, -4, -100_000])
def test_truncated(tmp_path, model, cut):
    _, path = model
    data = path.read_bytes()
    bad = tmp_path / "cut.bin"
    bad.write_bytes(data[:cut] if cut > 0 else data[: len(data) + cut])
    with pytest.raises(FirthError) as e:
        load_vectors(bad)
    assert "truncated" in _one_line(e, bad)


def test_corrupt_header_and_trailing_bytes(tmp_path, model):
    _, path = model
    data = bytearray(path.read_bytes())
    bad = tmp_path / "dim.bin"
    bad.write_bytes(bytes(data[:8] + struct.pack("<i", -3) + data[12:]))
    with pytest.raises(FirthError) as e:
        load_vectors(bad)
    assert "corrupt" in _one_line(e, bad)
    bad2 = tmp_path / "tail.bin"
    bad2.write_bytes(bytes(data) + b"junk")
    with pytest.raises(FirthError) as e:
        load_vectors(bad2)
    assert "unexpected bytes" in _one_line(e, bad2)


def _craft(model_path, out, supervised=False, quant=False):
    """A Facebook .bin built from the tiny model: as a supervised classifier (3 labels,
    softmax) or with the quantized-input flag set. (Training a supervised model with
    fasttext-numpy2 fails at random with "Encountered NaN" on tiny data, so the file is
    written here, then checked to load in fastText itself.)"""
    fb = read_fasttext_bin(model_path, output=True)
    a = dict(fb.args)
    labels = ["__label__a", "__label__b", "__label__c"]
    if supervised:
        a["model"], a["loss"] = 3, 3
    keys = ("dim", "ws", "epoch", "min_count", "neg", "word_ngrams", "loss", "model", "bucket", "minn", "maxn",
            "lr_update_rate")
    nl = len(labels) if supervised else 0
    buf = bytearray(struct.pack("<ii", 793712314, 12))
    buf += struct.pack("<12id", *[a[k] for k in keys], a["t"])
    buf += struct.pack("<3i2q", len(fb.words) + nl, len(fb.words), nl, fb.ntokens, -1)
    for w, c in zip(fb.words, fb.counts.tolist()):
        buf += w.encode() + b"\0" + struct.pack("<qb", c, 0)
    for lab in labels[:nl]:
        buf += lab.encode() + b"\0" + struct.pack("<qb", 100, 1)
    buf += struct.pack("<?qq", quant, *fb.input.shape) + np.asarray(fb.input).tobytes()
    outm = np.random.default_rng(0).standard_normal((nl, fb.input.shape[1]), dtype=np.float32) if supervised else fb.output
    buf += struct.pack("<?qq", False, *outm.shape) + outm.tobytes()
    out.write_bytes(bytes(buf))
    return out


def test_supervised_bin_gives_word_vectors_with_a_note(tmp_path, model):
    fasttext = pytest.importorskip("fasttext")
    _, path = model
    sup_path = _craft(path, tmp_path / "sup.bin", supervised=True)
    sup = fasttext.load_model(str(sup_path))
    assert sup.labels == ["__label__a", "__label__b", "__label__c"]
    with pytest.warns(UserWarning, match="supervised"):
        kv = load_vectors(sup_path)
    assert "supervised" in kv.meta["note"] and "word vectors" in kv.meta["note"]
    assert not any(w.startswith("__label__") for w in kv.index_to_key)
    assert _max_diff(kv, sup, sup.words[:200] + UNSEEN) < 1e-5


def test_quantized_ftz_refused(tmp_path, model):
    _, path = model
    ftz = _craft(path, tmp_path / "model.ftz", quant=True)
    assert detect_format(ftz) == "fasttext-bin"
    with pytest.raises(FirthError) as e:
        load_vectors(ftz)
    msg = _one_line(e, ftz)
    assert "quantized" in msg and "not read" in msg
