"""The cost model's closed forms (benchmarks/cost_distributed.py) against a simulation of the
sync schedule: rows touched at random (Poisson, the model's rates), rows due by firth's own rule
``(r + s) % p == 0``, rows sent counted sync by sync."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
cost = pytest.importorskip("cost_distributed")


def _simulate(counts, n, rare, g, syncs=4096, seed=0):
    """Mean rows sent per regular sync (blocking and overlapped) and the mean rows a full sync
    would find changed, from simulated touches."""
    from firth.train.sync import sync_periods

    counts = np.asarray(counts, np.float64)
    N = counts.sum()
    spe = max(1, int(np.ceil(N / n)))
    p = sync_periods(counts, len(counts), int(n), int(N), rare, 1 << (spe.bit_length() - 1))
    a_in, a_out = cost.rates(counts, g)
    lam = np.concatenate([a_in, a_out]) * n  # input rows, then output rows
    pp = np.concatenate([p, p])
    r = np.concatenate([np.arange(len(p)), np.arange(len(p))])
    rng = np.random.default_rng(seed)
    changed = np.zeros(len(lam), bool)
    blocking = overlapped = full = 0
    for s in range(syncs):
        changed |= rng.poisson(lam) > 0  # this interval's touches
        full += changed.sum()  # had this sync been the epoch's last
        due = (r + s) % pp == 0
        blocking += (due & changed).sum()
        overlapped += due.sum()
        changed[due] = False
    return blocking / syncs, overlapped / syncs, full / syncs


@pytest.mark.parametrize("rare", [0.0, 4.0, 16.0])
def test_rows_per_sync_matches_a_simulation_of_the_schedule(rare):
    counts = cost.zipf_counts(2e6, 3000)
    n, g = 20_000.0, 1.5
    m_b = cost.rows_per_sync(counts, n, rare, g, overlapped=False)
    m_o = cost.rows_per_sync(counts, n, rare, g, overlapped=True)
    sim_b, sim_o, sim_full = _simulate(counts, n, rare, g)
    assert m_b["due"] == m_o["due"] == pytest.approx(sim_o, rel=1e-9)  # exact over whole cycles
    assert m_o["sent"] == m_o["due"]
    assert m_b["sent"] == pytest.approx(sim_b, rel=0.02)
    assert m_b["full"] == pytest.approx(sim_full, rel=0.02)
    if rare == 0:  # every row every sync: the touched-rows model of every touched row
        assert m_b["due"] == 2 * len(counts)
        assert m_b["full"] == pytest.approx(m_b["sent"])


def test_mean_touched_is_the_mean_over_the_elapsed_intervals():
    lam = np.array([0.0, 1e-9, 0.01, 0.7, 5.0])
    p = np.array([1, 8, 64, 4, 2])
    want = [np.mean([1 - np.exp(-l * k) for k in range(1, q + 1)]) for l, q in zip(lam, p)]
    np.testing.assert_allclose(cost._mean_touched(lam, p.astype(float)), want, rtol=1e-6, atol=1e-12)


def test_zipf_counts_sum_to_the_corpus():
    c = cost.zipf_counts(1e9, 1_000_000)
    assert c.sum() == pytest.approx(1e9)
    assert c[0] / c[9] == pytest.approx(10.0)
