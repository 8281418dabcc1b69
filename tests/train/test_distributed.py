"""Real 2-process gloo jobs on localhost: `firth train --distributed` under torchrun and with
the ranks started by hand (to kill one and resume)."""

from __future__ import annotations

import json
import lzma
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from firth.vectors import load_vectors
from tests.torchrun import ENV, run_ranks

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "firth" / "data" / "demo-corpus.txt.xz"
OPTS = ["--workers", "1", "--epochs", "2", "--dim", "32", "--min-count", "3", "--seed", "3"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The first ~300 kB of the demo corpus (about 55k words, a few lines)."""
    with lzma.open(DEMO, "rb") as f:
        data = f.read(300_000)
    p = tmp_path_factory.mktemp("corpus") / "demo-300k.txt"
    p.write_bytes(data[: data.rfind(b" ")] + b"\n")
    return p


def _firth(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "firth", *args], cwd=ROOT, env=env or ENV, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def single(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("single") / "v.firth"
    p = _firth("train", str(corpus), "-o", str(out), "-q", *OPTS)
    assert p.returncode == 0, p.stderr
    return load_vectors(out)


def _structure(kv, words):
    m = kv[words]
    m = m / np.linalg.norm(m, axis=1, keepdims=True)
    s = m @ m.T
    return s[np.triu_indices(len(words), 1)]


# overlapped: the other rank's updates arrive one interval later, so half the interval
@pytest.mark.parametrize("sync", [["--sync-words", "1000", "--no-sync-overlap"],
                                  ["--sync-words", "500", "--sync-overlap", "--sync-rare", "4", "--sync-wire", "bfloat16"]],
                         ids=["blocking", "overlapped"])
def test_torchrun_job_matches_the_single_process(corpus, single, tmp_path, sync):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "v.firth"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "firth",
           "train", str(corpus), "-o", str(out), *OPTS, "--distributed", *sync]
    p = subprocess.run(cmd, cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stderr[-3000:]
    assert sorted(x.name for x in out_dir.iterdir()) == ["v.firth"]  # one writer, one output
    assert sorted(x.name for x in tmp_path.iterdir()) == ["out"]  # nothing else written by any rank
    kv = load_vectors(out)
    # the vocabulary built from the ranks' byte ranges is the single-process one
    assert kv.index_to_key == single.index_to_key
    assert np.array_equal(kv.counts, single.counts)
    d = kv.meta["distributed"]
    assert d["world_size"] == 2 and d["syncs"] == 2 * d["syncs_per_epoch"] and d["syncs_per_epoch"] >= 5
    assert d["sync_overlap"] == ("--sync-overlap" in sync)
    assert 0 < d["payload_bytes_per_sync"] <= 2 * len(kv) * (1 + 32 * 4)
    assert kv.meta["words_trained"] == single.meta["words_trained"]
    assert np.isfinite(kv.vectors).all()
    # quality within a bound of the single process: final loss, and the similarity structure of
    # the 60 most frequent content words (two single-process seeds agree at ~0.9 here).
    # Measured on this corpus (27k words per rank, 2 epochs): the final loss of two single-process
    # seeds differs by 0.25%; 2 ranks syncing every 500 / 1,000 / 3,000 words: +0.3% / +1.1% / +2.6%
    # (the other rank's updates arrive one interval late); jobs longer than the interval, which
    # bunched all syncs at the end of each job: +7.5%. Overlapped (--sync-overlap) every 1,000 /
    # 500 words: +2.2% / +1.7%.
    l1, l2 = single.meta["epoch_losses"][-1], kv.meta["epoch_losses"][-1]
    print(f"final loss: single {l1:.4f}, 2 ranks {l2:.4f} ({(l2 - l1) / l1:+.2%})")
    assert abs(l2 - l1) / l1 < 0.02, (l1, l2)
    words = kv.index_to_key[40:100]
    r = np.corrcoef(_structure(kv, words), _structure(single, words))[0, 1]
    assert r > 0.75, r


def test_fasttext_on_two_ranks_overlapped_matches_the_single_process(corpus, tmp_path):
    """fastText's n-gram rows ride the --sync-rare schedule of the overlapped sync (by the counts
    of the words that hold them): few rows per sync, loss near the single process. Measured
    here (27k words per rank, 2 epochs, every 500 words): final loss +1.8% with --sync-rare 4
    (+1.2% with every row at every sync, 1.68 MiB per sync instead of 0.22)."""
    opts = [*OPTS, "--model", "fasttext-sg"]
    one = tmp_path / "one.firth"
    p = _firth("train", str(corpus), "-o", str(one), "-q", *opts)
    assert p.returncode == 0, p.stderr
    out = tmp_path / "two.firth"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "firth",
           "train", str(corpus), "-o", str(out), *opts, "--distributed", "--sync-words", "500", "--sync-rare", "4", "--sync-mode", "sum", "--sync-overlap"]
    p = subprocess.run(cmd, cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stderr[-3000:]
    single, kv = load_vectors(one), load_vectors(out)
    assert kv.index_to_key == single.index_to_key
    d = kv.meta["distributed"]
    assert d["sync_overlap"] and d["sync_wire"] == "bfloat16"
    rows = d["payload_bytes_per_sync"] / (2 * 32)  # bfloat16 rows of 32 values, both matrices
    per_period = {int(k): v for k, v in d["rows_per_period"].items()}
    n_rows = sum(per_period.values())  # the input matrix: words and n-grams (22,948 here)
    assert n_rows > 5 * len(kv)
    assert sum(v for k, v in per_period.items() if k > 1) > 0.5 * n_rows  # most n-grams wait their turn
    assert rows < 0.25 * (n_rows + len(kv)), rows  # every row at every sync would be n_rows + len(kv)
    l1, l2 = single.meta["epoch_losses"][-1], kv.meta["epoch_losses"][-1]
    print(f"fastText final loss: single {l1:.4f}, 2 ranks {l2:.4f} ({(l2 - l1) / l1:+.2%})")
    assert abs(l2 - l1) / l1 < 0.03, (l1, l2)
    assert np.isfinite(kv.vectors).all() and np.isfinite(kv.vectors_ngrams).all()


def _ranks(corpus, out, ckpt, extra_env, quiet=True):
    args = ["train", str(corpus), "-o", str(out), *OPTS, "--distributed", "--sync-words", "20000",
            "--checkpoint", str(ckpt), "--dist-timeout", "60"] + (["-q"] if quiet else [])
    return run_ranks(["-m", "firth", *args], ROOT, env=extra_env)


def test_a_killed_rank_fails_the_job_in_one_line_and_the_next_run_resumes(corpus, single, tmp_path):
    out, ckpt = tmp_path / "v.firth", tmp_path / "ckpt"
    (rc0, err0), (rc1, _) = _ranks(corpus, out, ckpt, {"FIRTH_DIST_FAULT": "1:1"})  # rank 1 dies after epoch 1
    assert rc1 == -9
    assert rc0 == 1
    line = err0.strip().splitlines()[-1]
    assert line.startswith("firth: error: rank 0: lost contact with another rank during epoch 2")
    assert "resume from the last checkpoint" in line
    assert not out.exists()
    state = json.loads((ckpt / "checkpoint.json").read_text())
    assert state["epochs_trained"] == 1
    (rc0, err0), (rc1, err1) = _ranks(corpus, out, ckpt, {}, quiet=False)
    assert (rc0, rc1) == (0, 0), err0 + err1
    assert "resuming from" in err0 and "1 of 2 epochs done" in err0
    kv = load_vectors(out)
    assert kv.meta["epochs_trained"] == 2 and len(kv.meta["epoch_losses"]) == 2
    assert kv.meta["distributed"]["syncs"] == kv.meta["distributed"]["syncs_per_epoch"]  # one epoch run this time
    assert kv.index_to_key == single.index_to_key


def test_distributed_without_torchrun_is_one_line_and_imports_no_torch(corpus, tmp_path):
    code = ("import sys; from firth.cli import main; rc = main(['train', sys.argv[1], '-o', sys.argv[2], '--distributed']);"
            "print(rc, 'torch' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", code, str(corpus), str(tmp_path / "v.firth")], cwd=ROOT, env=ENV,
                       capture_output=True, text=True, timeout=60)
    assert p.stdout.split() == ["1", "False"]
    assert p.stderr.strip().splitlines() == [
        "firth: error: --distributed: no torchrun environment (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT not set); "
        "launch with `torchrun --nproc-per-node N -m firth train ... --distributed`, or drop --distributed"
    ]


def test_distributed_is_the_only_train_module_that_imports_torch():
    """docs/ARCHITECTURE.md: single-process `firth train` never imports torch (its run is
    checked in test_word2vec.test_training_never_imports_torch); only this module may."""
    import re

    found = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "firth" / "train").rglob("*.py")
                   if re.search(r"^\s*(import torch|from torch)", p.read_text(encoding="utf-8"), re.M))
    assert found == ["firth/train/distributed.py"]
