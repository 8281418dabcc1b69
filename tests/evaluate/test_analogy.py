"""Analogies: fast kernel vs the NumPy oracle, agreement with gensim, OOV counting, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from firth.vectors import KeyedVectors
from firth.errors import FirthError
from firth.evaluate.analogy import evaluate_analogies
from firth.evaluate.datasets import ANALOGY_FILE, read_analogies

from .conftest import gensim_kv


def test_google_set_bundled():
    secs = read_analogies(ANALOGY_FILE)
    assert len(secs) == 14
    assert sum(len(s.questions) for s in secs) == 19544
    assert sum(len(s.questions) for s in secs if s.kind == "semantic") == 8869
    assert [s.kind for s in secs].count("semantic") == 5


@pytest.mark.parametrize("restrict", [None, 900])
def test_fast_kernel_equals_reference(world, tmp_path, restrict):
    kv, _, _, text = world
    f = tmp_path / "q.txt"
    f.write_text(text)
    fast = evaluate_analogies(kv, f, restrict=restrict, block=128, slice_words=500)  # several blocks and slices
    ref = evaluate_analogies(kv, f, restrict=restrict, backend="reference")
    for m in ("add", "mul"):
        np.testing.assert_array_equal(fast["predictions"][m], ref["predictions"][m])
    assert fast["total"] == ref["total"]


def _gensim_counts(g, path, restrict, method):
    """gensim's evaluate_word_analogies for 3CosAdd; the same loop with most_similar_cosmul for 3CosMul."""
    if method == "add":
        _, secs = g.evaluate_word_analogies(str(path), restrict_vocab=restrict)
        return {s["section"]: len(s["correct"]) for s in secs}, {s["section"]: len(s["correct"]) + len(s["incorrect"]) for s in secs}
    ok = {k.upper(): g.get_index(k) for k in reversed(g.index_to_key[:restrict])}
    correct, answered, sec = {}, {}, None
    for line in open(path):
        if line.startswith(": "):
            sec = line[2:].strip()
            correct[sec] = answered[sec] = 0
            continue
        a, b, c, d = (w.upper() for w in line.split())
        if not all(w in ok for w in (a, b, c, d)):
            continue
        keys = g.key_to_index
        g.key_to_index = ok
        sims = g.most_similar_cosmul(positive=[b, c], negative=[a], topn=5)
        g.key_to_index = keys
        predicted = None
        for w, _ in sims:
            predicted = w.upper()
            if predicted in ok and predicted not in {a, b, c}:
                break
        answered[sec] += 1
        correct[sec] += predicted == d
    correct["Total accuracy"] = sum(correct.values())
    answered["Total accuracy"] = sum(answered.values())
    return correct, answered


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_agrees_with_gensim(world, tmp_path):
    kv, words, vecs, text = world
    f = tmp_path / "q.txt"
    f.write_text(text)
    g = gensim_kv(words, vecs)
    n = len(words)
    ours = evaluate_analogies(kv, f, restrict=n)
    gc, ga = _gensim_counts(g, f, n, "add")
    for s in ours["sections"]:
        assert (s["add"]["correct"], s["answered"]) == (gc[s["name"]], ga[s["name"]])
    assert ours["total"]["add"]["correct"] == gc["Total accuracy"]
    assert 0.2 < ours["total"]["add"]["accuracy"] < 0.95  # a real signal, not all-or-nothing
    # 3CosMul: gensim's most_similar_cosmul (epsilon 1e-6, searches the whole vocabulary)
    ours = evaluate_analogies(kv, f, restrict=n, eps=1e-6)
    gc, ga = _gensim_counts(g, f, n, "mul")
    for s in ours["sections"]:
        assert (s["mul"]["correct"], s["answered"]) == (gc[s["name"]], ga[s["name"]])
    # restricted vocabulary (gensim restrict_vocab), 3CosAdd
    ours = evaluate_analogies(kv, f, restrict=700, methods=["add"])
    gc, ga = _gensim_counts(g, f, 700, "add")
    assert ours["total"]["add"]["correct"] == gc["Total accuracy"]
    assert ours["total"]["answered"] == ga["Total accuracy"] < ours["total"]["questions"]


def test_oov_questions_counted_and_reported(world, tmp_path):
    kv, _, _, text = world
    f = tmp_path / "q.txt"
    f.write_text(text)
    r = evaluate_analogies(kv, f, restrict=None)
    assert r["total"]["questions"] == 3 * (90 + 2)
    assert r["total"]["oov"] == 6 and r["total"]["answered"] == 270
    for m in ("add", "mul"):
        t = r["total"][m]
        assert t["accuracy"] == pytest.approx(t["correct"] / 270)
        assert t["accuracy_all"] == pytest.approx(t["correct"] / 276)
    assert r["syntactic"]["questions"] == 92 and r["semantic"]["questions"] == 184


def test_exact_hand_example():
    # king - man + woman = queen with 3CosAdd; the question words themselves are excluded
    words = ["man", "woman", "king", "queen", "apple"]
    v = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 1], [0, 1, 1], [0.2, 0.2, -1]], np.float32)
    kv = KeyedVectors(words, v)
    from firth.evaluate.datasets import AnalogySection

    sec = [AnalogySection("royal", [("man", "king", "woman", "queen"), ("man", "king", "woman", "apple")])]
    r = evaluate_analogies(kv, sec, restrict=None)
    assert r["total"]["add"]["correct"] == 1 and r["total"]["mul"]["correct"] == 1
    assert r["predictions"]["add"].tolist() == [3, 3]


def test_bad_input(tmp_path):
    f = tmp_path / "bad.txt"
    f.write_text(": s\na b c d\na b c\n")
    with pytest.raises(FirthError, match=r"bad.txt:3: expected 4 words"):
        read_analogies(f)
    f.write_text("a b c d\n")
    with pytest.raises(FirthError, match=r"bad.txt:1: question before the first"):
        read_analogies(f)
    kv = KeyedVectors(["a", "b"], np.eye(2, dtype=np.float32))
    with pytest.raises(FirthError, match="--method"):
        evaluate_analogies(kv, ANALOGY_FILE, methods=["sub"])
