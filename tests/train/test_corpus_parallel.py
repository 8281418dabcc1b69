"""Encoding with several threads gives the one-thread vocabulary, counts, ids and sentences."""

from __future__ import annotations

import random

import numpy as np
import pytest

import firth.train.corpus as fc
from firth.errors import FirthError
from firth.text import Normalizer
from firth.train.corpus import encode_corpus

SPACES = [" ", " ", " ", "  ", "\t", "\r", "\x0b", "\x0c", "\x1c", "\u00a0", "\u2003", "\u3000", "\u0085"]


def _text(rng: random.Random, n_lines: int, long_every: int = 0) -> str:
    vocab = [f"w{i}" for i in range(60)] + ["é", "日本", "naïve", "a\u00adb", "x\u200by", "Z"]
    lines = []
    for k in range(n_lines):
        n = rng.choice([0, 0, 1, 2, 5, 9, 17]) if not (long_every and k % long_every == 0) else rng.randint(20, 45)
        toks = [rng.choice(vocab) for _ in range(n)]
        line = "".join(t + rng.choice(SPACES) for t in toks)
        if rng.random() < 0.3:
            line = rng.choice(SPACES) + line
        lines.append(line)
    return "\n".join(lines) + rng.choice(["", "\n", "\n\n", " "])


def _state(enc):
    out = (list(enc.words), enc.counts.tolist(), enc.offsets.tolist(), np.asarray(enc.ids).tolist(),
           None if enc.premap is None else enc.premap.tolist())
    enc.close()
    return out


def _reference(paths, limit):
    """The Python reader (str.split + dict: an identity normaliser takes that path)."""
    enc = encode_corpus(paths, normalizer=lambda t: t, max_sentence_length=limit)
    return _state(enc)[:4]


@pytest.mark.parametrize("block", [5, 16, 97, 1 << 20])
@pytest.mark.parametrize("limit", [7, 10_000])
def test_parallel_equals_one_thread_and_reference(tmp_path, monkeypatch, block, limit):
    rng = random.Random(block * 31 + limit)
    paths = []
    for f in range(3):
        p = tmp_path / f"c{f}.txt"
        p.write_text(_text(rng, 40 + 20 * f, long_every=7), encoding="utf-8")
        paths.append(p)
    monkeypatch.setattr(fc, "BLOCK_SIZE", block)
    one = _state(encode_corpus(paths, max_sentence_length=limit))
    assert one[:4] == _reference(paths, limit)
    for workers in (2, 3):
        assert _state(encode_corpus(paths, max_sentence_length=limit, workers=workers)) == one


@pytest.mark.parametrize("block", [3, 64])
def test_one_long_line_cut_by_the_limit(tmp_path, monkeypatch, block):
    words = [f"t{i % 13}" for i in range(1003)]
    p = tmp_path / "t8.txt"
    p.write_text(" ".join(words), encoding="utf-8")  # text8 style: no newline
    monkeypatch.setattr(fc, "BLOCK_SIZE", block)
    enc = encode_corpus(p, max_sentence_length=100, workers=2)
    assert enc.n_tokens == 1003
    assert list(np.diff(enc.offsets)) == [100] * 10 + [3]
    assert [enc.words[i] for i in enc.ids] == words
    enc.close()
    # a line of exactly the limit, then empty lines, then more
    p.write_text(" ".join(words[:100]) + "\n\n\n" + " ".join(words[:250]) + "\n", encoding="utf-8")
    enc = encode_corpus(p, max_sentence_length=100, workers=3)
    assert list(np.diff(enc.offsets)) == [100, 100, 100, 50]
    assert _state(enc) == _state(encode_corpus(p, max_sentence_length=100))


def test_normalizer_and_counts_with_workers(tmp_path, monkeypatch):
    p = tmp_path / "c.txt"
    p.write_text("The the THE Paris 1999\nthe paris PARIS\n" * 50, encoding="utf-8")
    monkeypatch.setattr(fc, "BLOCK_SIZE", 11)
    norm = Normalizer(lowercase=True, digits="zero")  # punctuation kept: the Numba path
    one = _state(encode_corpus(p, normalizer=norm))
    two = _state(encode_corpus(p, normalizer=norm, workers=2))
    assert two == one
    assert one[0] == ["the", "paris", "0000"] and one[1] == [200, 150, 50]


def test_errors_are_the_same(tmp_path):
    empty = tmp_path / "e.txt"
    empty.write_bytes(b"")
    with pytest.raises(FirthError, match="e.txt: corpus file is empty"):
        encode_corpus(empty, workers=2)
    spaces = tmp_path / "s.txt"
    spaces.write_bytes(b" \n \n")
    with pytest.raises(FirthError, match="no tokens"):
        encode_corpus(spaces, workers=2)
    bad = tmp_path / "b.txt"
    bad.write_bytes(b"ok\nfine \xff here\n")
    with pytest.raises(FirthError) as one:
        encode_corpus(bad)
    with pytest.raises(FirthError) as two:
        encode_corpus(bad, workers=2)
    assert str(one.value) == str(two.value) and "line 2" in str(two.value)


def test_word2vec_vocab_and_ids_do_not_depend_on_workers(tmp_path):
    from firth.train.word2vec import Word2Vec

    rng = random.Random(5)
    p = tmp_path / "c.txt"
    p.write_text(_text(rng, 400), encoding="utf-8")
    got = []
    for workers in (1, 2):
        m = Word2Vec(dim=8, min_count=2, workers=workers, epochs=1, seed=1).build_vocab(str(p))
        enc = m._encoded
        got.append((m.vocab.words, m.vocab.counts.tolist(), enc.offsets.tolist(), np.asarray(enc.ids).tolist()))
        enc.close()
    assert got[0] == got[1]
