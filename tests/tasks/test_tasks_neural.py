"""biLSTM tagger and acceptor on firth.rnn: learn toy tasks, save/load gives identical output."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from firth.tasks.neural import AcceptorClassifier, RNNTagger, make_batches  # noqa: E402

SMALL = dict(dim=16, hidden=16, epochs=12, patience=0, lr=1e-2, batch_size=8, dropout=0.0, threads=1, unk_alpha=0.0)


def toy_tagging(n, seed):
    rng = np.random.RandomState(seed)
    lex = {"the": "DT", "a": "DT", "dog": "NN", "cat": "NN", "runs": "VB", "sleeps": "VB", "big": "JJ"}
    words = list(lex)
    sents = [list(rng.choice(words, rng.randint(2, 7))) for _ in range(n)]
    return sents, [[lex[w] for w in s] for s in sents]


def test_make_batches_groups_similar_lengths():
    b = make_batches([5, 1, 3, 1, 5, 2], 2)
    assert [list(x) for x in b] == [[1, 3], [5, 2], [0, 4]]


def test_tagger_learns_and_round_trips(tmp_path):
    sents, tags = toy_tagging(80, 0)
    dev_s, dev_t = toy_tagging(20, 1)
    m = RNNTagger(seed=0, **SMALL).fit(sents, tags, dev_s, dev_t, progress=False)
    assert m.predict(dev_s) == dev_t
    assert m.history[-1]["dev"] == 1.0
    m.save(tmp_path / "tagger")
    from firth.tasks.tagging import load_tagger

    m2 = load_tagger(tmp_path / "tagger")
    assert m2.predict(dev_s) == m.predict(dev_s)
    with torch.no_grad():
        b = m.embed.batch(dev_s)
        np.testing.assert_array_equal(m.net(**b).numpy(), m2.net(**b).numpy())


def test_tagger_with_chars_runs():
    sents, tags = toy_tagging(30, 2)
    m = RNNTagger(seed=0, **dict(SMALL, epochs=2, chars=True, char_dim=4, char_hidden=4)).fit(sents, tags, progress=False)
    out = m.predict([["dog", "unseenword"]])
    assert len(out[0]) == 2


def test_acceptor_learns_and_round_trips(tmp_path):
    rng = np.random.RandomState(0)
    docs, labels = [], []
    for i in range(120):
        lab = ["neg", "pos"][i % 2]
        d = list(rng.choice(["the", "film", "was", "a"], 3)) + [("good" if lab == "pos" else "bad")]
        rng.shuffle(d)
        docs.append(d)
        labels.append(lab)
    m = AcceptorClassifier(seed=0, **SMALL).fit(docs[:100], labels[:100], docs[100:], labels[100:], progress=False)
    assert (m.predict(docs[100:]) == m.labels.encode(labels[100:])).all()
    m.save(tmp_path / "acc")
    from firth.tasks.classify import load_classifier

    m2 = load_classifier(tmp_path / "acc")
    np.testing.assert_array_equal(m.predict_proba(docs), m2.predict_proba(docs))


def test_same_seed_same_model():
    sents, tags = toy_tagging(30, 3)
    a = RNNTagger(seed=5, **dict(SMALL, epochs=2)).fit(sents, tags, progress=False)
    b = RNNTagger(seed=5, **dict(SMALL, epochs=2)).fit(sents, tags, progress=False)
    for (k, v), (_, w) in zip(a.net.state_dict().items(), b.net.state_dict().items()):
        assert torch.equal(v, w), k


def test_tagger_from_firth_vectors_uses_their_normaliser(tmp_path):
    from firth.vectors import KeyedVectors
    from firth.text import Normalizer

    kv = KeyedVectors(["the", "dog", "barks"], np.eye(3, 4, dtype=np.float32), normalizer=Normalizer(lowercase=True))
    m = RNNTagger(seed=0, **dict(SMALL, epochs=1, freeze=True)).fit([["The", "Dog"]], [["DT", "NN"]], vectors=kv,
                                                                    progress=False)
    emb = m.net.embed.words
    assert emb.index("THE") == emb.index("the") != 1  # normalised lookup, not <unk>
    np.testing.assert_array_equal(emb.embedding.weight[emb.index("dog")].detach().numpy(), kv["dog"])
    m.save(tmp_path / "t")
    from firth.tasks.tagging import load_tagger

    assert load_tagger(tmp_path / "t").net.embed.words.index("DOG") == emb.index("dog")


def test_acceptor_freeze_epochs_holds_pretrained_rows_then_trains_them():
    from firth.vectors import KeyedVectors

    kv = KeyedVectors(["good", "bad", "film"], np.eye(3, 4, dtype=np.float32))
    docs = [["good", "film"], ["bad", "film"]] * 8
    labels = ["pos", "neg"] * 8
    opts = dict(SMALL, dim=4, freeze_epochs=1)
    m1 = AcceptorClassifier(seed=0, **dict(opts, epochs=1)).fit(docs, labels, vectors=kv, progress=False)
    emb = m1.net.embed.words
    w1 = emb.embedding.weight.detach().numpy()
    np.testing.assert_array_equal(w1[emb.index("good")], kv["good"])  # held in epoch 1
    assert emb.embedding.weight.requires_grad  # released after training
    m2 = AcceptorClassifier(seed=0, **dict(opts, epochs=2)).fit(docs, labels, vectors=kv, progress=False)
    w2 = m2.net.embed.words.embedding.weight.detach().numpy()
    assert not np.array_equal(w2[emb.index("good")], kv["good"])  # trained from epoch 2
