import math

import numpy as np
import pytest

from firth.vectors import KeyedVectors
from firth.errors import FirthError
from firth.search.analyze import Analyzer
from firth.search.expand import EmbeddingExpander, interpolate, looks_analysed

# analysed-term vectors: query [flow, wing] has centroid direction (1, 1, 0)
WORDS = ["flow", "wing", "lift", "heat", "turbul"]
VECS = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1]], dtype=np.float32)


@pytest.fixture
def kv():
    return KeyedVectors(WORDS, VECS)


def test_centroid_scores_are_cosines_to_the_query_centroid(kv):
    exp = EmbeddingExpander(kv, Analyzer())
    assert exp.analysed
    got = exp.expand(["flow", "wing"], n_terms=3, method="centroid")
    assert [t for t, _ in got] == ["lift", "turbul", "heat"]
    assert [s for _, s in got] == pytest.approx([1.0, 0.5, 0.0], abs=1e-6)
    # query terms are never proposed, unknown query terms are ignored
    assert [t for t, _ in exp.expand(["flow", "zzz"], 5)] == ["lift", "turbul", "wing", "heat"]  # ties: vocabulary order
    assert exp.expand(["zzz"], 5) == []


def test_combsum_fuses_per_term_neighbour_lists(kv):
    exp = EmbeddingExpander(kv, Analyzer())
    got = exp.expand(["flow", "wing"], n_terms=5, method="combsum", pool=2)
    # flow: lift .707, turbul .707 -> 0.5 each; wing: lift .707, heat 0 -> lift 1.0
    assert [t for t, _ in got] == ["lift", "turbul"]
    assert [s for _, s in got] == pytest.approx([1.5, 0.5])


def test_vocabulary_restricts_candidates(kv):
    exp = EmbeddingExpander(kv, Analyzer(), vocabulary=["flow", "wing", "turbul", "heat"])
    assert [t for t, _ in exp.expand(["flow", "wing"], 2)] == ["turbul", "heat"]
    with pytest.raises(FirthError):
        EmbeddingExpander(kv, Analyzer(), vocabulary=["nothing"])


def test_raw_vectors_are_mapped_to_terms():
    words = ["the", "layer", "layers", "flow", "flows"]
    vecs = np.array([[1, 1], [1, 0], [0, 1], [3, 4], [6, 8]], dtype=np.float32)
    kv = KeyedVectors(words, vecs, counts=np.array([100, 3, 1, 5, 5]))
    assert not looks_analysed(kv, Analyzer())
    exp = EmbeddingExpander(kv, Analyzer())
    assert not exp.analysed
    assert exp.terms == ["layer", "flow"]
    # layer = unit(3 * (1, 0) + 1 * (0, 1)); flow = (0.6, 0.8)
    assert exp.E[0] == pytest.approx(np.array([3, 1]) / math.sqrt(10))
    assert exp.E[1] == pytest.approx([0.6, 0.8])
    assert exp.display("layer") == "layer" and exp.display("flow") == "flow"
    assert exp.expand(Analyzer()("the layers"), 1) == [("flow", pytest.approx((1.8 + 0.8) / math.sqrt(10)))]


def test_interpolation():
    q = interpolate({"flow": 1.0, "wing": 1.0}, {"lift": 1.0, "turbul": 0.5, "neg": -1.0}, 0.4)
    assert q == pytest.approx({"flow": 0.3, "wing": 0.3, "lift": 0.4 * 2 / 3, "turbul": 0.4 / 3})
    assert sum(q.values()) == pytest.approx(1.0)
    assert interpolate({"flow": 2.0}, {"lift": 1.0}, 0.0) == pytest.approx({"flow": 1.0, "lift": 0.0})
    assert interpolate({"flow": 2.0}, {}, 0.5) == {"flow": 1.0}
    with pytest.raises(FirthError):
        interpolate({"flow": 1.0}, {"lift": 1.0}, 1.5)
