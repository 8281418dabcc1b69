"""Checkpoints and training runs under damage, crafted files, kills and divergence (issue 13).

* a checkpoint's matrices and counters are checked against the vocabulary and options before
  any kernel runs: crafted shapes (a (2, 10) or (1, 10**6) syn0), dtypes, NaN, counters give
  one line, never a segfault;
* a damaged (torn, flipped, truncated) newest checkpoint falls back to the previous one with a
  message, and the run still ends bit-identical to an uninterrupted one;
* a kill at every rename of a checkpoint save leaves a checkpoint the next run resumes from;
* a run that diverges (NaN/inf loss or weights) stops in one line naming --alpha and writes
  nothing.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from firth.errors import FirthError
from firth.train.checkpoint import _file_digest, _state_digest, find_checkpoint, load_checkpoint
from firth.train.word2vec import Word2Vec

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    rng = random.Random(0)
    words = [f"w{i}" for i in range(120)]
    p = tmp_path_factory.mktemp("ck") / "c.txt"
    p.write_text("".join(" ".join(rng.choice(words[: rng.randint(5, 120)]) for _ in range(12)) + "\n"
                         for _ in range(600)))
    return p


def _model(**kw):
    opts = dict(model="sg", dim=10, epochs=3, min_count=1, workers=1, seed=3)
    opts.update(kw)
    return Word2Vec(**opts)


def _stop_after(n):
    def cb(model, epoch, loss):
        if epoch + 1 == n:
            raise KeyboardInterrupt
    return cb


def _partial(corpus, ck, saved=2, **kw):
    m = _model(**kw)
    with pytest.raises(KeyboardInterrupt):
        m.train(str(corpus), checkpoint=ck, callbacks=[_stop_after(saved)])
    m.close()


@pytest.fixture(scope="module")
def full(corpus):
    m = _model().train(str(corpus))
    v = m.wv.vectors.copy()
    m.close()
    return v


def _resign(epoch_dir: Path) -> None:
    """What a crafted checkpoint does: checksums recomputed to match its content."""
    state = json.loads((epoch_dir / "checkpoint.json").read_text())
    for name in list(state["files"]):
        if (epoch_dir / f"{name}.npy").exists():
            n, h = _file_digest(epoch_dir / f"{name}.npy")
            state["files"][name] = {"bytes": n, "sha256": h}
    state["state_sha256"] = _state_digest(state)
    (epoch_dir / "checkpoint.json").write_text(json.dumps(state))


def _edit_state(**changes):
    def f(d: Path):
        state = json.loads((d / "checkpoint.json").read_text())
        state.update(changes)
        (d / "checkpoint.json").write_text(json.dumps(state))
    return f


def _array(name, arr):
    def f(d: Path):
        np.save(d / f"{name}.npy", arr)
    return f


def _drop_file(d: Path, name: str):
    state = json.loads((d / "checkpoint.json").read_text())
    del state["files"][name]
    (d / "checkpoint.json").write_text(json.dumps(state))


def _nan_row(d: Path):
    a = np.load(d / "syn1.npy")
    a[5, 3] = np.nan
    np.save(d / "syn1.npy", a)


# crafted (checksums valid) single-epoch checkpoints: each must fail in one line naming the problem
CRAFTED = [
    ("syn0 (2, 10)", _array("syn0", np.zeros((2, 10), np.float32)), r"syn0.npy: shape \(2, 10\), expected \(\d+, 10\)"),
    ("syn0 (1, 10**6)", _array("syn0", np.zeros((1, 10**6), np.float32)), r"syn0.npy: shape \(1, 1000000\)"),
    ("syn1 too few rows", _array("syn1", np.zeros((3, 10), np.float32)), r"syn1.npy: shape \(3, 10\)"),
    ("syn0 3-D", _array("syn0", np.zeros((2, 2, 2), np.float32)), r"syn0.npy: array of shape \(2, 2, 2\)"),
    ("syn0 float64", _array("syn0", np.zeros((120, 10))), r"syn0.npy: dtype float64, expected float32"),
    ("syn0 int32", _array("syn0", np.zeros((120, 10), np.int32)), r"dtype int32, expected float32"),
    ("syn1 NaN", _nan_row, r"syn1.npy: holds NaN or infinite values"),
    ("arrays list short", lambda d: (_edit_state(arrays=["syn0"])(d), _drop_file(d, "syn1")), r"holds arrays \['syn0'\], expected \['syn0', 'syn1'\]"),
    ("array name a path", _edit_state(arrays=["../../syn0"]), r"bad 'arrays' list"),
    ("epochs_trained < 0", _edit_state(epochs_trained=-1), r"'epochs_trained' must be an integer"),
    ("epochs_trained huge", _edit_state(epochs_trained=10**12), r"'epochs_trained' must be an integer"),
    ("call_base > epochs", _edit_state(call_base=5), r"'call_base' must be an integer in \[0, 1\]"),
    ("done > run", _edit_state(epochs_trained=9, call_base=0), r"9 epochs done of a run of 3"),
    ("losses not a list", _edit_state(epoch_losses="x"), r"'epoch_losses' must be a list"),
    ("settings a list", _edit_state(settings=[1]), r"'settings' is not an object"),
    ("format", _edit_state(format="firth-lm-checkpoint"), r"not a firth word2vec checkpoint"),
    ("words_trained float", _edit_state(words_trained=1.5), r"'words_trained' must be an integer"),
    ("train_seconds NaN", _edit_state(train_seconds=float("nan")), r"'train_seconds' must be a finite number"),
]


@pytest.mark.parametrize("what,craft,message", CRAFTED, ids=[c[0] for c in CRAFTED])
def test_crafted_checkpoint_is_refused_in_one_line(corpus, tmp_path, what, craft, message):
    ck = tmp_path / "ck"
    _partial(corpus, ck, saved=1)
    (only,) = sorted(ck.glob("epoch-*"))
    craft(only)
    _resign(only)
    m = _model()
    with pytest.raises(FirthError, match=message) as info:
        m.train(str(corpus), checkpoint=ck)
    m.close()
    msg = str(info.value)
    assert "\n" not in msg and "damaged checkpoint, cannot resume" in msg and "delete" in msg
    assert m.epochs_trained == 0  # nothing trained on it


@pytest.mark.parametrize("shape", ["2,10", "1,1000000"])
def test_firth_train_on_a_crafted_checkpoint_exits_1_not_sigsegv(corpus, tmp_path, shape):
    from firth.text import Normalizer

    ck = tmp_path / "ck"
    _partial(corpus, ck, saved=1, normalizer=Normalizer())  # as `firth train` makes it
    (only,) = sorted(ck.glob("epoch-*"))
    np.save(only / "syn0.npy", np.zeros(tuple(int(x) for x in shape.split(",")), np.float32))
    _resign(only)
    r = subprocess.run([sys.executable, "-m", "firth", "train", str(corpus), "-o", str(tmp_path / "v.firth"),
                        "--model", "sg", "--dim", "10", "--epochs", "3", "--min-count", "1", "--workers", "1",
                        "--seed", "3", "--checkpoint", str(ck), "-q"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 1, r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("firth: error: ") and "syn0.npy: shape" in r.stderr
    assert not (tmp_path / "v.firth").exists()


def _flip(path: Path, at: int = 200):
    b = bytearray(path.read_bytes())
    b[min(at, len(b) - 1)] ^= 0x10
    path.write_bytes(bytes(b))


DAMAGE = [  # the newest epoch, damaged as disks and kills do (no checksums recomputed)
    ("syn0 byte flipped", lambda d: _flip(d / "syn0.npy")),
    ("syn1 truncated", lambda d: (d / "syn1.npy").write_bytes((d / "syn1.npy").read_bytes()[:1000])),
    ("syn1 missing", lambda d: (d / "syn1.npy").unlink()),
    ("json missing", lambda d: (d / "checkpoint.json").unlink()),
    ("json torn", lambda d: (d / "checkpoint.json").write_text((d / "checkpoint.json").read_text()[:300])),
    ("json digit changed", lambda d: (d / "checkpoint.json").write_text(
        (d / "checkpoint.json").read_text().replace('"epochs_trained": 2', '"epochs_trained": 1'))),
    ("json a list", lambda d: (d / "checkpoint.json").write_text("[1, 2]")),
    ("npy header shape", lambda d: (d / "syn0.npy").write_bytes(
        (d / "syn0.npy").read_bytes().replace(b"'shape': (120, 10)", b"'shape': (2, 10)  "))),
    ("crafted with good checksums", lambda d: (np.save(d / "syn0.npy", np.zeros((2, 10), np.float32)), _resign(d))),
]


@pytest.mark.parametrize("what,damage", DAMAGE, ids=[c[0] for c in DAMAGE])
def test_damaged_newest_checkpoint_falls_back_to_the_previous(corpus, full, tmp_path, capfd, what, damage):
    ck = tmp_path / "ck"
    _partial(corpus, ck, saved=2)
    assert sorted(p.name for p in ck.glob("epoch-*")) == ["epoch-000001", "epoch-000002"]
    damage(ck / "epoch-000002")
    capfd.readouterr()
    m = _model().train(str(corpus), checkpoint=ck)
    err = capfd.readouterr().err
    assert f"firth: warning: checkpoint {ck}/epoch-000002 is unusable (" in err
    assert f"falling back to {ck}/epoch-000001" in err
    assert f"resuming from {ck}/epoch-000001: 1 of 3 epochs done" in err
    assert m.epochs_trained == 3 and np.array_equal(m.wv.vectors, full)  # as if nothing had happened
    m.close()
    # the damaged epoch was replaced; two epochs kept, the index names the newest
    assert sorted(p.name for p in ck.glob("epoch-*")) == ["epoch-000002", "epoch-000003"]
    index = json.loads((ck / "checkpoint.json").read_text())
    assert index["format"] == "firth-checkpoint-index" and index["latest"] == "epoch-000003"
    assert index["epochs_trained"] == 3
    state, arrays, where = find_checkpoint(ck)
    assert where == ck / "epoch-000003" and state["epochs_trained"] == 3


def test_all_checkpoints_damaged_is_one_line(corpus, tmp_path):
    ck = tmp_path / "ck"
    _partial(corpus, ck, saved=2)
    for d in ck.glob("epoch-*"):
        _flip(d / "syn0.npy")
    with pytest.raises(FirthError, match=r"epoch-000002: damaged checkpoint, cannot resume: .*syn0.npy: does not "
                                         r"match its checksum .*\(and 1 older one unusable too\); delete .*ck to start over"):
        _model().train(str(corpus), checkpoint=ck)


def test_another_runs_checkpoint_is_refused_without_fallback(corpus, tmp_path):
    ck = tmp_path / "ck"
    _partial(corpus, ck, saved=2)
    with pytest.raises(FirthError, match=r"epoch-000002: checkpoint was made with different settings \(window\) "
                                         r"\(window 5 there, 3 now\)"):
        _model(window=3).train(str(corpus), checkpoint=ck)
    with pytest.raises(FirthError, match=r"checkpoint is for a run of 3 epochs, not 4; use --epochs 3"):
        _model(epochs=4).train(str(corpus), checkpoint=ck)
    assert sorted(p.name for p in ck.glob("epoch-*")) == ["epoch-000001", "epoch-000002"]  # untouched


_RUN = """
import sys
from firth.train.word2vec import Word2Vec
m = Word2Vec(model="sg", dim=10, epochs=3, min_count=1, workers=1, seed=3)
m.train(sys.argv[1], checkpoint=sys.argv[2])
import numpy as np
np.save(sys.argv[3], m.wv.vectors)
"""


@pytest.mark.parametrize("n", [2, 3, 5])  # renames: 1 directory, 2 epoch 1, 3 index, 4 epoch 2, 5 index
def test_kill_at_every_rename_of_a_checkpoint_save_resumes(corpus, full, tmp_path, capfd, n):
    """SIGKILL before the n-th rename of a run (FIRTH_FAULT hook): the next run resumes from
    the newest complete epoch (never from scratch when one was saved) and ends with the
    uninterrupted run's vectors; nothing temporary is left."""
    ck, out = tmp_path / "ck", tmp_path / "v.npy"
    env = dict(os.environ, FIRTH_FAULT=f"rename:{n}")
    r = subprocess.run([sys.executable, "-c", _RUN, str(corpus), str(ck), str(out)], env=env, cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == -9, r.stderr
    saved = sorted(p.name for p in ck.glob("epoch-*")) if ck.exists() else []
    assert len(saved) == {1: 0, 2: 0, 3: 1, 4: 1, 5: 2}[n]
    capfd.readouterr()
    m = _model().train(str(corpus), checkpoint=ck)
    if saved:
        assert f"resuming from {ck}/{saved[-1]}: {len(saved)} of 3 epochs done" in capfd.readouterr().err
    assert np.array_equal(m.wv.vectors, full)
    m.close()
    assert not list(ck.glob(".*")) and sorted(p.name for p in ck.glob("epoch-*")) == ["epoch-000002", "epoch-000003"]


def test_checkpoint_option_is_checked_before_training(corpus, tmp_path):
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "thesis.txt").write_text("x")
    with pytest.raises(FirthError, match="exists and is not a firth output"):
        _model().train(str(corpus), checkpoint=mine)
    assert [p.name for p in mine.iterdir()] == ["thesis.txt"]
    with pytest.raises(FirthError, match="the --checkpoint is also an input of this command"):
        _model().train(str(corpus), checkpoint=corpus)
    (tmp_path / "file").write_text("x")
    with pytest.raises(FirthError, match="exists and is a file"):
        _model().train(str(corpus), checkpoint=tmp_path / "file")
    with pytest.raises(FirthError, match="does not exist"):
        _model().train(str(corpus), checkpoint=tmp_path / "no" / "ck")


def test_legacy_single_directory_checkpoint_resumes(corpus, full, tmp_path, capfd):
    """A checkpoint written before epoch directories (checkpoint.json at the top) still resumes,
    and the directory is converted on the next save."""
    ck = tmp_path / "ck"
    _partial(corpus, ck, saved=1)
    (ep,) = ck.glob("epoch-*")
    state = json.loads((ep / "checkpoint.json").read_text())
    for k in ("files", "state_sha256"):
        state.pop(k)
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "checkpoint.json").write_text(json.dumps(state))
    for name in ("syn0", "syn1"):
        shutil.copy(ep / f"{name}.npy", legacy)
    (legacy / "firth-output.json").write_text('{"firth": 1, "kind": "output"}\n')
    assert load_checkpoint(legacy)[0]["epochs_trained"] == 1
    capfd.readouterr()
    m = _model().train(str(corpus), checkpoint=legacy)
    assert f"resuming from {legacy}: 1 of 3 epochs done" in capfd.readouterr().err
    assert np.array_equal(m.wv.vectors, full)
    m.close()
    assert sorted(p.name for p in legacy.iterdir()) == ["checkpoint.json", "epoch-000002", "epoch-000003",
                                                         "firth-output.json"]
    assert json.loads((legacy / "firth-output.json").read_text())["kind"] == "checkpoint"


# ------------------------------------------------------------------ divergence

DIVERGE = [
    ("sg", ["--model", "sg"]),
    ("cbow", ["--model", "cbow"]),
    ("fasttext", ["--model", "fasttext-sg", "--bucket", "1000"]),
]


@pytest.mark.parametrize("what,opts", DIVERGE, ids=[d[0] for d in DIVERGE])
def test_diverging_run_stops_in_one_line_naming_alpha(corpus, tmp_path, what, opts):
    out, ck = tmp_path / "v.firth", tmp_path / "ck"
    r = subprocess.run([sys.executable, "-m", "firth", "train", str(corpus), "-o", str(out), *opts,
                        "--alpha", "10", "--dim", "10", "--min-count", "1", "--workers", "1", "--epochs", "2",
                        "--checkpoint", str(ck), "-q"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert lines[-1].startswith("firth: error: training diverged in epoch 1: the loss or the vectors became "
                                "NaN/infinite; the learning rate --alpha 10 is too high"), r.stderr
    assert "--alpha 2" in lines[-1] and "no vectors were written" in lines[-1]
    assert not out.exists() and not list(ck.glob("epoch-*"))  # no NaN checkpoint either
    assert not list(tmp_path.glob(".*"))


def test_divergence_check_agrees_with_a_full_scan(corpus):
    """The per-epoch check (blocks of rows) against np.isfinite on the whole matrix."""
    from firth.train.checkpoint import all_finite

    rng = np.random.default_rng(0)
    for shape in [(1, 1), (7, 3), (70_000, 2), (131_073, 1)]:
        a = rng.random(shape, dtype=np.float32)
        assert all_finite(a) == bool(np.isfinite(a).all()) is True
        for bad in (np.nan, np.inf, -np.inf):
            b = a.copy()
            b[shape[0] - 1, shape[1] - 1] = bad
            assert all_finite(b) == bool(np.isfinite(b).all()) is False
    m = _model(epochs=1).train(str(corpus))
    m.check_finite(0, 1.0)  # a good run passes
    m.syn1[3, 4] = np.inf
    with pytest.raises(FirthError, match="training diverged in epoch 1"):
        m.check_finite(0, 1.0)
    m.syn1[3, 4] = 0
    with pytest.raises(FirthError, match="training diverged in epoch 2"):
        m.check_finite(1, float("nan"))
    m.close()


def test_vectors_of_a_diverged_model_are_refused(corpus):
    """Every writer goes through vectors() (firth train, --distributed, the API): no NaN rows out."""
    from firth.train.fasttext import FastText

    for m in (_model(epochs=1), FastText(model="sg", dim=8, epochs=1, min_count=1, workers=1, bucket=100)):
        m.train(str(corpus))
        m.syn0[-1, 0] = np.nan
        with pytest.raises(FirthError, match="training diverged in epoch 1"):
            m.vectors()
        m.close()


@pytest.mark.parametrize("rows,message", [(0, r"syn0.npy: shape \(120, 8\), expected \(220, 8\)"),
                                          (-1, r"syn0.npy: shape \(219, 8\), expected \(220, 8\)")])
def test_fasttext_checkpoint_needs_the_bucket_rows(corpus, tmp_path, rows, message):
    """fastText's input matrix is words + n-gram buckets: a checkpoint short of them is refused."""
    from firth.train.fasttext import FastText

    def ft():
        return FastText(model="sg", dim=8, epochs=2, min_count=1, workers=1, bucket=100, minn=2, maxn=3)

    ck = tmp_path / "ck"
    m = ft()
    with pytest.raises(KeyboardInterrupt):
        m.train(str(corpus), checkpoint=ck, callbacks=[_stop_after(1)])
    m.close()
    (ep,) = ck.glob("epoch-*")
    syn0 = np.load(ep / "syn0.npy")
    np.save(ep / "syn0.npy", syn0[:120] if rows == 0 else syn0[:rows])
    _resign(ep)
    with pytest.raises(FirthError, match=message):
        ft().train(str(corpus), checkpoint=ck)
