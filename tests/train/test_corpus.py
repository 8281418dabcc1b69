"""Streaming corpus reading and one-pass encoding."""

from __future__ import annotations

import bz2
import gzip
import lzma

import numpy as np
import pytest

from firth.train.corpus import Corpus, encode_corpus
from firth.errors import FirthError
from firth.text import Normalizer
from firth.train.vocab import Vocab


def _write(path, text, opener=open):
    with opener(path, "wb") as f:
        f.write(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_lines_are_sentences(tmp_path):
    p = _write(tmp_path / "c.txt", "a b c\n\n  d e \nf\n")
    assert list(Corpus(p)) == [["a", "b", "c"], ["d", "e"], ["f"]]


def test_one_long_line_is_chunked_without_dropping(tmp_path):
    words = [f"w{i % 97}" for i in range(25_003)]
    p = _write(tmp_path / "t8.txt", " ".join(words))  # text8 style: no newline
    sents = list(Corpus(p, max_sentence_length=10_000))
    assert [len(s) for s in sents] == [10_000, 10_000, 5_003]
    assert sum(sents, []) == words
    enc = encode_corpus(p, max_sentence_length=10_000)
    assert enc.n_tokens == 25_003
    assert list(np.diff(enc.offsets)) == [10_000, 10_000, 5_003]
    assert [enc.words[i] for i in enc.ids] == words


def test_block_boundaries_never_split_tokens(tmp_path, monkeypatch):
    import firth.train.corpus as fc

    monkeypatch.setattr(fc, "BLOCK_SIZE", 7)
    text = "alpha beta\ngamma deltaepsilonzeta eta\n theta"
    p = _write(tmp_path / "c.txt", text)
    assert list(Corpus(p)) == [l.split() for l in text.split("\n")]
    enc = encode_corpus(p)
    assert [enc.words[i] for i in enc.ids] == text.split()
    assert list(enc.offsets) == [0, 2, 5, 6]


@pytest.mark.parametrize("opener", [gzip.open, bz2.open, lzma.open])
def test_compressed_files_by_content(tmp_path, opener):
    p = _write(tmp_path / "corpus.dat", "x y z\nx y\n", opener)  # no telling suffix
    assert list(Corpus(p)) == [["x", "y", "z"], ["x", "y"]]


def test_several_files_and_directories(tmp_path):
    d = tmp_path / "dir"
    d.mkdir()
    _write(d / "b.txt", "b1 b2\n")
    _write(d / "a.txt", "a1\n")
    _write(d / ".hidden", "nope\n")
    extra = _write(tmp_path / "z.txt", "z\n")
    assert list(Corpus([d, extra])) == [["a1"], ["b1", "b2"], ["z"]]
    enc = encode_corpus([d, extra])
    assert enc.n_sentences == 3 and enc.words == ["a1", "b1", "b2", "z"]


def test_normalizer_applied_as_read(tmp_path):
    p = _write(tmp_path / "c.txt", "The the THE, Paris 1999 !!\n")
    norm = Normalizer(lowercase=True, digits="zero", punct="strip")
    assert list(Corpus(p, normalizer=norm)) == [["the", "the", "the", "paris", "0000"]]
    enc = encode_corpus(p, normalizer=norm)
    assert enc.words == ["the", "paris", "0000"]
    assert list(enc.counts) == [3, 1, 1]


def test_encode_counts_and_remap(tmp_path):
    p = _write(tmp_path / "c.txt", "a b a c\nc c d\nd\n")
    enc = encode_corpus(p)
    assert enc.words == ["a", "b", "c", "d"] and list(enc.counts) == [2, 1, 3, 2]
    vocab, mapping = Vocab.from_counts(enc.words, enc.counts, min_count=2)
    assert vocab.words == ["c", "a", "d"]  # ties (a, d) in first-occurrence order
    enc.remap(mapping)
    # b dropped, sentences kept (windows span over removed words, as in word2vec)
    got = [[vocab.words[i] for i in enc.sentence(s)] for s in range(enc.n_sentences)]
    assert got == [["a", "a", "c"], ["c", "c", "d"], ["d"]]
    enc.close()


def test_in_memory_sentences(tmp_path):
    enc = encode_corpus([["a", "b"], [], ["b"]])
    assert enc.n_sentences == 2 and enc.n_tokens == 3 and list(enc.counts) == [1, 2]


def test_non_utf8_names_file_line_and_offset(tmp_path):
    p = _write(tmp_path / "bad.txt", b"fine line\nsecond \xff here\n")
    with pytest.raises(FirthError, match=r"bad\.txt: line 2 \(byte offset 17\).*UTF-8"):
        list(Corpus(p))
    with pytest.raises(FirthError, match=r"bad\.txt: line 2"):
        encode_corpus(p)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(FirthError, match="nope.txt: no such corpus file"):
        encode_corpus(tmp_path / "nope.txt")
    e = _write(tmp_path / "empty.txt", "")
    with pytest.raises(FirthError, match="empty.txt: corpus file is empty"):
        encode_corpus(e)
    w = _write(tmp_path / "ws.txt", "  \n\n")
    with pytest.raises(FirthError, match="ws.txt: the corpus has no tokens"):
        encode_corpus(w)
    (tmp_path / "emptydir").mkdir()
    with pytest.raises(FirthError, match="emptydir: directory has no files"):
        Corpus(tmp_path / "emptydir")


def test_shared_small_corpus_counts(shared):
    p = shared("corpora", "small", "en-100k.txt")
    enc = encode_corpus(p)
    assert enc.n_tokens == 100_000
    assert enc.n_sentences == 10  # one 100k-token line -> 10 sentences of 10,000
    vocab, mapping = Vocab.from_counts(enc.words, enc.counts, 5)
    assert len(vocab) == 2197  # the corpus README's figure


def _decode(enc):
    return [[enc.words[i] for i in enc.sentence(s)] for s in range(enc.n_sentences)]


@pytest.mark.parametrize("block", [5, 64, 1 << 20])
@pytest.mark.parametrize("lowercase", [False, True])
def test_fast_tokenizer_agrees_with_str_split(tmp_path, monkeypatch, block, lowercase):
    """The Numba tokenizer splits exactly like str.split() (Unicode whitespace included)."""
    import firth.train.corpus as fc

    monkeypatch.setattr(fc, "BLOCK_SIZE", block)
    rng = np.random.default_rng(block)
    seps = [" ", "  ", "\t", "\r\n", "\n", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\xa0", "\u1680", "\u2003",
            "\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\n\n"]
    vocab = ["Paris", "paris", "été", "日本", "a", "bb", "x\u200by", "ü", "Ωmega", "z" * 40]
    parts = []
    for _ in range(400):
        parts.append(vocab[rng.integers(len(vocab))])
        parts.append(seps[rng.integers(len(seps))])
    text = "".join(parts)
    p = tmp_path / "u.txt"
    p.write_text(text, encoding="utf-8", newline="")
    norm = Normalizer(lowercase=True) if lowercase else None
    expect = list(Corpus(p, normalizer=norm, max_sentence_length=7))
    enc = encode_corpus(p, normalizer=norm, max_sentence_length=7)
    assert enc.premap is None or lowercase
    v, mapping = Vocab.from_counts(enc.words, enc.counts, min_count=1)
    enc.remap(mapping)
    got = [[v.words[i] for i in enc.sentence(s)] for s in range(enc.n_sentences)]
    assert got == expect
    # counts in first-occurrence order
    flat = [t for s in expect for t in s]
    first = list(dict.fromkeys(flat))
    assert sorted(zip(v.words, v.counts.tolist())) == sorted((w, flat.count(w)) for w in first)


def test_python_path_for_stripping_normalizer(tmp_path):
    p = _write(tmp_path / "c.txt", "a , b\n, ,\nc")
    enc = encode_corpus(p, normalizer=Normalizer(punct="strip"))
    assert enc.premap is None and _decode(enc) == [["a", "b"], ["c"]]


def _rss_file_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssFile:"):
                return int(line.split()[1])
    return None


def test_remap_in_chunks_and_release_keep_the_ids(tmp_path, monkeypatch):
    import firth.train.corpus as C

    rng = np.random.default_rng(0)
    lines = [" ".join(f"w{int(x)}" for x in rng.zipf(1.5, size=int(rng.integers(1, 30))) if x < 200) or "w1"
             for _ in range(400)]
    p = tmp_path / "c.txt"
    p.write_text("\n".join(lines) + "\n")
    want_sents = [[w for w in ln.split()] for ln in lines]
    monkeypatch.setattr(C, "REMAP_CHUNK", 7)  # many chunks, sentence by sentence
    enc = encode_corpus(p)
    vocab, mapping = Vocab.from_counts(enc.words, enc.counts, min_count=3)
    enc.remap(mapping)
    kept = [[vocab.index[w] for w in s if w in vocab.index] for s in want_sents]
    kept = [s for s in kept if s]
    assert enc.n_sentences == len(kept)
    assert [enc.sentence(s).tolist() for s in range(enc.n_sentences)] == kept
    before = enc.ids.copy()
    enc.release(0, enc.n_sentences // 2)
    enc.release()
    np.testing.assert_array_equal(enc.ids, before)  # read again from the page cache


@pytest.mark.skipif(_rss_file_kib() is None, reason="needs Linux /proc/self/status")
def test_release_returns_the_pages_of_the_mapping(tmp_path):
    p = tmp_path / "big.txt"
    line = " ".join(f"w{i % 500}" for i in range(1000))
    p.write_text((line + "\n") * 4000)  # 4M tokens = 16 MB of ids
    enc = encode_corpus(p)
    vocab, mapping = Vocab.from_counts(enc.words, enc.counts, min_count=1)
    enc.remap(mapping)
    assert int(enc.ids.sum()) > 0  # every page mapped again
    touched = _rss_file_kib()
    enc.release()
    assert touched - _rss_file_kib() > 12_000  # KiB: most of the 16 MB left the process
    assert int(enc.ids[-1]) == vocab.index["w499"]
