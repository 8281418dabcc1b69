"""Compact n-gram rows in fastText training: the same vectors as the dense matrix, less memory.

The dense path (``FastText.compact_ngrams = False``: all ``bucket`` rows, as before) is the
oracle: with one worker the compact run must give bit-identical word rows, used n-gram rows,
output matrix and composed vectors, and the files written from it must equal those written
from the dense matrix with the unused buckets set to zero.
"""

from __future__ import annotations

import numpy as np
import pytest

from firth.errors import FirthError
from firth.train.fasttext import FastText
from firth.train.fasttext.compact import compact_subwords, uniform_used_rows
from firth.train.fasttext.kernels import uniform_rows
from firth.vectors import FastTextVectors, load_vectors
from firth.vectors.fasttext import NgramRows

BUCKET = 3000


def _sentences(seed=0, n=300, length=12):
    """Words of random letters (many n-grams, so that some buckets stay unused) with a skewed count."""
    rng = np.random.default_rng(seed)
    vocab = ["".join(rng.choice(list("abcdefghijklmnopqrstuvwxyzé"), size=rng.integers(2, 9))) for _ in range(120)]
    p = 1.0 / np.arange(1, len(vocab) + 1)
    p /= p.sum()
    return [list(rng.choice(vocab, size=length, p=p)) for _ in range(n)]


def _train(model, compact, sents, epochs=2, **kw):
    m = FastText(model=model, dim=12, epochs=epochs, min_count=2, workers=1, seed=11, bucket=BUCKET, minn=2,
                 maxn=4, progress=False, **kw)
    m.compact_ngrams = compact
    m.build_vocab(sents)
    return m.train()


@pytest.fixture(scope="module")
def pair():
    sents = _sentences()
    return {model: (_train(model, True, sents), _train(model, False, sents)) for model in ("sg", "cbow")}


@pytest.mark.parametrize("model", ["sg", "cbow"])
def test_compact_training_equals_dense_bit_for_bit(pair, model):
    c, d = pair[model]
    V = len(c.vocab)
    used = c._used
    assert 0 < len(used) < BUCKET  # some buckets unused, so the compact matrix is smaller
    assert c.syn0.shape == (V + len(used), 12) and d.syn0.shape == (V + BUCKET, 12)
    assert np.array_equal(c.syn0[:V], d.syn0[:V])
    assert np.array_equal(c.syn0[V:], d.syn0[V + used])
    assert np.array_equal(c.syn1, d.syn1)
    assert c.epoch_losses == d.epoch_losses
    # the dense run never touched an unused row: still its initial value
    unused = np.setdiff1d(np.arange(BUCKET), used)
    init = np.empty((V + BUCKET, 12), np.float32)
    uniform_rows(init, 0, V + BUCKET, np.float32(1 / 12), 11)
    assert np.array_equal(d.syn0[V + unused], init[V + unused])
    kc, kd = c.wv, d.wv
    assert isinstance(kc.vectors_ngrams, NgramRows) and kc.bucket == kd.bucket == BUCKET
    assert np.array_equal(kc.vectors, kd.vectors)
    # an unseen word made of used n-grams: the same vector; one with unused n-grams: those add zero
    word = c.vocab.words[3] + c.vocab.words[4]
    ids = kc.ngram_ids(word)
    if np.isin(ids, used).all():
        assert np.array_equal(kc.get_vector(word), kd.get_vector(word))
    odd = "qqqqxxxzzzz"
    ids = np.array(kc.ngram_ids(odd))
    want = np.zeros(12, np.float32)
    for h in ids:
        if h in set(used.tolist()):
            want += d.syn0[V + h]
    want *= np.float32(1 / len(ids))
    assert np.array_equal(kc.get_vector(odd), want)


def test_used_rows_start_as_the_dense_rows():
    V, B, d = 7, 1000, 5
    dense = np.empty((V + B, d), np.float32)
    uniform_rows(dense, 0, V + B, np.float32(0.2), 3)
    used = np.array([0, 3, 4, 5, 500, 999])
    c = np.empty((V + len(used), d), np.float32)
    uniform_rows(c, 0, V, np.float32(0.2), 3)
    uniform_used_rows(c, V, used, 0, 2, np.float32(0.2), 3)  # any split
    uniform_used_rows(c, V, used, 2, len(used), np.float32(0.2), 3)
    assert np.array_equal(c, dense[np.r_[np.arange(V), V + used]])


def test_compact_subwords_renumbers_one_to_one():
    V = 4
    sub = np.array([0, 9, 7, 9, 1, 20, 2, 7, 3], np.int32)  # word rows < 4, bucket rows 4 + b
    used, out = compact_subwords(sub, V)
    assert used.tolist() == [3, 5, 16]
    assert out.tolist() == [0, 5, 4, 5, 1, 6, 2, 4, 3] and out.dtype == sub.dtype


def test_ngram_rows_read_as_the_dense_matrix():
    rng = np.random.default_rng(1)
    used = np.array([1, 2, 7, 64, 65, 99])
    rows = rng.random((len(used), 3), dtype=np.float32)
    m = NgramRows(rows, used, 100)
    dense = np.zeros((100, 3), np.float32)
    dense[used] = rows
    assert m.shape == (100, 3) and len(m) == 100 and m.dtype == np.float32 and m.ndim == 2
    assert np.array_equal(np.asarray(m), dense)
    for h in (0, 1, 7, 8, 99, -1, np.int64(64)):
        assert np.array_equal(m[h], dense[h])
    for s in (slice(0, 10), slice(60, 200), slice(5, 3), slice(0, 100, 7), slice(None)):
        assert np.array_equal(m[s], dense[s])
    ids = np.array([[0, 7], [65, 64]])
    assert np.array_equal(m[ids], dense[ids])
    assert np.array_equal(np.concatenate(list(m.blocks(step=30))), dense)
    with pytest.raises(IndexError):
        m[100]
    with pytest.raises(IndexError):
        m[np.array([5, 100])]
    with pytest.raises(FirthError, match="sorted"):
        NgramRows(rows, used[::-1], 100)
    with pytest.raises(FirthError, match="do not match"):
        NgramRows(rows[:2], used, 100)
    assert np.asarray(NgramRows(np.zeros((0, 3), np.float32), np.zeros(0, np.int64), 5)).tolist() == [[0.0] * 3] * 5


def test_writers_expand_the_compact_rows(pair, tmp_path):
    c, _ = pair["sg"]
    kv = c.wv
    dense = FastTextVectors(kv.index_to_key, kv.vectors_vocab, np.asarray(kv.vectors_ngrams), kv.minn, kv.maxn,
                            counts=kv.counts, meta=kv.meta, output=kv.output)
    assert np.array_equal(dense.vectors, kv.vectors)
    for fmt, name in (("native", "v.firth"), ("fasttext-bin", "v.bin"), ("vec", "v.vec")):
        kv.save(tmp_path / ("c" + name), format=fmt)
        dense.save(tmp_path / ("d" + name), format=fmt)
        if fmt != "native":  # (a zip records times: the archive's contents are compared below)
            assert (tmp_path / ("c" + name)).read_bytes() == (tmp_path / ("d" + name)).read_bytes(), fmt
    back = load_vectors(tmp_path / "cv.firth")
    assert isinstance(back, FastTextVectors) and back.bucket == BUCKET
    assert np.array_equal(np.asarray(back.vectors_ngrams), np.asarray(kv.vectors_ngrams))
    assert np.array_equal(back.vectors, kv.vectors) and np.array_equal(back.output, kv.output)
    odd = "qqqqxxxzzzz"
    assert np.array_equal(back.get_vector(odd), kv.get_vector(odd))
    fb = load_vectors(tmp_path / "cv.bin")
    assert np.array_equal(fb.vectors, kv.vectors) and np.array_equal(fb.get_vector(odd), kv.get_vector(odd))
    # copies and limits keep the compact rows
    snap = c.vectors(copy=True)
    assert isinstance(snap.vectors_ngrams, NgramRows) and not np.shares_memory(snap.vectors_ngrams.rows, c.syn0)
    assert np.array_equal(kv.limit(10).get_vector(odd), kv.get_vector(odd))


def test_facebook_fasttext_reads_the_compact_bin(pair, tmp_path):
    fasttext = pytest.importorskip("fasttext")
    kv = pair["cbow"][0].wv
    kv.save_facebook(tmp_path / "c.bin")
    ft = fasttext.load_model(str(tmp_path / "c.bin"))
    assert ft.words == kv.index_to_key
    for w in kv.index_to_key[:20] + ["qqqqxxxzzzz", "abcdef"]:
        np.testing.assert_allclose(ft.get_word_vector(w), kv.get_vector(w), atol=1e-6)


def test_resume_from_a_dense_checkpoint(tmp_path, capsys):
    """A checkpoint holding all bucket rows (the layout before compact rows) resumes in the
    compact trainer and ends where an uninterrupted compact run ends."""
    sents = _sentences(seed=2, n=120)
    full = _train("sg", True, sents)

    class Stop(Exception):
        pass

    def stop(model, epoch, loss):
        raise Stop

    first = FastText(model="sg", dim=12, epochs=2, min_count=2, workers=1, seed=11, bucket=BUCKET, minn=2, maxn=4)
    first.compact_ngrams = False
    first.build_vocab(sents)
    with pytest.raises(Stop):
        first.train(checkpoint=tmp_path / "ck", callbacks=[stop])
    again = FastText(model="sg", dim=12, epochs=2, min_count=2, workers=1, seed=11, bucket=BUCKET, minn=2, maxn=4)
    again.build_vocab(sents)
    capsys.readouterr()
    again.train(checkpoint=tmp_path / "ck")
    assert "resuming from" in capsys.readouterr().err and again.epochs_trained == 2
    assert np.array_equal(again.syn0, full.syn0) and np.array_equal(again.syn1, full.syn1)


def test_memory_estimate_counts_the_used_rows(pair, capsys):
    c, d = pair["sg"]
    V = len(c.vocab)
    assert c.memory_estimate(V)["input matrix (words + used buckets)"] == 4 * 12 * (V + len(c._used))
    assert d.memory_estimate(V)["input matrix (words + used buckets)"] == 4 * 12 * (V + BUCKET)
    c.print_memory()
    assert f"{BUCKET:,} n-gram buckets, {len(c._used):,} of them used" in capsys.readouterr().err
