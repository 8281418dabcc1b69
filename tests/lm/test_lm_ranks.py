"""`lm train` under torchrun: real 2-process gloo jobs on localhost (firth/lm/ranks.py).

With dropout off, 2 ranks (each half of the streams, gradients averaged by DDP) follow the
single process's optimisation: the same losses and perplexities and weights up to rounding.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from firth.lm import load_lm
from tests.torchrun import ENV, run_ranks

ROOT = Path(__file__).resolve().parents[2]
# a small Markov language: each word's successor drawn from 3 of 40 words
OPTS = ["--hidden", "16", "--emb", "16", "--batch", "4", "--bptt", "8", "--epochs", "2", "--eval-batch", "3",
        "--workers", "1", "--quiet"]


@pytest.fixture(scope="module")
def text(tmp_path_factory):
    d = tmp_path_factory.mktemp("lmranks")
    rng = np.random.default_rng(0)
    nxt = rng.integers(0, 40, (40, 3))
    lines, w = [], 0
    for _ in range(260):
        line = []
        for _ in range(int(rng.integers(4, 12))):
            w = int(nxt[w, rng.integers(3)])
            line.append(f"w{w}")
        lines.append(" ".join(line))
    (d / "train.txt").write_text("\n".join(lines[:220]) + "\n")
    (d / "valid.txt").write_text("\n".join(lines[220:]) + "\n")
    return d


def _args(text, out, *extra):
    return ["-m", "firth", "lm", "train", str(text / "train.txt"), "--valid", str(text / "valid.txt"), "-o", str(out),
            *OPTS, *extra]


def _one(text, out, *extra):
    p = subprocess.run([sys.executable, *_args(text, out, *extra)], cwd=ROOT, env=ENV, capture_output=True, text=True,
                       timeout=180)
    assert p.returncode == 0, p.stderr
    return load_lm(out)


def _two(text, out, *extra, env=None):
    res = run_ranks(_args(text, out, *extra), ROOT, env=env)
    assert [rc for rc, _ in res] == [0, 0], res
    return load_lm(out)


def _weights(model):
    return {k: v.detach().double() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("extra", [("--dropout", "0", "--optimizer", "adam", "--lr", "0.01", "--tied"),
                                   ("--dropout", "0", "--adaptive-softmax", "8,20", "--lr", "5")],
                         ids=["adam-tied", "sgd-adaptive"])
def test_two_ranks_train_the_single_process_model(text, tmp_path, extra):
    m1, _, meta1 = _one(text, tmp_path / "one", *extra)
    m2, _, meta2 = _two(text, tmp_path / "two", *extra)
    h1, h2 = meta1["history"], meta2["history"]
    assert [r["tokens"] for r in h2] == [r["tokens"] for r in h1]  # the whole batch's tokens, counted once
    assert h1[-1]["valid_ppl"] < h1[0]["train_ppl"]  # it learned something
    for key in ("train_ppl", "valid_ppl"):
        np.testing.assert_allclose([r[key] for r in h2], [r[key] for r in h1], rtol=1e-4)
    w1, w2 = _weights(m1), _weights(m2)
    assert w1.keys() == w2.keys()
    for k in w1:
        torch.testing.assert_close(w2[k], w1[k], atol=1e-4, rtol=1e-4, msg=k)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "two"]  # rank 1 wrote nothing beside


def test_checkpoints_resume_bit_identically_on_two_ranks_and_in_one_process(text, tmp_path):
    """Stopped by the token budget and resumed (dropout on: every rank's RNG state is in the
    checkpoint), 2 ranks end where an uninterrupted 2-rank run ends, to the bit; the same
    checkpoint also resumes in one process (the whole state is stored in stream order)."""
    extra = ("--dropout", "0.3", "--lr", "5")
    straight = _weights(_two(text, tmp_path / "straight", *extra)[0])
    ck = tmp_path / "ck"
    _two(text, tmp_path / "part", *extra, "--checkpoint", str(ck), "--epochs", "1")
    progress = json.loads((ck / "progress.json").read_text())
    assert progress["epoch"] == 0 and progress["position"] > 0
    state = torch.load(ck / "state.pt", weights_only=True)
    assert state["state"].shape[1] == 4 and state["rank_rngs"].shape[0] == 2  # all 4 streams, both ranks' RNGs
    resumed, _, meta = _two(text, tmp_path / "part", *extra, "--checkpoint", str(ck))
    assert len(meta["history"]) == 2
    for k, v in _weights(resumed).items():
        assert torch.equal(v, straight[k]), k
    single = _one(text, tmp_path / "single", *extra, "--checkpoint", str(ck), "--epochs", "3")[2]
    assert [r["epoch"] for r in single["history"]] == [1, 2, 3]


def test_a_batch_the_ranks_cannot_share_is_refused_in_one_line(text, tmp_path):
    res = run_ranks(_args(text, tmp_path / "m", "--batch", "5"), ROOT)
    for rc, err in res:
        assert rc == 1
        line = err.strip().splitlines()[-1]
        assert line.startswith("firth: error: --batch 5: under torchrun it must be a multiple of the 2 ranks"), err
    assert not (tmp_path / "m").exists()


def test_a_killed_rank_fails_the_job_in_one_line_and_the_next_run_resumes(text, tmp_path):
    ck, out = tmp_path / "ck", tmp_path / "m"
    extra = ("--valid-every", "400", "--checkpoint", str(ck))
    (rc0, err0), (rc1, _) = run_ranks(_args(text, out, *extra), ROOT, env={"FIRTH_DIST_FAULT": "1:30"})
    assert rc1 == -9
    assert rc0 == 1
    line = err0.strip().splitlines()[-1]
    assert line.startswith("firth: error: rank 0: lost contact with another rank"), err0
    progress = json.loads((ck / "progress.json").read_text())
    assert 0 < progress["tokens"] < 30 * 32  # a checkpoint before the fault (32 tokens a chunk)
    args = [a for a in _args(text, out, *extra) if a != "--quiet"]
    (rc0, err0), (rc1, err1) = run_ranks(args, ROOT)
    assert (rc0, rc1) == (0, 0), err0 + err1
    assert f"resuming from {ck}: epoch 1, {progress['tokens']} tokens trained" in err0
    assert err1 == ""  # rank 1 prints nothing
    assert load_lm(out)[2]["history"][-1].get("best")
    # the last checkpoint: both epochs' tokens, counted once; the job ended where it should
    assert json.loads((ck / "progress.json").read_text())["tokens"] == 2 * 1864
