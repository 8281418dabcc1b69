"""Save/load round trip: JSON config + state dict, no pickle, atomic."""

import json

import pytest
import torch

from firth.errors import FirthError
from firth.rnn import RNN, CharEncoder, InputLayer, RNNAcceptor, RNNTransducer, WordEmbedding, load_model, save_model

WORDS = ["the", "cat", "sat", "on", "mat"]


def make_models():
    torch.manual_seed(0)
    embed = InputLayer(WordEmbedding(WORDS, 6, unk_init="zero"), CharEncoder(CharEncoder.chars_from(WORDS), 4, 3, kind="cnn"))
    acc = RNNAcceptor(RNN("lstm", embed.output_size, 5, num_layers=2, bidirectional=True, initial_state="learned"),
                      num_classes=3, embed=embed, hidden=7, pooling="max")
    embed2 = InputLayer(WordEmbedding(WORDS, 6, freeze=True), CharEncoder(CharEncoder.chars_from(WORDS), 4, 3))
    tag = RNNTransducer(RNN("gru", embed2.output_size, 5, bidirectional=True, variant="cho"), num_classes=4, embed=embed2)
    return acc, tag


@pytest.mark.parametrize("which", [0, 1])
def test_round_trip_same_outputs(tmp_path, which):
    model = make_models()[which].eval()
    batch = model.embed.batch([["the", "cat", "sat"], ["on", "Mat"]])
    before = model(**batch)
    path = save_model(tmp_path / "m", model)
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "firth-output.json", "weights.pt"]
    config = json.loads((path / "config.json").read_text())["config"]
    assert config["model"] == model.kind
    loaded, cfg = load_model(path)
    assert cfg == config and type(loaded) is type(model)
    torch.testing.assert_close(loaded(**loaded.embed.batch([["the", "cat", "sat"], ["on", "Mat"]])), before, rtol=0, atol=0)
    assert loaded.embed.words.freeze == model.embed.words.freeze
    assert loaded.embed.words.embedding.weight.requires_grad == (not model.embed.words.freeze)
    # weights are plain tensors: loadable with weights_only=True
    state = torch.load(path / "weights.pt", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())


def test_generic_module_with_explicit_config_and_builder(tmp_path):
    lin = torch.nn.Linear(3, 2)
    save_model(tmp_path / "lin", lin, {"in": 3, "out": 2})
    loaded, cfg = load_model(tmp_path / "lin", build=lambda c: torch.nn.Linear(c["in"], c["out"]))
    assert torch.equal(loaded.weight, lin.weight) and cfg == {"in": 3, "out": 2}
    with pytest.raises(FirthError, match="unknown model type"):
        load_model(tmp_path / "lin")


def test_overwrite_is_atomic_and_errors(tmp_path):
    acc, _ = make_models()
    save_model(tmp_path / "m", acc)
    save_model(tmp_path / "m", acc)  # replacing an existing save works
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no temporary leftovers
    with pytest.raises(FirthError, match="not a saved firth model"):
        load_model(tmp_path / "nothing")
    (tmp_path / "m" / "weights.pt").write_bytes(b"garbage")
    with pytest.raises(FirthError, match="cannot read the weights"):
        load_model(tmp_path / "m")
    with pytest.raises(FirthError, match="not JSON-serialisable"):
        save_model(tmp_path / "x", acc, {"bad": object()})
    assert not (tmp_path / "x").exists()
    with pytest.raises(FirthError, match="does not exist"):
        save_model(tmp_path / "no" / "dir" / "m", acc)
