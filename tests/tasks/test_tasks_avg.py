"""Averaged-embedding classifier: kernel = NumPy oracle, learns a separable task, round trip."""

import numpy as np
import pytest

from firth.tasks.avg import AvgClassifier, AvgConfig, reference_sgd_step


def toy(n=200, seed=0):
    rng = np.random.RandomState(seed)
    pos, neg, filler = ["great", "fine", "superb"], ["awful", "poor", "dull"], ["the", "a", "film", "plot", "was"]
    docs, labels = [], []
    for i in range(n):
        lab = "pos" if i % 2 else "neg"
        words = list(rng.choice(filler, 4)) + [rng.choice(pos if lab == "pos" else neg)]
        rng.shuffle(words)
        docs.append(words)
        labels.append(lab)
    return docs, labels


def test_kernel_step_matches_numpy_reference():
    from firth.tasks.kernels import train_epoch

    rng = np.random.RandomState(1)
    W_in = rng.uniform(-0.1, 0.1, (12, 5)).astype(np.float32)
    W_out = rng.uniform(-0.1, 0.1, (3, 5)).astype(np.float32)
    ids = np.array([0, 3, 3, 7, 2, 11, 5], dtype=np.int64)
    offs = np.array([0, 4, 7], dtype=np.int64)
    y = np.array([2, 0], dtype=np.int64)
    order = np.array([1, 0], dtype=np.int64)
    A_in, A_out = W_in.copy(), W_out.copy()
    B_in, B_out = W_in.astype(np.float64), W_out.astype(np.float64)
    # one thread, lr constant over the epoch (lr_start == lr_end): plain sequential SGD
    loss = train_epoch(A_in, A_out, ids, offs, y, order, 0.3, 0.3, 1)
    ref = 0.0
    for e in order:
        ref += reference_sgd_step(B_in, B_out, ids[offs[e]:offs[e + 1]], y[e], 0.3)
    assert abs(loss - ref) < 1e-5
    np.testing.assert_allclose(A_in, B_in, atol=1e-6)
    np.testing.assert_allclose(A_out, B_out, atol=1e-6)


def test_reference_gradient_matches_finite_differences():
    rng = np.random.RandomState(2)
    W_in = rng.normal(0, 0.3, (6, 4))
    W_out = rng.normal(0, 0.3, (3, 4))
    rows = np.array([1, 4, 4])

    def loss(Wi, Wo):
        h = Wi[rows].mean(0)
        z = Wo @ h
        return -(z[2] - np.log(np.exp(z).sum()))

    lr = 1e-3
    A_in, A_out = W_in.copy(), W_out.copy()
    reference_sgd_step(A_in, A_out, rows, 2, lr)
    eps = 1e-6
    for (W, A, which) in ((W_out, A_out, "out"), (W_in, A_in, "in")):
        for idx in [(0, 1), (2, 3), (1, 0), (4, 2)] if which == "in" else [(0, 1), (2, 3), (1, 0)]:
            Wp, Wm = W.copy(), W.copy()
            Wp[idx] += eps
            Wm[idx] -= eps
            if which == "in":
                g = (loss(Wp, W_out) - loss(Wm, W_out)) / (2 * eps)
            else:
                g = (loss(W_in, Wp) - loss(W_in, Wm)) / (2 * eps)
            assert abs((W[idx] - A[idx]) / lr - g) < 1e-5  # step = -lr * gradient


def test_learns_separable_task_and_round_trips(tmp_path):
    docs, labels = toy(300)
    test_docs, test_labels = toy(100, seed=5)
    m = AvgClassifier(AvgConfig(epochs=10, threads=1, dim=20, bucket=1000))
    m.fit(docs, labels, test_docs[:50], test_labels[:50], progress=False)
    pred = m.predict(test_docs)
    acc = (pred == m.labels.encode(test_labels)).mean()
    assert acc == 1.0
    m.save(tmp_path / "m")
    m2 = AvgClassifier.load(tmp_path / "m")
    np.testing.assert_array_equal(m.predict_proba(test_docs), m2.predict_proba(test_docs))
    assert m2.labels.names == ["neg", "pos"]
    assert not list(tmp_path.glob(".*tmp"))  # atomic: no temporary left behind


def test_one_thread_is_deterministic():
    docs, labels = toy(100)
    a = AvgClassifier(AvgConfig(epochs=3, threads=1, dim=8, seed=4)).fit(docs, labels, progress=False)
    b = AvgClassifier(AvgConfig(epochs=3, threads=1, dim=8, seed=4)).fit(docs, labels, progress=False)
    np.testing.assert_array_equal(a.W_in, b.W_in)
    np.testing.assert_array_equal(a.W_out, b.W_out)


def test_ngram_features_and_unknowns():
    m = AvgClassifier(AvgConfig(ngrams=2, bucket=50, dim=4, epochs=1, threads=1))
    m.fit([["a", "b"], ["b", "c"]], ["x", "y"], progress=False)
    ids, offs = m.features([["a", "b"], ["zzz"], []])
    nw = len(m.words)  # words: a b c </s>
    # doc 0: words a, b, </s> + bigrams (a b), (b </s>); all seen in training
    assert offs[1] - offs[0] == 5 and (ids[offs[0]:offs[0] + 3] < nw).all()
    # doc 1: unknown word dropped, only </s> and maybe-unseen bigram (zzz </s>)
    assert 1 <= offs[2] - offs[1] <= 2
    proba = m.predict_proba([["zzz"], []])
    assert proba.shape == (2, 2) and np.allclose(proba.sum(1), 1)


def test_pretrained_vectors_initialise_rows():
    class KV:  # the duck-typed part of KeyedVectors the classifier uses
        vector_size = 3
        vectors = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32)
        normalizer = None

        def get_index(self, w, default=None):
            return {"good": 0, "bad": 1}.get(w, default)

    m = AvgClassifier(AvgConfig(epochs=0, threads=1))
    m.fit([["good", "x"], ["bad"]], ["p", "n"], vectors=KV(), progress=False)
    assert m.config.dim == 3
    np.testing.assert_array_equal(m.W_in[m.word_index["good"]], [1, 2, 3])
    np.testing.assert_array_equal(m.W_in[m.word_index["bad"]], [4, 5, 6])


def test_firth_vectors_normaliser_applies_to_task_tokens(tmp_path):
    from firth.vectors import KeyedVectors
    from firth.text import Normalizer

    kv = KeyedVectors(["good", "bad"], np.array([[1, 0], [0, 1]], dtype=np.float32), normalizer=Normalizer(lowercase=True))
    m = AvgClassifier(AvgConfig(epochs=0, threads=1, ngrams=1))
    m.fit([["Good", "Film"], ["BAD"]], ["p", "n"], vectors=kv, progress=False)
    assert "good" in m.word_index and "Good" not in m.word_index and "film" in m.word_index
    np.testing.assert_array_equal(m.W_in[m.word_index["bad"]], [0, 1])
    m.save(tmp_path / "m")
    m2 = AvgClassifier.load(tmp_path / "m")
    assert m2._norm("GOOD") == "good"
    np.testing.assert_array_equal(m.predict_proba([["GOOD"]]), m2.predict_proba([["good"]]))


def _reference_flat(m, docs):
    """Readable per-token oracle of AvgClassifier._flat (normalise, look up, hash each token)."""
    from firth.tasks.avg import EOS, _word_hash

    wid, wh, offs = [], [], [0]
    for toks in docs:
        for t in toks:
            t = m._norm(t)
            wid.append(m.word_index.get(t, -1))
            wh.append(_word_hash(t))
        wid.append(m.word_index.get(EOS, -1))
        wh.append(_word_hash(EOS))
        offs.append(len(wid))
    return np.array(wid, np.int64), np.array(wh, np.uint64), np.array(offs, np.int64)


def test_typed_features_match_per_token_reference():
    docs, labels = toy(60)
    docs[0] = docs[0] + ["</s>", "Great", "GREAT"]
    m = AvgClassifier(AvgConfig(epochs=1, threads=1, dim=4, lowercase=True)).fit(docs, labels, progress=False)
    assert m.words.count("great") == 1 and "GREAT" not in m.words
    test = [["Great", "unseen", "</s>"], [], ["film", "film"]]
    for got, want in zip(m._flat(test), _reference_flat(m, test)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("bound", [50, 1 << 41])  # flag table / sort and binary search
def test_bucket_helpers_match_numpy(bound):
    from firth.tasks.avg import _bucket_rows, _sorted_unique

    x = np.random.RandomState(0).randint(0, 50, 300).astype(np.int64)
    u = _sorted_unique(x, bound)
    np.testing.assert_array_equal(u, np.unique(x))
    q = np.arange(50, dtype=np.int64)
    pos, found = _bucket_rows(u[::2], q, bound)
    np.testing.assert_array_equal(found, np.isin(q, u[::2]))
    np.testing.assert_array_equal(u[::2][pos[found]], q[found])


def test_snapshot_quantiser_matches_reference():
    from firth.tasks.kernels import dequantize_rows, dequantize_rows_reference, quantize_rows, quantize_rows_reference

    rng = np.random.RandomState(3)
    W = (rng.standard_normal((50, 7)) * rng.uniform(1e-4, 2.0, (50, 1))).astype(np.float32)
    W[4] = 0.0  # a zero row: scale 0, restored as zeros
    q, s = np.empty(W.shape, np.int8), np.empty(len(W), np.float32)
    quantize_rows(W, q, s)
    q_ref, s_ref = quantize_rows_reference(W)
    np.testing.assert_array_equal(q, q_ref)
    np.testing.assert_array_equal(s, s_ref)
    assert np.abs(q).max() == 127 and not q[4].any() and s[4] == 0
    back = np.empty_like(W)
    dequantize_rows(q, s, back)
    np.testing.assert_array_equal(back, dequantize_rows_reference(q, s))
    # within half a step of the original, every element
    assert np.all(np.abs(back - W) <= s[:, None] / 2 * (1 + 1e-5) + 1e-12)


def test_early_stopping_restores_the_kept_epoch():
    """Dev accuracy 0.5, 1.0, 0.0, 0.0 (forced): epoch 2 is kept. The model returned is epoch
    2's: W_out exactly, W_in its int8 snapshot (within half a step of each row's scale)."""
    from firth.tasks.kernels import dequantize_rows_reference, quantize_rows_reference

    docs, labels = toy(120)
    cfg = AvgConfig(dim=8, epochs=4, threads=1, seed=3, patience=10, select_se=0.0)
    ref = AvgClassifier(cfg).fit(docs, labels, progress=False, stop_after=2)  # epoch 2's weights, same seed
    m = AvgClassifier(cfg)
    accs = iter([0.5, 1.0, 0.0, 0.0])

    def fake_proba(ids, offs):
        gold = m.labels.encode(labels[:40])
        right = np.random.RandomState(0).rand(len(gold)) < next(accs)
        top = np.where(right, gold, 1 - gold)
        return np.eye(2, dtype=np.float32)[top]

    m._proba = fake_proba
    m.fit(docs, labels, docs[:40], labels[:40], progress=False)
    assert [r["dev_accuracy"] for r in m.history][1] == 1.0 and len(m.history) == 4 and m.best_epoch == 2
    np.testing.assert_array_equal(m.W_out, ref.W_out)
    q, s = quantize_rows_reference(ref.W_in)
    np.testing.assert_array_equal(m.W_in, dequantize_rows_reference(q, s))
    assert np.abs(m.W_in - ref.W_in).max() <= s.max() / 2 * (1 + 1e-5)
    # the last epoch kept: the trained float32 weights themselves, no quantisation
    m2 = AvgClassifier(cfg)
    m2._proba = lambda ids, offs: np.eye(2, dtype=np.float32)[m2.labels.encode(labels[:40])]
    m2.fit(docs, labels, docs[:40], labels[:40], progress=False)
    full = AvgClassifier(cfg).fit(docs, labels, progress=False)
    assert m2.best_epoch == 4
    np.testing.assert_array_equal(m2.W_in, full.W_in)
