import numpy as np
import pytest

from firth.search.analyze import Analyzer
from firth.search.index import Index
from firth.search.metrics import MEASURES
from firth.search.retrieve import Config, Retriever
from firth.search.rm3 import rm1
from firth.search.stats import betainc, paired_t_test, randomization_test
from firth.search.tune import Tuner, fold_ids

DOCS = [("d0", "wing flow flow", ""), ("d1", "wing tip", ""), ("d2", "boundary layer flow", ""), ("d3", "heat", "")]


def test_rm1_by_hand():
    idx = Index.build(DOCS, Analyzer())
    # doc weights 3/4, 1/4; p(t|d0): wing 1/3, flow 2/3; p(t|d2): boundari, layer, flow 1/3 each
    full = rm1(idx, np.array([0, 2]), np.array([3.0, 1.0]), fb_terms=10)
    assert full == pytest.approx({"flow": 0.75 * 2 / 3 + 0.25 / 3, "wing": 0.25, "boundari": 0.25 / 3, "layer": 0.25 / 3})
    top2 = rm1(idx, np.array([0, 2]), np.array([3.0, 1.0]), fb_terms=2)
    assert top2 == pytest.approx({"flow": 0.7, "wing": 0.3})


def test_rm3_query_model_interpolates_with_the_query():
    r = Retriever(Index.build(DOCS, Analyzer()))
    model = r.query_model({"tip": 1.0}, Config(expand="rm3", fb_docs=1, fb_terms=2, weight=0.5))
    # first pass returns d1 only: RM1 = wing 0.5, tip 0.5
    assert model == pytest.approx({"tip": 0.5 + 0.25, "wing": 0.25})


def test_t_test_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    special = pytest.importorskip("scipy.special")
    rng = np.random.default_rng(3)
    a = rng.random(40)
    b = a + rng.normal(0.03, 0.1, 40)
    t, p = paired_t_test(a, b)
    ref = stats.ttest_rel(b, a)
    assert t == pytest.approx(ref.statistic, rel=1e-10)
    assert p == pytest.approx(ref.pvalue, rel=1e-8)
    for a_, b_, x in [(0.5, 0.5, 0.2), (10, 0.5, 0.9), (3.5, 2, 0.7)]:
        assert betainc(a_, b_, x) == pytest.approx(special.betainc(a_, b_, x), rel=1e-10)


def test_randomisation_test():
    a = np.linspace(0, 1, 20)
    assert randomization_test(a, a, 1000) == 1.0
    # a constant improvement: only the two all-same-sign relabellings reach it
    p = randomization_test(a, a + 0.1, 1000, seed=1)
    assert p < 0.01
    assert p == randomization_test(a, a + 0.1, 1000, seed=1)  # seeded: deterministic
    noisy = a + np.random.default_rng(0).normal(0, 0.2, 20)
    assert 0.05 < randomization_test(a, noisy, 2000, seed=0) <= 1.0


def test_fold_ids_partition():
    f = fold_ids(23, 5, seed=0)
    assert sorted(np.bincount(f).tolist()) == [4, 4, 5, 5, 5]
    assert np.array_equal(f, fold_ids(23, 5, seed=0))


class FakeTuner(Tuner):
    """Per-query scores made up so that one configuration is perfect on fold 0 only."""

    def __init__(self, n=10):
        self.fid = fold_ids(n, 5, 0)
        self.n = n
        self.qids = [str(i) for i in range(n)]

    def scores(self, cfg):
        if (cfg.k1, cfg.b) == (2.0, 0.9):
            m = np.where(self.fid == 0, 1.0, 0.0)
        else:
            m = np.full(self.n, 0.5)
        return {k: m for k in MEASURES}


def test_cross_validation_never_tunes_on_the_test_fold():
    out, chosen, fid = FakeTuner().cross_validate(Config(), folds=5, seed=0)
    # tuned on its own queries, fold 0 would pick k1=2, b=0.9 and score 1.0; it must not
    assert out["MAP"].tolist() == [0.5] * 10
    assert all((c.k1, c.b) == (0.6, 0.3) for c in chosen)
