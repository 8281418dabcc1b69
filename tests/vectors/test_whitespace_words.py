"""Words holding whitespace other than word2vec.c's separators (issue 17): written byte for
byte as word2vec.c writes them, read back equal by firth and by gensim."""

from __future__ import annotations

import numpy as np
import pytest

from firth.errors import FirthError
from firth.vectors import KeyedVectors, load_vectors

# NBSP, ideographic space, line separator, NEL, vertical tab, form feed: word2vec.c's
# ReadWord splits only on ' ', '\t', '\n', so its vocabulary can hold all of these
WORDS = ["a\u00a0b", "c\u3000d", "e\u2028f", "g\u0085h", "i\x0bj", "k\x0cl", "\u00a0", "\u3000x\u3000", "plain"]


@pytest.fixture
def kv():
    vecs = np.random.default_rng(0).standard_normal((len(WORDS), 5)).astype(np.float32)
    return KeyedVectors(WORDS, vecs)


@pytest.mark.parametrize("fmt", ["word2vec-text", "word2vec-binary"])
def test_round_trip_with_firth_and_gensim(kv, fmt, tmp_path):
    out = tmp_path / "v"
    kv.save(out, format=fmt)
    raw = out.read_bytes()
    for w in WORDS:  # the word's own UTF-8 bytes, then the separator
        assert w.encode("utf-8") + b" " in raw
    back = load_vectors(out)
    assert back.index_to_key == WORDS
    np.testing.assert_array_equal(back.vectors, kv.vectors)
    gensim_models = pytest.importorskip("gensim.models")
    g = gensim_models.KeyedVectors.load_word2vec_format(str(out), binary=fmt == "word2vec-binary")
    assert g.index_to_key == WORDS
    np.testing.assert_array_equal(g.vectors, kv.vectors)


def test_vec_keeps_unicode_whitespace_but_not_vt_ff(kv, tmp_path):
    # fastText reads .vec words with operator>>, which splits on \v and \f (C-locale isspace)
    for bad in ("i\x0bj", "k\x0cl"):
        with pytest.raises(FirthError, match="whitespace"):
            KeyedVectors([bad], np.zeros((1, 2))).save(tmp_path / "x.vec", format="vec")
    ok = [w for w in WORDS if "\x0b" not in w and "\x0c" not in w]
    sub = KeyedVectors(ok, kv[ok])
    sub.save(tmp_path / "v.vec", format="vec")
    assert load_vectors(tmp_path / "v.vec").index_to_key == ok


@pytest.mark.parametrize("bad", ["two words", "tab\there", "new\nline", "cr\rhere", ""])
def test_separators_are_refused_and_nothing_is_written(bad, tmp_path):
    for fmt in ("word2vec-text", "word2vec-binary"):
        with pytest.raises(FirthError, match="native"):
            KeyedVectors([bad, "ok"], np.zeros((2, 2))).save(tmp_path / "out", format=fmt)
        assert not list(tmp_path.iterdir())
