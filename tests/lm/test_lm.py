"""Language models: learning, state carrying, perplexity by hand, save/load, sampling, bad input."""

import json
import math

import numpy as np
import pytest
import torch

from firth.cli import main
from firth.errors import FirthError
from firth.lm import LMConfig, LanguageModel, Vocab, evaluate, generate, load_lm, read_ids, save_lm, train
from firth.lm.data import eval_streams
from firth.lm.evaluate import sequence_nll

TEMPLATES = ["the cat sat on the mat", "a dog ran in the park", "the bird sang a song"]
# one of 3 equally likely lines of 7, 7 and 6 tokens (with <eos>), all else determined:
# the floor is exp(log 3 / (20/3)) ≈ 1.18 per token
FLOOR = math.exp(math.log(3) / (20 / 3))


@pytest.fixture(scope="module")
def grammar(tmp_path_factory):
    d = tmp_path_factory.mktemp("lm")
    rng = np.random.RandomState(0)
    lines = [TEMPLATES[i] for i in rng.randint(0, 3, 600)]
    (d / "train.txt").write_text("\n".join(lines[:500]) + "\n")
    (d / "valid.txt").write_text("\n".join(lines[500:]) + "\n")
    return d


FAST = dict(hidden=32, emb=32, batch=8, bptt=10, optimizer="adam", lr=0.01, dropout=0.0, heads=2)


@pytest.mark.parametrize("cell", ["lstm", "slstm"])
def test_lm_learns_synthetic_language_to_near_floor(grammar, tmp_path, cell):
    cfg = LMConfig(cell=cell, epochs=8, **FAST)
    model, vocab, history = train(cfg, grammar / "train.txt", grammar / "valid.txt", output=tmp_path / "m",
                                  progress=False)
    ids, oov = read_ids(grammar / "valid.txt", vocab)
    ppl = evaluate(model, ids, vocab.eos, eval_batch=1, bptt=10)["perplexity"]
    assert oov == 0
    assert 0.98 * FLOOR <= ppl < 1.3, ppl  # 0.98: a sample of 100 lines is not exactly balanced  # untrained: ~12 (uniform over the 12 words + <eos>)
    assert history[0]["valid_ppl"] > history[-1]["valid_ppl"] or history[0].get("best")
    # the saved model is the best on validation and gives the same perplexity
    loaded, vocab2, meta = load_lm(tmp_path / "m")
    assert vocab2.itos == vocab.itos
    assert evaluate(loaded, ids, vocab.eos, 1, 10)["perplexity"] == ppl
    assert min(r["valid_ppl"] for r in meta["history"]) == pytest.approx(
        evaluate(loaded, ids, vocab.eos, cfg.eval_batch, cfg.bptt)["perplexity"], rel=1e-9)


@pytest.mark.parametrize("cell", ["lstm", "gru", "srnn", "slstm", "mlstm"])
def test_state_carrying_equals_one_long_sequence(cell):
    torch.manual_seed(0)
    cfg = LMConfig(cell=cell, layers=2, hidden=8, emb=6, dropout=0.5, heads=2)
    model = LanguageModel(cfg, 11).double().eval()
    ids = torch.randint(0, 11, (40,))
    inputs, targets, lengths = eval_streams(ids, 1, eos=0)
    whole = sequence_nll(model, inputs, targets, lengths, bptt=1000)
    for bptt in (1, 7, 35):
        assert sequence_nll(model, inputs, targets, lengths, bptt=bptt) == pytest.approx(whole, rel=1e-12, abs=1e-12)
    # several streams of unequal length: each is the same as running it alone
    inputs, targets, lengths = eval_streams(ids, 3, eos=0)
    alone = sum(sequence_nll(model, inputs[: lengths[b], b : b + 1], targets[: lengths[b], b : b + 1],
                             lengths[b : b + 1], bptt=5) for b in range(3))
    assert sequence_nll(model, inputs, targets, lengths, bptt=5) == pytest.approx(alone, rel=1e-12)


def test_eval_streams_predict_every_token_once():
    ids = torch.arange(10, 20)
    inputs, targets, lengths = eval_streams(ids, 3, eos=0)
    assert lengths.tolist() == [4, 3, 3]
    got = torch.cat([targets[: lengths[b], b] for b in range(3)])
    assert torch.equal(got, ids)
    assert inputs[:, 0].tolist() == [0, 10, 11, 12] and inputs[:3, 1].tolist() == [0, 14, 15]


def test_perplexity_by_hand():
    """A 1-layer S-RNN with 2 units over 4 words, computed in NumPy from its weights."""
    torch.manual_seed(3)
    cfg = LMConfig(cell="srnn", layers=1, hidden=2, emb=3, dropout=0.0)
    model = LanguageModel(cfg, 4).double().eval()
    ids = torch.tensor([1, 2, 3, 1, 0, 2, 2])
    res = evaluate(model, ids, eos=0, eval_batch=2, bptt=2)
    E = model.encoder.weight.detach().numpy()
    c = model.rnn.cells[0]
    Wx, Wh = c.weight_ih.detach().numpy(), c.weight_hh.detach().numpy()
    b = (c.bias_ih + c.bias_hh).detach().numpy()
    Wo, bo = model.decoder.weight.detach().numpy(), model.decoder.bias.detach().numpy()
    total = 0.0
    for part in ([1, 2, 3, 1], [0, 2, 2]):  # 7 tokens in 2 streams of 4 and 3, each read after <eos>=0
        h = np.zeros(2)
        prev = 0
        for tok in part:
            h = np.tanh(Wx @ E[prev] + Wh @ h + b)
            logits = Wo @ h + bo
            logp = logits - np.log(np.exp(logits).sum())
            total -= logp[tok]
            prev = tok
    assert res["tokens"] == 7
    assert res["nll"] == pytest.approx(total / 7, rel=1e-12)
    assert res["perplexity"] == pytest.approx(math.exp(total / 7), rel=1e-12)


def _tiny_model(tmp_path, **kw):
    words = ["<eos>", "<unk>", "a", "b", "c"]
    vocab = Vocab(words, [5, 0, 3, 2, 1])
    torch.manual_seed(0)
    model = LanguageModel(LMConfig(hidden=8, emb=8, layers=1, **kw), len(words)).eval()
    return model, vocab


def test_generation_reproducible_with_seed(tmp_path):
    model, vocab = _tiny_model(tmp_path)
    a = generate(model, vocab, "a b zzz", words=30, temperature=1.0, top_k=3, seed=7)
    assert a[:3] == ["a", "b", "<unk>"] and len(a) == 33
    assert a == generate(model, vocab, "a b zzz", words=30, temperature=1.0, top_k=3, seed=7)
    assert a != generate(model, vocab, "a b zzz", words=30, temperature=1.0, top_k=3, seed=8)
    assert all(w in vocab.stoi for w in a[3:])
    # top-k 1 is greedy decoding whatever the seed
    g = generate(model, vocab, "a", words=10, top_k=1, seed=1)
    assert g == generate(model, vocab, "a", words=10, top_k=1, seed=2)


def test_adaptive_softmax_probabilities_sum_to_one_and_train(grammar, tmp_path):
    cfg = LMConfig(epochs=2, adaptive_softmax=(4, 8), **FAST)
    model, vocab, _ = train(cfg, grammar / "train.txt", grammar / "valid.txt", output=tmp_path / "m", progress=False)
    out, _ = model(torch.tensor([[0], [2]]))
    lp = model.log_probs(out)
    torch.testing.assert_close(lp.exp().sum(-1), torch.ones(2, 1), rtol=0, atol=1e-5)
    nll = model.nll(out, torch.tensor([[3], [5]]))
    torch.testing.assert_close(nll, -lp.gather(-1, torch.tensor([[[3]], [[5]]])).squeeze(-1), rtol=0, atol=1e-5)
    ids, _ = read_ids(grammar / "valid.txt", vocab)
    assert evaluate(model, ids, vocab.eos)["perplexity"] < 3


def test_token_budget_stops_after_that_many_tokens(grammar, tmp_path):
    # 8 streams x 10 tokens = 80 tokens per chunk: a budget of 200 stops after the third chunk
    cfg = LMConfig(epochs=5, token_budget=200, **FAST)
    _, _, history = train(cfg, grammar / "train.txt", grammar / "valid.txt", progress=False)
    assert [r["tokens"] for r in history] == [240]
    with pytest.raises(FirthError, match="--token-budget"):
        LMConfig(token_budget=-1)


def test_checkpoint_resume_is_bit_identical(grammar, tmp_path):
    cfg = LMConfig(epochs=2, **{**FAST, "dropout": 0.3, "optimizer": "sgd", "lr": 1.0})
    straight, _, h1 = train(cfg, grammar / "train.txt", grammar / "valid.txt", output=tmp_path / "a", progress=False)
    ck = tmp_path / "ck"
    train(cfg.replace(epochs=1), grammar / "train.txt", grammar / "valid.txt", output=tmp_path / "b",
          checkpoint=ck, progress=False)
    resumed, _, h2 = train(cfg, grammar / "train.txt", grammar / "valid.txt", output=tmp_path / "b",
                           checkpoint=ck, progress=False)
    assert [r["valid_ppl"] for r in h2] == [r["valid_ppl"] for r in h1]
    for (k, v), (k2, v2) in zip(straight.state_dict().items(), resumed.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)
    with pytest.raises(FirthError, match="checkpoint was made with --hidden 32"):
        train(cfg.replace(hidden=16, emb=16), grammar / "train.txt", grammar / "valid.txt", checkpoint=ck,
              progress=False)


def test_a_damaged_checkpoint_state_is_refused_in_one_line(grammar, tmp_path):
    cfg = LMConfig(epochs=1, **FAST)
    ck = tmp_path / "ck"
    train(cfg, grammar / "train.txt", grammar / "valid.txt", checkpoint=ck, progress=False)
    good = torch.load(ck / "state.pt", weights_only=True)
    assert good["rank_rngs"].shape[0] == 1 and torch.equal(good["rank_rngs"][0], good["torch_rng"])
    damages = {"missing": ({k: v for k, v in good.items() if k != "torch_rng"}, "random-number or carried state missing"),
               "rng": ({**good, "torch_rng": torch.zeros(7, dtype=torch.uint8), "rank_rngs": None},
                       "damaged random-number state"),
               "state": ({**good, "state": torch.zeros(1, 2, 3)}, "the carried state is not")}
    for name, (extra, msg) in damages.items():
        torch.save(extra, ck / "state.pt")
        with pytest.raises(FirthError, match=msg):
            train(cfg.replace(epochs=2), grammar / "train.txt", grammar / "valid.txt", checkpoint=ck, progress=False)


def test_cli_train_eval_generate_embeddings(grammar, tmp_path, capsys):
    m = tmp_path / "m"
    rc = main(["lm", "train", str(grammar / "train.txt"), "--valid", str(grammar / "valid.txt"), "-o", str(m),
               "--hidden", "16", "--emb", "16", "--tied", "--epochs", "2", "--batch", "8", "--quiet",
               "--optimizer", "adam", "--lr", "0.01"])
    assert rc == 0
    capsys.readouterr()
    assert main(["lm", "eval", str(m), str(grammar / "valid.txt")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("perplexity ") and float(out[0].split()[1]) < 13
    tokens = sum(len(line.split()) + 1 for line in (grammar / "valid.txt").read_text().splitlines())
    assert out[1] == f"tokens {tokens}" and out[2] == "oov_rate 0.0000"
    assert main(["lm", "generate", str(m), "--prompt", "the", "--words", "12", "--seed", "3"]) == 0
    text = capsys.readouterr().out
    assert main(["lm", "generate", str(m), "--prompt", "the", "--words", "12", "--seed", "3"]) == 0
    assert capsys.readouterr().out == text and text.split()[0] == "the"
    v = tmp_path / "v.firth"
    assert main(["lm", "embeddings", str(m), "-o", str(v)]) == 0
    from firth.lm.cli import _vectors_api

    kv = _vectors_api()[1](v)
    model, vocab, _ = load_lm(m)
    assert kv.index_to_key == vocab.itos
    np.testing.assert_array_equal(kv["cat"], model.encoder.weight[vocab.stoi["cat"]].detach().numpy())
    # tied: the softmax weights are the embeddings
    assert model.decoder.weight is model.encoder.weight


def test_vectors_initialise_embeddings(grammar, tmp_path):
    from firth.lm.cli import _vectors_api

    KeyedVectors, load_vectors = _vectors_api()
    vec = np.arange(2 * 32, dtype=np.float32).reshape(2, 32) / 100
    KeyedVectors(["cat", "zebra"], vec).save(tmp_path / "v.firth")
    kv = load_vectors(tmp_path / "v.firth")
    from firth.lm.train import init_from_vectors

    vocab = Vocab.build(grammar / "train.txt")
    model = LanguageModel(LMConfig(**FAST), len(vocab))
    assert init_from_vectors(model, vocab, kv) == 1
    np.testing.assert_array_equal(model.encoder.weight[vocab.stoi["cat"]].detach().numpy(), vec[0])
    with pytest.raises(FirthError, match="dimension 32 but --emb is 16"):
        init_from_vectors(LanguageModel(LMConfig(hidden=16, emb=16), len(vocab)), vocab, kv)


def _one_line_error(argv, capsys, expect):
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith("firth: error:") and err.count("\n") == 1 and expect in err, err


def test_bad_inputs_one_line(grammar, tmp_path, capsys):
    t = str(grammar / "train.txt")
    (tmp_path / "empty.txt").write_text("")
    _one_line_error(["lm", "train", str(tmp_path / "empty.txt"), "-o", str(tmp_path / "m")], capsys, "no words")
    _one_line_error(["lm", "train", str(tmp_path / "nope.txt"), "-o", str(tmp_path / "m")], capsys, "no such file")
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9 au lait\n")
    _one_line_error(["lm", "train", str(tmp_path / "latin1.txt"), "-o", str(tmp_path / "m")], capsys, "not UTF-8")
    _one_line_error(["lm", "train", t, "-o", str(tmp_path / "m"), "--tied", "--emb", "100"], capsys,
                    "--tied: the embedding size (100) must equal --hidden (200)")
    _one_line_error(["lm", "train", t, "-o", str(tmp_path / "m"), "--cell", "mlstm", "--heads", "3"], capsys,
                    "--heads 3: must divide --hidden 200")
    _one_line_error(["lm", "train", t, "-o", str(tmp_path / "m"), "--batch", "100000"], capsys, "too few for --batch")
    _one_line_error(["lm", "train", t, "-o", str(tmp_path / "m"), "--adaptive-softmax", "5,99"], capsys,
                    "below the vocabulary size")
    _one_line_error(["lm", "eval", str(tmp_path), t], capsys, "not a firth language model")
    assert not (tmp_path / "m").exists()
    # a damaged model: wrong types, unknown option, weights that do not fit, NaN, pickle
    m = tmp_path / "good"
    model, vocab = _tiny_model(tmp_path)
    save_lm(m, model, vocab)
    cfg = json.loads((m / "config.json").read_text())
    for change, expect in [({"hidden": "8"}, "wrong type"), ({"bogus": 1}, "unknown language-model option"),
                           ({"hidden": 9, "emb": 9}, "do not fit config.json")]:
        bad = dict(cfg, config={**cfg["config"], **change})
        (m / "config.json").write_text(json.dumps(bad))
        _one_line_error(["lm", "eval", str(m), t], capsys, expect)
    (m / "config.json").write_text(json.dumps(cfg))
    sd = model.state_dict()
    sd["encoder.weight"] = sd["encoder.weight"].clone()
    sd["encoder.weight"][0, 0] = float("nan")
    torch.save(sd, m / "weights.pt")
    _one_line_error(["lm", "eval", str(m), t], capsys, "NaN")
    import pickle

    (m / "weights.pt").write_bytes(pickle.dumps({"encoder.weight": object()}, protocol=4))
    import warnings

    with warnings.catch_warnings(record=True) as caught:  # torch's pickle-protocol warning stays quiet
        warnings.simplefilter("always")
        _one_line_error(["lm", "eval", str(m), t], capsys, "cannot read the weights")
    assert [str(w.message) for w in caught] == []
    save_lm(m, model, vocab)
    _one_line_error(["lm", "generate", str(m), "--temperature", "0"], capsys, "--temperature 0")
    # an output that is not firth's is never replaced
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    _one_line_error(["lm", "train", t, "-o", str(tmp_path / "mine"), "--epochs", "1"], capsys, "not a firth output")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"
