"""Limits: antonyms vs synonyms vs random pairs; polysemy clusters."""

from __future__ import annotations

import numpy as np
import pytest

from firth.vectors import KeyedVectors
from firth.evaluate.datasets import ANTONYMS_FILE, SYNONYMS_FILE, read_word_pairs
from firth.evaluate.limits import antonyms, polysemy, silhouette


def test_bundled_wordnet_pairs():
    ant = read_word_pairs(ANTONYMS_FILE)
    syn = read_word_pairs(SYNONYMS_FILE)
    assert len(ant) == 3229 and len(syn) == 8659
    assert ("cold", "hot") in ant and ("bad", "good") in ant
    assert (ANTONYMS_FILE.parent / "WordNet-3.0-LICENSE.txt").read_text().count("Princeton") >= 2


def test_antonym_statistics_on_constructed_vectors():
    rng = np.random.default_rng(0)
    dim, n = 40, 30
    words, vecs, ant, syn = [], [], [], []
    for i in range(n):
        base = rng.standard_normal(dim)
        words += [f"p{i}", f"q{i}", f"s{i}"]
        vecs += [base + 0.5 * rng.standard_normal(dim), base + 0.5 * rng.standard_normal(dim),
                 base + 0.5 * rng.standard_normal(dim)]
        ant.append((f"p{i}", f"q{i}"))
        syn.append((f"p{i}", f"s{i}"))
    ant.append(("p0", "unknown"))
    kv = KeyedVectors(words, np.asarray(vecs, np.float32))
    r = antonyms(kv, ant, syn, seed=0)
    W = kv.get_normed().astype(np.float64)
    expect = np.mean([W[3 * i] @ W[3 * i + 1] for i in range(n)])
    assert r["antonym"]["pairs"] == n and r["antonym"]["mean"] == pytest.approx(expect, abs=1e-9)
    assert r["coverage"]["antonym"] == pytest.approx(n / (n + 1))
    assert r["antonym"]["mean"] > 0.6 and r["synonym"]["mean"] > 0.6 and abs(r["random"]["mean"]) < 0.2
    assert r["antonym_in_top10"] == 1.0
    assert antonyms(kv, ant, syn, seed=0) == r  # seeded random pairs


def test_polysemy_separates_two_senses():
    rng = np.random.default_rng(1)
    dim = 50
    river, money = rng.standard_normal(dim), rng.standard_normal(dim)
    words = ["bank"] + [f"river{i}" for i in range(12)] + [f"money{i}" for i in range(12)] + [f"f{i}" for i in range(300)]
    vecs = [river + money]
    vecs += [river + 0.4 * rng.standard_normal(dim) for _ in range(12)]
    vecs += [money + 0.4 * rng.standard_normal(dim) for _ in range(12)]
    vecs += [rng.standard_normal(dim) for _ in range(300)]
    kv = KeyedVectors(words, np.asarray(vecs, np.float32))
    r = polysemy(kv, "Bank", topn=24)
    assert r["found"] and r["k"] == 2 and r["silhouette"] > 0.3
    groups = sorted(sorted(w.rstrip("0123456789") for w in c["words"]) for c in r["clusters"])
    assert groups == [["money"] * 12, ["river"] * 12]
    assert polysemy(kv, "nothere")["found"] is False


def test_silhouette_by_hand():
    X = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], float)
    assert silhouette(X, np.array([0, 0, 1, 1])) == pytest.approx(1.0)
