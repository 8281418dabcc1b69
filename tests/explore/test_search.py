"""The neighbour index against its oracle, KeyedVectors (cosine over get_normed())."""

from __future__ import annotations

import numpy as np
import pytest

from firth.explore.kernels import quantize, screen, screen_one
from firth.explore.search import NeighbourIndex, screen_one_reference, screen_reference
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


@pytest.mark.parametrize("built", [False, True])
def test_screened_cosmul_matches_most_similar_cosmul(built):
    kv = _kv(n=800, d=20, seed=3)
    idx = NeighbourIndex(kv.vectors, block=101)
    if built:
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
    codes, scale, resid, cnorm = quantize(W)
    # the codes reconstruct each row to within its residual
    recon = codes.astype(np.float64) * scale[:, None]
    np.testing.assert_allclose(np.linalg.norm(W - recon, axis=1), resid, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.linalg.norm(recon, axis=1), cnorm, rtol=1e-5)
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


def _clustered(n=3000, d=300, seed=7):
    """Rows in tight clusters and exact duplicates: many scores within the screen's error
    of the k-th best, where a bound that is too tight would show."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((30, d)).astype(np.float32)
    v = centers[rng.integers(0, 30, n)] + 0.05 * rng.standard_normal((n, d)).astype(np.float32)
    v[100:110] = v[99]  # ties: equal scores, broken by index
    v[200] *= 1e-3  # a short row
    return KeyedVectors([f"w{i}" for i in range(n)], v.astype(np.float32))


def test_screen_one_matches_reference_and_bounds_every_row():
    kv = _clustered()
    idx = NeighbourIndex(kv.vectors, block=512)
    idx.build()
    W = kv.get_normed()
    rng = np.random.default_rng(2)
    for qi in (0, 99, 200, 1234):
        q = W[qi] + (0.3 * rng.standard_normal(W.shape[1]).astype(np.float32) if qi == 1234 else 0)
        q = (q / np.linalg.norm(q)).astype(np.float32)
        hi = np.empty(len(W), np.float32)
        idx.screen_one(q, hi)
        terms = idx._query_terms(q)
        ref = screen_one_reference(idx._codes, idx._scale, idx._resid, idx._cnorm, *terms)
        np.testing.assert_allclose(hi, ref, rtol=1e-6, atol=1e-6)
        exact32 = idx.exact_rows(np.arange(len(W))) @ q  # what the answer is scored with
        assert (exact32 <= hi).all(), "the screen's upper bound is below an exact score"
        assert np.median(hi - exact32) < 0.05  # and informative


@pytest.mark.parametrize("restrict", [None, 1500])
def test_screened_equals_blocked_exact_on_clusters(restrict):
    """The fast path (int8 screen) against the slow readable one (blocked exact search)."""
    kv = _clustered()
    fast = NeighbourIndex(kv.vectors, block=700)
    fast.build()
    mapped = NeighbourIndex(kv.vectors, block=700, keep_rows=False)  # re-scores from the matrix
    mapped.build()
    slow = NeighbourIndex(kv.vectors, block=700)
    np.testing.assert_array_equal(fast.exact_rows(np.arange(3000)), mapped.exact_rows(np.arange(3000)))
    W = kv.get_normed()
    for qi in (0, 5, 99, 105, 200, 2999):
        for k in (1, 10, 100):
            a = fast.search(W[qi], k, exclude=[qi], restrict=restrict)
            b = slow.search(W[qi], k, exclude=[qi], restrict=restrict)
            c = mapped.search(W[qi], k, exclude=[qi], restrict=restrict)
            assert a[0].tolist() == b[0].tolist() == c[0].tolist()
            np.testing.assert_array_equal(a[1], c[1])
            np.testing.assert_allclose(a[1], b[1], rtol=0, atol=1e-6)  # float32 dot products in another order
