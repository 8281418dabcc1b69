"""The trainers' frozen configs: validated on creation, never changed by training, the CLI's
defaults read from them."""

from __future__ import annotations

import dataclasses

import pytest

from firth.errors import FirthError
from firth.train.config import FastTextConfig, Word2VecConfig, cli_options
from firth.train.fasttext import FastText
from firth.train.word2vec import Word2Vec


def test_config_is_frozen_and_validated():
    cfg = Word2VecConfig(dim=32)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.dim = 3
    assert cfg.replace(window=2).window == 2 and cfg.window == 5
    with pytest.raises(FirthError, match="^--window"):
        cfg.replace(window=0)
    with pytest.raises(FirthError, match="^--tied"):
        FastTextConfig(tied=True)


def test_trainer_reads_its_config_and_keywords_build_one():
    m = Word2Vec(dim=16, seed=4, workers=1)
    assert m.config == Word2VecConfig(dim=16, seed=4, workers=1) and m.dim == 16 and m.workers == 1
    assert Word2Vec(Word2VecConfig(dim=16), window=3).config == Word2VecConfig(dim=16, window=3)
    with pytest.raises(AttributeError):
        m.dim = 3  # settings are read-only: a new config, not an edited trainer
    with pytest.raises(FirthError, match="^config: must be a FastTextConfig"):
        FastText(Word2VecConfig())
    s = FastText(bucket=100, workers=1).settings()
    assert s["model"] == "fasttext-sg" and s["bucket"] == 100 and "tied" not in s and "workers" not in s


def test_cli_defaults_are_the_configs():
    from firth.cli import build_parser

    args = build_parser().parse_args(["train", "c.txt", "-o", "v.firth"])
    from firth.train.cli import make_trainer

    for fields, model in ((Word2VecConfig, "sg"), (FastTextConfig, "fasttext-sg")):
        args.model = model
        cfg = make_trainer(args).config
        assert cfg == type(cfg)(model=model.rsplit("-", 1)[-1])
    flags = {kw["dest"] for _, kw in cli_options()}
    assert flags == {f.name for f in dataclasses.fields(FastTextConfig)} - {"model"}
