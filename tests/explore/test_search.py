"""The neighbour index against its oracle, KeyedVectors (cosine over get_normed())."""

from __future__ import annotations

import numpy as np
import pytest

from firth.explore.kernels import quantize, screen
from firth.explore.search import NeighbourIndex, screen_reference
from firth.explore.session import _cosmul, _cosmul_bounds
from firth.vectors import KeyedVectors


def _kv(n=500, d=32, seed=0):
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, d)).astype(np.float32)
    if n > 12:
        v[7] = 0.0  # a zero row: never NaN, scores 0
        v[11] = v[12] * 3  # the same direction, another length
    return KeyedVectors([f"w{i}" for i in range(n)], v)


@pytest.mark.parametrize("built", [False, True])
@pytest.mark.parametrize("block", [37, 1 << 16])
def test_search_matches_most_similar(built, block):
    kv = _kv()
    idx = NeighbourIndex(kv.vectors, block=block)
    if built:
        idx.build()
    assert idx.ready.is_set() == built
    for i in (0, 11, 123, 499):
        q = kv.get_normed()[i]
        got_i, got_s = idx.search(q, 10, exclude=[i])
        want = kv.most_similar(kv.index_to_key[i], topn=10)
        assert [kv.index_to_key[j] for j in got_i] == [w for w, _ in want]
        np.testing.assert_allclose(got_s, [s for _, s in want], rtol=0, atol=2e-6)
    # restrict to the most frequent rows, as most_similar(restrict_vocab=)
    q = kv.get_normed()[3]
    got_i, _ = idx.search(q, 5, exclude=[3], restrict=100)
    assert [kv.index_to_key[j] for j in got_i] == [w for w, _ in kv.most_similar("w3", topn=5, restrict_vocab=100)]
    assert got_i.max() < 100


def test_screened_cosmul_matches_most_similar_cosmul():
    kv = _kv(n=800, d=20, seed=3)
    idx = NeighbourIndex(kv.vectors, block=101)
    idx.build()
    W = kv.get_normed()
    for a, b, c in ((1, 2, 3), (40, 5, 600), (11, 12, 13)):
        got_i, got_s = idx.search_fn([W[b], W[c], W[a]], _cosmul, 10, exclude=[a, b, c], bounds=_cosmul_bounds)
        want = kv.most_similar_cosmul(positive=[f"w{b}", f"w{c}"], negative=[f"w{a}"], topn=10)
        assert [kv.index_to_key[j] for j in got_i] == [w for w, _ in want]
        np.testing.assert_allclose(got_s, [s for _, s in want], rtol=1e-5)


def test_screen_kernel_matches_reference_and_bound_holds():
    kv = _kv(n=400, d=50, seed=5)
    W = kv.get_normed()
    codes, scale, resid = quantize(W)
    # the codes reconstruct each row to within its residual
    recon = codes.astype(np.float64) * scale[:, None]
    np.testing.assert_allclose(np.linalg.norm(W - recon, axis=1), resid, rtol=1e-5, atol=1e-7)
    rng = np.random.default_rng(1)
    Q = rng.standard_normal((3, 50)).astype(np.float32)
    Q /= np.linalg.norm(Q, axis=1, keepdims=True)
    lo = np.empty((400, 3), np.float32)
    hi = np.empty((400, 3), np.float32)
    qn = np.linalg.norm(Q, axis=1).astype(np.float32)
    q1 = np.abs(Q).sum(axis=1).astype(np.float32)
    screen(codes, scale, resid, Q, qn, q1, np.float32(52 * 2.0**-24), lo, hi)
    approx = screen_reference(codes, scale, Q)
    np.testing.assert_allclose((lo + hi) / 2, np.clip(approx, -1, 1), atol=1e-5)
    exact = W.astype(np.float64) @ Q.T.astype(np.float64)
    assert (exact >= lo - 1e-7).all() and (exact <= hi + 1e-7).all()
    assert (hi - lo).max() < 0.1  # the screen is informative, not a no-op


def test_few_rows_and_everything_excluded():
    kv = _kv(n=5, d=4)
    idx = NeighbourIndex(kv.vectors)
    idx.build()
    i, s = idx.search(kv.get_normed()[0], 10, exclude=[0])
    assert len(i) == 4 and 0 not in i
    i, s = idx.search(kv.get_normed()[0], 10, exclude=range(5))
    assert len(i) == 0
