"""Small vector sets for the evaluate tests (firth KeyedVectors + gensim built from the same arrays)."""

from __future__ import annotations

import numpy as np
import pytest

from firth.vectors import KeyedVectors


def gensim_kv(words, vecs):
    gensim = pytest.importorskip("gensim", reason="gensim (the oracle) is not installed: pip install gensim")
    g = gensim.models.KeyedVectors(vecs.shape[1])
    g.add_vectors(list(words), np.asarray(vecs, dtype=np.float32))
    return g


def analogy_world(seed=0, n_pairs=10, dim=40, n_filler=1500, noise=1.0):
    """Vectors where y_i = x_i + R_section + noise: an analogy file with a real signal.

    Returns (words, vectors, analogy file text). Two semantic sections, one 'gram' section,
    a few questions with an unknown word, mixed-case words and a case variant in the vocab.
    """
    rng = np.random.default_rng(seed)
    words, vecs, lines = [], [], []
    for s, name in enumerate(["capitals", "family", "gram1-plural"]):
        R = rng.standard_normal(dim) * 1.5
        xs = [f"{name[:3]}x{i}" for i in range(n_pairs)]
        ys = [f"{name[:3]}y{i}" for i in range(n_pairs)]
        for x, y in zip(xs, ys):
            v = rng.standard_normal(dim)
            words += [x, y]
            vecs += [v, v + R + noise * rng.standard_normal(dim) * np.sqrt(dim) / 4]
        lines.append(f": {name}")
        for i in range(n_pairs):
            for j in range(n_pairs):
                if i != j:
                    a, b, c, d = xs[i], ys[i], xs[j], ys[j]
                    if (i + j) % 7 == 0:  # some questions written in upper case
                        a, d = a.upper(), d.upper()
                    lines.append(f"{a} {b} {c} {d}")
        lines.append(f"{xs[0]} {ys[0]} unknownword {ys[1]}")
        lines.append(f"{xs[1]} {ys[1]} {xs[2]} missingword")
    for i in range(n_filler):
        words.append(f"f{i}")
        vecs.append(rng.standard_normal(dim))
    # a case variant of a question word (less frequent, so the lower-case one answers)
    words.append(words[3].capitalize())
    vecs.append(np.asarray(vecs[3]) + 0.01 * rng.standard_normal(dim))
    order = rng.permutation(len(words))  # mix question words among the fillers (frequency order)
    words = [words[i] for i in order]
    vecs = np.asarray(vecs, dtype=np.float32)[order]
    # make sure the capitalised variant comes after its lower-case twin
    lw = [w.lower() for w in words]
    for i, w in enumerate(words):
        if w != w.lower() and lw.index(w.lower()) > i:
            j = lw.index(w.lower())
            words[i], words[j] = words[j], words[i]
            vecs[[i, j]] = vecs[[j, i]]
            lw = [w.lower() for w in words]
    return words, vecs, "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def world():
    words, vecs, text = analogy_world()
    return KeyedVectors(words, vecs), words, vecs, text
