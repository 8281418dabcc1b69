"""classify train / tag train under torchrun: real 2-process gloo jobs on localhost (DDP)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.torchrun import ENV, run_ranks

ROOT = Path(__file__).resolve().parents[2]

# both ranks (and the single process) fit the same tiny model; rank 0 saves probabilities
FIT = r"""
import json, sys
import numpy as np
from firth.tasks.neural import AcceptorClassifier
from firth.rnn import ddp
from firth.vectors.keyed import KeyedVectors
docs, labels = json.load(open(sys.argv[1]))
words = [f"w{i}" for i in range(36)]
kv = KeyedVectors(words, np.random.default_rng(0).standard_normal((36, 12)).astype(np.float32))
# pretrained vectors held during epoch 1 (DDP rewrapped when they start training), then trained
m = AcceptorClassifier(seed=5, hidden=10, dropout=0.0, unk_alpha=0.0, epochs=3, batch_size=8, threads=1,
                       freeze_epochs=1, max_minutes=0)
m.fit(docs, labels, vectors=kv, progress=False)
if ddp.is_writer():
    np.save(sys.argv[2], m.predict_proba(docs))
    json.dump([r["loss"] for r in m.history], open(sys.argv[2] + ".json", "w"))
"""


def _data(tmp_path):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(30)]
    docs, labels = [], []
    for _ in range(60):
        lab = int(rng.integers(3))
        n = int(rng.integers(2, 9))
        docs.append([words[lab * 10 + int(rng.integers(10))] if rng.random() < 0.6 else words[int(rng.integers(30))]
                     for _ in range(n)])
        labels.append(f"L{lab}")
    p = tmp_path / "data.json"
    p.write_text(json.dumps([docs, labels]))
    return p, docs, labels


def test_two_ranks_train_the_single_process_model(tmp_path):
    """Each rank takes half of every batch and DDP averages the gradients: with dropout off,
    2 ranks follow the single process's optimisation (same batches, same steps) up to rounding."""
    data, docs, labels = _data(tmp_path)
    one, two = tmp_path / "one.npy", tmp_path / "two.npy"
    p = subprocess.run([sys.executable, "-c", FIT, str(data), str(one)], cwd=ROOT, env=ENV, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    res = run_ranks(["-c", FIT, str(data), str(two)], ROOT)
    assert [rc for rc, _ in res] == [0, 0], res
    p1, p2 = np.load(one), np.load(two)
    l1, l2 = json.loads(Path(str(one) + ".json").read_text()), json.loads(Path(str(two) + ".json").read_text())
    assert l1[-1] < l1[0]  # it learned something
    np.testing.assert_allclose(l2, l1, rtol=1e-4)
    np.testing.assert_allclose(p2, p1, atol=1e-4)


def test_tag_train_under_two_ranks_rank0_writes(tmp_path):
    rng = np.random.default_rng(1)
    lines = []
    for _ in range(40):
        for _ in range(int(rng.integers(2, 7))):
            w = int(rng.integers(12))
            lines.append(f"w{w}\t{'N' if w < 6 else 'V'}")
        lines.append("")
    train = tmp_path / "train.conll"
    train.write_text("\n".join(lines) + "\n")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    args = ["-m", "firth", "tag", "train", str(train), "-o", str(out_dir / "tagger"), "--epochs", "10", "--patience", "10", "--lr", "0.02", "--dim", "8",
            "--threads", "1", "--seed", "2", "--quiet"]
    res = run_ranks(args, ROOT)
    assert [rc for rc, _ in res] == [0, 0], res
    assert sorted(x.name for x in out_dir.iterdir()) == ["tagger"]
    from firth.tasks.tagging import evaluate_tagger, load_tagger

    acc, _ = evaluate_tagger(load_tagger(out_dir / "tagger"), train)
    assert acc > 0.9, acc  # one process: 0.976 (0.848 at the default lr, stopped early on a 4-sentence dev)


def test_avg_classifier_under_torchrun_is_refused_in_one_line(tmp_path):
    train = tmp_path / "t.txt"
    train.write_text("".join(f"__label__{'a' if i % 2 else 'b'} x{i % 2} y\n" for i in range(20)))
    res = run_ranks(["-m", "firth", "classify", "train", str(train), "-o", str(tmp_path / "m"), "--quiet"], ROOT)
    for rc, err in res:
        assert rc == 1
        assert err.strip().splitlines() == [
            "firth: error: --arch avg does not train on several processes; under torchrun use --arch bilstm, "
            "or run it without torchrun"]
    assert not (tmp_path / "m").exists()
