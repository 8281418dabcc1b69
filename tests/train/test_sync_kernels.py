"""The syncs' Numba loops against their NumPy spelling (and torch's bfloat16)."""

from __future__ import annotations

import numpy as np
import pytest

from firth.train.sync import changed_rows, to_bfloat16
from firth.train.sync_kernels import (AHEAD, apply_sums, bf16_bits, changed_flags, reference_apply, reference_take,
                                     take_deltas)


def _model(seed, V=50, d=7):
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(V, d)).astype(np.float32)
    base = (m - rng.normal(scale=1e-2, size=(V, d))).astype(np.float32)
    return rng, m, base


def test_take_deltas_equals_numpy_and_its_bfloat16_bits_equal_torch():
    torch = pytest.importorskip("torch")
    rng, m, base = _model(1)
    m[4, 2] = np.nan
    rows = [np.array([3, 4, 9], np.int64), np.array([0, 49, 17, 3, 22, 35, 8, 41, 11], np.int64)]  # > AHEAD
    n = sum(len(r) for r in rows)
    own, w32 = np.full((n, 7), -1, np.float32), np.full((n, 7), -1, np.float32)
    own16, w16 = np.full((n, 7), -1, np.float32), np.zeros((n, 7), np.uint16)
    at = at16 = 0
    for r in rows:
        at = take_deltas(m, base, r, own, w32, w16[:0], at, False)
        at16 = take_deltas(m, base, r, own16, w32[:0], w16, at16, True)
    want = np.concatenate([reference_take(m, base, r) for r in rows])
    assert at == at16 == n
    np.testing.assert_array_equal(own, want)  # bit-equal, NaN in the same place
    np.testing.assert_array_equal(w32, want)
    np.testing.assert_array_equal(own16, want)
    t = torch.from_numpy(want).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    fin = np.isfinite(want)
    np.testing.assert_array_equal(w16[fin], t[fin])
    assert np.isnan((w16[~fin].astype(np.uint32) << 16).view(np.float32)).all()
    np.testing.assert_array_equal(w16, bf16_bits(want))  # the readable conversion agrees
    back = (w16.astype(np.uint32) << 16).view(np.float32)
    np.testing.assert_array_equal(back[fin], to_bfloat16(want)[fin])


def test_changed_flags_equal_changed_rows_on_due_rows_and_on_all():
    rng, m, base = _model(5, V=40, d=9)
    m[::3] = base[::3]  # a third unchanged
    m[6, 8] = base[6, 8] = 1.5  # changed only in its first element
    m[6, :8] = base[6, :8]
    m[6, 0] += np.float32(1e-6)
    m[9] = base[9]
    m[9, 4] = np.nan  # NaN differs from everything
    m[12] = -0.0
    base[12] = 0.0  # -0 == +0: unchanged
    m[15] = base[15]
    m[15, 8] = np.nextafter(base[15, 8], np.float32(np.inf))  # the last element, by one ulp
    m[18] = base[18] = np.inf  # an inf equal to itself: unchanged
    m[21] = base[21]
    m[21, 3] = np.float32(1e-45)  # a subnormal against whatever base holds
    base[21, 3] = 0.0
    want = changed_rows(m, base)
    assert list(want[[6, 9, 12, 15, 18, 21]]) == [1, 1, 0, 1, 0, 1] and want[::3].sum() == want[[6, 9, 15, 21]].sum()
    rows = np.array([0, 3, 6, 7, 9, 12, 15, 18, 21, 22, 30, 39], np.int64)  # > AHEAD, due rows in any order
    got = np.full(len(rows), 7, np.uint8)
    changed_flags(m, base, rows, got)
    np.testing.assert_array_equal(got, want[rows])
    every = np.full(len(m), 7, np.uint8)
    changed_flags(m, base, np.arange(len(m)), every)
    np.testing.assert_array_equal(every, want)


def test_bfloat16_bits_round_ties_to_even_and_keep_specials():
    x = np.array([1.0 + 2**-8, 1.0 + 3 * 2**-8, -0.0, np.inf, -np.inf, np.finfo(np.float32).max], np.float32)
    bits = np.zeros(len(x), np.uint16)
    take_deltas(x[:, None], np.zeros((len(x), 1), np.float32), np.arange(len(x)), np.empty((len(x), 1), np.float32),
                np.empty((0, 1), np.float32), bits[:, None], 0, True)
    got = (bits.astype(np.uint32) << 16).view(np.float32)
    assert got[0] == 1.0 and got[1] == 1.0 + 2**-6  # ties to even
    assert np.signbit(got[2]) and got[2] == 0 and got[3] == np.inf and got[4] == -np.inf
    assert got[5] == np.inf  # the largest float32 rounds up past bfloat16's largest


NODIV = np.empty(0, np.float32)


@pytest.mark.parametrize("bf16", [False, True])
def test_apply_sums_divides_the_hot_rows_like_numpy(bf16):
    """Hot rows (divisor = the number of ranks) get the mean, the others the sum; the NumPy
    spelling gives the same bits."""
    rng, m, base = _model(3)
    rows = np.array([2, 9, 17, 40, 41], np.int64)
    own = reference_take(m, base, rows)
    summed = (3 * own + rng.normal(scale=1e-2, size=own.shape)).astype(np.float32)
    if bf16:
        summed = to_bfloat16(summed)
    div = np.array([3, 1, 3, 1, 1], np.float32)
    before = base.copy()
    m2, b2 = m.copy(), base.copy()
    reference_apply(m2, b2, rows, own, summed, div)
    s16 = bf16_bits(summed)
    bad = apply_sums(m, base, rows, own, summed if not bf16 else summed[:0], s16 if bf16 else s16[:0], 0, bf16, div)
    assert bad == -1
    np.testing.assert_array_equal(m, m2)
    np.testing.assert_array_equal(base, b2)
    assert np.array_equal(base[2], before[2] + summed[0] / np.float32(3))  # hot: the mean
    assert np.array_equal(base[9], before[9] + summed[1])  # not hot: the sum


@pytest.mark.parametrize("bf16", [False, True])
def test_apply_sums_equals_numpy_and_refuses_a_non_finite_row(bf16):
    rng, m, base = _model(2)
    rows = np.array([5, 1, 30, 7, 44, 12, 3, 29, 48, 20], np.int64)  # more rows than AHEAD: prefetches run
    assert len(rows) > AHEAD + 2
    own = reference_take(m, base, rows)
    m[rows] += np.float32(1e-3)  # this rank trained on after sending
    summed = (own + rng.normal(scale=1e-2, size=own.shape)).astype(np.float32)
    if bf16:
        summed = to_bfloat16(summed)
    m2, b2 = m.copy(), base.copy()
    reference_apply(m2, b2, rows, own, summed)
    s16 = bf16_bits(summed)
    bad = apply_sums(m, base, rows, own, summed if not bf16 else summed[:0], s16 if bf16 else s16[:0], 0, bf16, NODIV)
    assert bad == -1
    np.testing.assert_array_equal(m, m2)
    np.testing.assert_array_equal(base, b2)
    for i, x in ((2, np.inf), (8, np.nan), (9, -np.inf)):  # rows 30, 48, 20
        bad_sum = summed.copy()
        bad_sum[i, 3] = x
        m3, b3 = m.copy(), base.copy()
        bad = apply_sums(m, base, rows, own, bad_sum if not bf16 else bad_sum[:0],
                         bf16_bits(bad_sum) if bf16 else s16[:0], 0, bf16, NODIV)
        assert bad == rows[i]
        np.testing.assert_array_equal(m[rows[i]], m3[rows[i]])  # the bad row is left as it was
        np.testing.assert_array_equal(base[rows[i]], b3[rows[i]])
        m[:], base[:] = m3, b3  # the rows before it were applied: undo for the next case
