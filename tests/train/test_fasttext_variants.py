"""The experimental FIRTH_FT_VARIANT switches (issue 18): fastText's sigmoid / log tables and its
partly-zero start-up, each checked against what Facebook's source computes."""

from __future__ import annotations

import numpy as np
import pytest

from firth.train.fasttext import FastText
from firth.train.fasttext import variants as V


def test_sigmoid_and_log_tables_read_as_fasttext():
    # Loss::sigmoid: table[int((x + 8) * 512 / 16)], the left end of each 1/32 step; 0 / 1 beyond +-8
    assert V.fb_sigmoid(np.float32(-9.0)) == 0.0 and V.fb_sigmoid(np.float32(8.5)) == 1.0
    assert V.fb_sigmoid(np.float32(0.0)) == np.float32(0.5)
    assert V.fb_sigmoid(np.float32(0.03)) == np.float32(0.5)  # same step as 0
    assert V.fb_sigmoid(np.float32(-0.001)) == pytest.approx(1 / (1 + np.exp(1 / 32)), rel=1e-6)
    assert V.fb_sigmoid(np.float32(3.3)) == pytest.approx(1 / (1 + np.exp(-(105 / 32))), rel=1e-6)
    # Loss::log: t_log[int(x * 512)], t_log[i] = log((i + 1e-5) / 512)
    assert V.fb_log(np.float32(0.5)) == pytest.approx(np.log(0.5), rel=1e-6)
    assert V.fb_log(np.float32(1.5)) == 0.0
    assert V.fb_log(np.float32(0.0)) == pytest.approx(np.log(1e-5 / 512), rel=1e-6)


def test_init_zero_as_fasttext_blocks_dense_and_compact_agree():
    nw, buckets, d = 7, 50, 4
    dense = np.ones((nw + buckets, d), np.float32)
    V.fb_init_zero(dense, nw, None, buckets, 2)
    first = 2 * ((nw + buckets) * d // 10)  # DenseMatrix::uniform: 2 blocks of a tenth each
    assert (dense.ravel()[:first] == 1).all() and (dense.ravel()[first:] == 0).all()
    used = np.array([0, 3, 4, 10, 30, 49])
    comp = np.ones((nw + len(used), d), np.float32)
    V.fb_init_zero(comp, nw, used, buckets, 2)
    np.testing.assert_array_equal(comp[nw:], dense[nw + used])
    np.testing.assert_array_equal(comp[:nw], dense[:nw])
    twelve = np.ones((nw + buckets, d), np.float32)
    V.fb_init_zero(twelve, nw, None, buckets, 12)  # 10 blocks cover all but the remainder
    assert (twelve.ravel()[: 10 * ((nw + buckets) * d // 10)] == 1).all()


def test_switch_trains_deterministically_and_rejects_unknown(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    words = ["the", "cat", "sat", "on", "mat", "dog", "ran", "far", "away", "home"]
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(" ".join(rng.choice(words, 30)) for _ in range(60)) + "\n")
    kw = dict(model="sg", dim=8, epochs=1, min_count=1, workers=1, seed=3, bucket=500, progress=False)
    plain = FastText(**kw).train(str(corpus)).syn0.copy()
    monkeypatch.setenv("FIRTH_FT_VARIANT", "sigmoid,init")
    a = FastText(**kw).train(str(corpus)).syn0.copy()
    b = FastText(**kw).train(str(corpus)).syn0.copy()
    np.testing.assert_array_equal(a, b)
    assert np.isfinite(a).all() and not np.array_equal(a, plain)
    monkeypatch.setenv("FIRTH_FT_VARIANT", "sigmoid,bogus")
    with pytest.raises(ValueError, match="FIRTH_FT_VARIANT"):
        V.active()
