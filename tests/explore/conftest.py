"""A small world of vectors with known answers for the explore tests.

king - man + woman = queen by construction; WEAT 1's flowers lean to its pleasant words and
insects to the unpleasant ones; hot / cold (WordNet antonyms) are close; three words that
look like HTML or quotes sit right next to "king", so they appear in its neighbours and map.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from firth.evaluate.datasets import WEAT_FILE

HOSTILE = ['<script>window.__pwned=1</script>', '<img src=x onerror="window.__pwned=1">', "\"quote'&amp;"]


def world(seed: int = 0, dim: int = 24, n_filler: int = 300, noise: float = 0.05):
    rng = np.random.default_rng(seed)
    base = {k: rng.standard_normal(dim) for k in ("royal", "person", "male", "female", "pleasant", "temp")}
    words, vecs = [], []

    def add(w, v):
        words.append(w)
        vecs.append(v + noise * rng.standard_normal(dim))

    add("king", base["royal"] + base["male"])
    add("queen", base["royal"] + base["female"])
    add("man", base["person"] + base["male"])
    add("woman", base["person"] + base["female"])
    add("prince", base["royal"] + base["male"] * 0.8)
    add("hot", base["temp"] + 0.3 * rng.standard_normal(dim))
    add("cold", base["temp"] + 0.3 * rng.standard_normal(dim))
    for w in HOSTILE:
        add(w, base["royal"] + base["male"] + 0.2 * rng.standard_normal(dim))
    test = json.loads(WEAT_FILE.read_text())[0]  # weat1: flowers / insects, pleasant / unpleasant
    (xs, ys), (a_, b_) = test["targets"].values(), test["attributes"].values()
    for w in xs:
        add(w, 0.8 * base["pleasant"] + rng.standard_normal(dim))
    for w in ys:
        add(w, -0.8 * base["pleasant"] + rng.standard_normal(dim))
    for w in a_:
        add(w, base["pleasant"] + rng.standard_normal(dim))
    for w in b_:
        if w not in words:
            add(w, -base["pleasant"] + rng.standard_normal(dim))
    for i in range(n_filler):
        add(f"filler{i}", rng.standard_normal(dim) * 1.5)
    return words, np.asarray(vecs, dtype=np.float32)


@pytest.fixture(scope="session")
def model_files(tmp_path_factory):
    """Two native vectors files of the same world (different noise): a.firth, b.firth."""
    from firth.vectors import KeyedVectors

    d = tmp_path_factory.mktemp("explore")
    out = []
    for name, seed in (("a.firth", 0), ("b.firth", 0)):
        words, vecs = world(seed, noise=0.05 if name == "a.firth" else 0.4)
        p = d / name
        KeyedVectors(words, vecs).save(p)
        out.append(p)
    return out
