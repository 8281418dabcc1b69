"""Input layer: pretrained rows, the <pad>/<unk> policy, fastText-style unseen words, characters."""

import numpy as np
import pytest
import torch

from firth.errors import FirthError, UnknownWordError
from firth.text import Normalizer
from firth.rnn import PAD_INDEX, UNK_INDEX, CharEncoder, InputLayer, WordEmbedding

WORDS = ["the", "cat", "sat", "mat"]
VECS = np.arange(12, dtype=np.float32).reshape(4, 3) + 1.0


class StandIn:
    """The duck-typed vectors API (index_to_key, vectors, normalize, in, [])."""

    def __init__(self, words, vectors, subwords=False):
        self.index_to_key = list(words)
        self.key_to_index = {w: i for i, w in enumerate(words)}
        self.vectors = vectors
        self.subwords = subwords
        self.normalizer = Normalizer(lowercase=True)

    def normalize(self, tok):
        return self.normalizer(tok)

    def __contains__(self, w):
        return self.normalize(w) in self.key_to_index

    def __getitem__(self, w):
        return self.vectors[self.key_to_index[self.normalize(w)]]

    def get_vector(self, w):
        if w in self:
            return self[w]
        if not self.subwords:
            raise UnknownWordError(w)
        return np.full(self.vectors.shape[1], float(len(w)), dtype=np.float32)  # "from n-grams"


class SubwordStandIn(StandIn):
    """fastText-like: vectors for unseen words (has_vector says which)."""

    def __init__(self, words, vectors):
        super().__init__(words, vectors, subwords=True)

    def has_vector(self, w):
        return w in self or len(w) >= 3


def test_rows_from_vectors_and_pad_unk_policy():
    emb = WordEmbedding.from_vectors(StandIn(WORDS, VECS), unk_init="mean")
    W = emb.embedding.weight.detach().numpy()
    assert emb.itos[:2] == ["<pad>", "<unk>"] and emb.itos[2:] == WORDS
    np.testing.assert_allclose(W[2:], VECS)
    np.testing.assert_allclose(W[PAD_INDEX], 0.0)
    np.testing.assert_allclose(W[UNK_INDEX], VECS.mean(0), rtol=1e-6)
    zero = WordEmbedding.from_vectors(StandIn(WORDS, VECS), unk_init="zero")
    np.testing.assert_allclose(zero.embedding.weight.detach()[UNK_INDEX].numpy(), 0.0)
    r1 = WordEmbedding.from_vectors(StandIn(WORDS, VECS), unk_init="random", seed=3).embedding.weight.detach()
    r2 = WordEmbedding.from_vectors(StandIn(WORDS, VECS), unk_init="random", seed=3).embedding.weight.detach()
    assert torch.equal(r1, r2) and not torch.allclose(r1[UNK_INDEX], torch.from_numpy(VECS.mean(0)))
    with pytest.raises(FirthError, match="unk_init"):
        WordEmbedding(WORDS, 3, unk_init="ones")


def test_encode_normalises_and_maps_unknown():
    emb = WordEmbedding.from_vectors(StandIn(WORDS, VECS))
    assert emb.encode(["The", "dog", "MAT"]) == [2, UNK_INDEX, 5]
    assert emb.config()["normalizer"]["lowercase"] is True  # saved with the model
    again = WordEmbedding.from_config(emb.config())
    assert again.encode(["The", "dog", "MAT"]) == [2, UNK_INDEX, 5]


def test_task_words_unseen_get_subword_vectors_or_unk_policy():
    task_words = ["cat", "dogs", "sat"]
    plain = WordEmbedding.from_vectors(StandIn(WORDS, VECS), words=task_words, unk_init="zero")
    W = plain.embedding.weight.detach().numpy()
    assert plain.itos[2:] == task_words and plain.covered == 2
    np.testing.assert_allclose(W[plain.index("cat")], VECS[1])
    np.testing.assert_allclose(W[plain.index("dogs")], 0.0)  # no vector: unk policy
    ft = WordEmbedding.from_vectors(SubwordStandIn(WORDS, VECS), words=task_words + ["ox"], unk_init="zero")
    W = ft.embedding.weight.detach().numpy()
    np.testing.assert_allclose(W[ft.index("dogs")], 4.0)  # from "n-grams"
    np.testing.assert_allclose(W[ft.index("ox")], 0.0)  # has_vector false: unk policy
    assert ft.covered == 3


def test_with_real_keyed_vectors():
    kv_mod = pytest.importorskip("firth.vectors.keyed")
    kv = kv_mod.KeyedVectors(WORDS, VECS, normalizer=Normalizer(lowercase=True))
    emb = WordEmbedding.from_vectors(kv, words=["Cat", "unseen"], unk_init="zero")
    W = emb.embedding.weight.detach().numpy()
    np.testing.assert_allclose(W[emb.index("CAT")], VECS[1])
    np.testing.assert_allclose(W[emb.index("unseen")], 0.0)


def test_with_real_fasttext_vectors():
    ft_mod = pytest.importorskip("firth.vectors.fasttext")
    rng = np.random.default_rng(0)
    kv = ft_mod.FastTextVectors(WORDS, VECS, rng.standard_normal((50, 3)).astype(np.float32), minn=3, maxn=4)
    emb = WordEmbedding.from_vectors(kv, words=["cat", "cats"], unk_init="zero")
    W = emb.embedding.weight.detach().numpy()
    np.testing.assert_allclose(W[emb.index("cat")], kv["cat"], rtol=1e-6)
    np.testing.assert_allclose(W[emb.index("cats")], kv.get_vector("cats"), rtol=1e-6)  # from n-grams
    assert np.any(W[emb.index("cats")]) and emb.covered == 2


def test_frozen_and_padding_gets_no_gradient():
    frozen = WordEmbedding.from_vectors(StandIn(WORDS, VECS), freeze=True)
    assert not frozen.embedding.weight.requires_grad
    trained = WordEmbedding.from_vectors(StandIn(WORDS, VECS), freeze=False)
    out = trained(torch.tensor([[2, 3, PAD_INDEX], [UNK_INDEX, PAD_INDEX, PAD_INDEX]]))
    out.sum().backward()
    g = trained.embedding.weight.grad
    assert float(g[PAD_INDEX].abs().sum()) == 0.0
    assert float(g[2].abs().sum()) > 0 and float(g[UNK_INDEX].abs().sum()) > 0


@pytest.mark.parametrize("kind", ["lstm", "cnn"])
def test_char_encoder_concatenated_and_padding_zero(kind):
    torch.manual_seed(0)
    chars = CharEncoder.chars_from(["the", "cat", "sat"])
    layer = InputLayer(WordEmbedding.from_vectors(StandIn(WORDS, VECS)), CharEncoder(chars, 5, 4, kind=kind))
    batch = layer.batch([["the", "cat", "sat"], ["Cat"]])
    assert batch["x"].tolist() == [[2, 3, 4], [3, 0, 0]]
    assert batch["char_lengths"].tolist() == [[3, 3, 3], [3, 0, 0]]
    out = layer(batch["x"], batch["chars"], batch["char_lengths"]).detach()
    assert out.shape == (2, 3, 3 + layer.chars.output_size)
    assert float(out[1, 1:].abs().sum()) == 0.0  # padded positions: zero word and char vectors
    # "cat" and "Cat" share the word row but not the character encoding (C is unknown here)
    torch.testing.assert_close(out[0, 1, :3], out[1, 0, :3])
    assert (out[0, 1, 3:] - out[1, 0, 3:]).abs().max() > 1e-6
    # one word's encoding does not depend on its neighbours or on the batch
    alone = layer(**{k: v for k, v in layer.batch([["cat"]]).items() if k != "lengths"})
    torch.testing.assert_close(alone[0, 0], out[0, 1])


def test_batch_errors():
    layer = InputLayer(WordEmbedding(WORDS, 3))
    with pytest.raises(FirthError, match="sentence 1 is empty"):
        layer.batch([["cat"], []])
    with pytest.raises(FirthError, match="word ids"):
        layer(torch.randn(2, 3))


def test_trainable_head_and_fixed_tail_train_exactly_like_one_table():
    # the training words ("cat", "sat") are parameters; "the", "mat" (vectors only) are fixed
    full = WordEmbedding.from_vectors(StandIn(WORDS, VECS), words=["cat", "sat", "the", "mat"])
    split = WordEmbedding.from_vectors(StandIn(WORDS, VECS), words=["cat", "sat", "the", "mat"], trainable=2)
    assert split.itos == full.itos and split.n_trainable == 4 and tuple(split.fixed.shape) == (2, 3)
    assert torch.equal(split.weight, full.embedding.weight.detach())
    ids = torch.tensor([[2, 3, 4], [5, UNK_INDEX, PAD_INDEX]])  # both parts and the specials
    assert torch.equal(split(ids), full(ids))
    opt_f = torch.optim.Adam(full.parameters(), lr=0.1)
    opt_s = torch.optim.Adam(split.parameters(), lr=0.1)
    assert sum(p.numel() for p in split.parameters()) == 4 * 3  # only the head is a parameter
    train = torch.tensor([[2, 3, UNK_INDEX], [3, 2, PAD_INDEX]])  # training batches: head rows only
    for step in range(5):
        for emb, opt in ((full, opt_f), (split, opt_s)):
            opt.zero_grad()
            (emb(train) * torch.arange(3.0)).pow(2).sum().backward()
            opt.step()
    np.testing.assert_allclose(split.weight.numpy(), full.embedding.weight.detach().numpy(), rtol=1e-6)
    np.testing.assert_array_equal(split.weight[4:].numpy(), VECS[[0, 3]])  # fixed rows kept their vectors
    assert not np.allclose(split.weight[2].numpy(), VECS[1])  # trained rows moved
    again = WordEmbedding.from_config(split.config())
    again.load_state_dict(split.state_dict())
    assert again.n_trainable == 4 and torch.equal(again(ids), split(ids))
    with pytest.raises(FirthError, match="trainable"):
        WordEmbedding(WORDS, 3, trainable=9)
