"""Issue 13 for classify/tag/search: nothing of the user's is replaced, damaged models are
one-line errors (never a segfault or out-of-bounds read), outputs checked before training."""

import json
import os
import pickle
import shutil
import subprocess
import sys

import numpy as np
import pytest

from firth.cli import main


def run(argv, capsys):
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def _train_tsv(d):
    lines = [f"{['neg', 'pos'][i % 2]}\tthe film was {['bad', 'good'][i % 2]} {'indeed' if i % 3 else 'really'}"
             for i in range(40)]
    (d / "train.tsv").write_text("\n".join(lines) + "\n")
    (d / "test.tsv").write_text("pos\ta good film\nneg\ta bad film\n")
    (d / "docs.jsonl").write_text('{"id": "1", "text": "boundary layer flow"}\n{"id": "2", "text": "wing"}\n')


@pytest.fixture(scope="module")
def avg_model(tmp_path_factory):
    d = tmp_path_factory.mktemp("avg")
    _train_tsv(d)
    assert main(["classify", "train", str(d / "train.tsv"), "-o", str(d / "m"), "--quiet", "--epochs", "2"]) == 0
    return d


@pytest.fixture
def work(tmp_path, avg_model):
    shutil.copytree(avg_model, tmp_path, dirs_exist_ok=True)
    return tmp_path


def _user_dir(d):
    d.mkdir()
    (d / "thesis.txt").write_text("four years of work")


@pytest.mark.parametrize("cmd,setup,message", [
    ("classify", lambda w: _user_dir(w / "out"), "out: exists and is not a firth output"),
    ("classify", lambda w: None, "also an input"),  # -o names the training file
    ("classify", lambda w: (w / "out").write_text("mine"), "exists and is a file"),
    ("classify-search", lambda w: None, "a firth classifier, not a search-index"),
    ("search", lambda w: _user_dir(w / "out"), "out: exists and is not a firth output"),
    ("search", lambda w: None, "also an input"),
    ("tag", lambda w: _user_dir(w / "out"), "out: exists and is not a firth output"),
    ("classify-dot", lambda w: None, "current directory|contains the input"),
    ("classify-proc", lambda w: None, "does not exist|cannot write"),
])
def test_outputs_that_would_lose_data_are_refused_before_training(work, capsys, monkeypatch, cmd, setup, message):
    setup(work)
    before = {p: p.read_bytes() for p in work.rglob("*") if p.is_file()}
    out = str(work / "out")
    if cmd == "classify":
        argv = ["classify", "train", str(work / "train.tsv"), "-o",
                str(work / "train.tsv") if "input" in message else out, "--quiet"]
    elif cmd == "classify-search":
        argv = ["search", "index", str(work / "docs.jsonl"), "-o", str(work / "m")]
    elif cmd == "search":
        argv = ["search", "index", str(work / "docs.jsonl"), "-o", str(work / "docs.jsonl") if "input" in message else out]
    elif cmd == "tag":
        (work / "t.conll").write_text("the DT\ncat NN\n\n")
        before[work / "t.conll"] = (work / "t.conll").read_bytes()
        argv = ["tag", "train", str(work / "t.conll"), "-o", out, "--quiet"]
    elif cmd == "classify-dot":
        monkeypatch.chdir(work)
        argv = ["classify", "train", "train.tsv", "-o", ".", "--quiet"]
    else:
        argv = ["classify", "train", str(work / "train.tsv"), "-o", "/proc/firth-nope/m", "--quiet"]
    rc, _, err = run(argv, capsys)
    assert rc == 1 and err.startswith("firth: error:") and err.count("\n") == 1, err
    assert any(m in err for m in message.split("|")), err
    after = {p: p.read_bytes() for p in work.rglob("*") if p.is_file()}
    assert after == before  # nothing changed, nothing left behind


def test_replacing_own_model_works(work, capsys):
    rc, _, _ = run(["classify", "train", str(work / "train.tsv"), "-o", str(work / "m"), "--quiet", "--epochs", "1"],
                   capsys)
    assert rc == 0 and run(["classify", "test", str(work / "m"), str(work / "test.tsv")], capsys)[0] == 0
    assert sorted(p.name for p in work.iterdir() if p.name.startswith(".")) == []


def _npy(name, arr):
    return lambda m: np.save(m / name, arr)


def _obj_npy(m):
    with open(m / "W_in.npy", "wb") as f:  # a pickled object array
        np.lib.format.write_array_header_1_0(f, {"descr": "|O", "fortran_order": False, "shape": (1,)})
        pickle.dump([os.system], f)


def _edit_cfg(fn):
    def edit(m):
        cfg = json.loads((m / "config.json").read_text())
        (m / "config.json").write_text(json.dumps(fn(cfg)))
    return edit


def _nan(m):
    w = np.load(m / "W_in.npy")
    w[3, 1] = np.nan
    np.save(m / "W_in.npy", w)


@pytest.mark.parametrize("damage,message", [
    (_npy("W_in.npy", np.zeros((1, 100000), np.float32)), r"W_in.npy: array of shape \(1, 100000\), expected"),
    (_npy("W_in.npy", np.zeros((2, 100), np.float32)), "W_in.npy: array of shape"),
    (_npy("W_out.npy", np.zeros((7, 100), np.float32)), r"W_out.npy: array of shape \(7, 100\), expected \(2, 100\)"),
    (_npy("W_out.npy", np.zeros((2, 100), np.int32)), "expected floating point"),
    (_npy("buckets.npy", np.array([5, 3], np.int64)), "bucket ids must be distinct, sorted"),
    (_npy("buckets.npy", np.array([2**50], np.int64)), "bucket ids must be distinct, sorted"),
    (lambda m: (m / "W_in.npy").unlink(), "W_in.npy: missing"),
    (_obj_npy, "refused"),
    (lambda m: (m / "W_in.npy").write_bytes((m / "W_in.npy").read_bytes()[:200]), "truncated"),
    (lambda m: (m / "config.json").write_text("[1, 2]"), "expected a JSON dict, found list"),
    (_edit_cfg(lambda c: {**c, "config": {**c["config"], "dim": "100"}}), "dim='100' is not a int"),
    (_edit_cfg(lambda c: {**c, "config": {**c["config"], "evil": 1}}), "'config' must be an object"),
    (_edit_cfg(lambda c: {**c, "words": c["words"][:-1]}), "W_in.npy: array of shape"),
    (_edit_cfg(lambda c: {**c, "labels": ["a", "a"]}), "distinct strings"),
    (_edit_cfg(lambda c: {**c, "format": 7}), "not a classifier model"),
    (_nan, "NaN or infinite"),
])
def test_damaged_avg_models_are_one_line_errors(work, damage, message):
    """Run in a subprocess: before issue 13 some of these segfaulted in the Numba kernel."""
    damage(work / "m")
    r = subprocess.run([sys.executable, "-m", "firth.cli", "classify", "test", str(work / "m"), str(work / "test.tsv")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, (r.returncode, r.stderr[-500:])
    assert r.stderr.startswith("firth: error:") and r.stderr.count("\n") == 1, r.stderr
    import re
    assert re.search(message, r.stderr), r.stderr


def test_sigterm_is_handled_like_ctrl_c(tmp_path):
    """SIGTERM unwinds (exit 130 and 'interrupted'), so temporary outputs are removed."""
    code = ("import os, signal, sys, time\n"
            "from firth import cli\n"
            "def slow(args):\n"
            "    from firth.io import atomic_dir\n"
            "    with atomic_dir(sys.argv[1], 'classifier') as tmp:\n"
            "        (tmp / 'x').write_text('half')\n"
            "        os.kill(os.getpid(), signal.SIGTERM)\n"
            "        time.sleep(30)\n"
            "p = cli.build_parser\n"
            "def build():\n"
            "    parser = p()\n"
            "    parse = parser.parse_args\n"
            "    parser.parse_args = lambda argv=None: setattr(a := parse(argv), 'func', slow) or a\n"
            "    return parser\n"
            "cli.build_parser = build\n"
            "sys.exit(cli.main(['info', 'x']))\n")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "m")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 130 and "interrupted" in r.stderr, r.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def tagger(tmp_path_factory):
    d = tmp_path_factory.mktemp("tag")
    sents = "the DT\ncat NN\nsat VB\n\na DT\ndog NN\nran VB\n\n" * 5
    (d / "t.conll").write_text(sents)
    assert main(["tag", "train", str(d / "t.conll"), "-o", str(d / "m"), "--quiet", "--epochs", "1", "--dim", "8"]) == 0
    return d


@pytest.mark.parametrize("damage,message", [
    (_edit_cfg(lambda c: {**c, "labels": c["labels"] + ["XX"]}), "predicts 3 classes but config.json names 4"),
    (_edit_cfg(lambda c: {**c, "labels": "DT"}), "non-empty list of distinct strings"),
    (lambda m: _edit_cfg(lambda c: (c["config"]["rnn"].update(hidden_size=10**7), c)[1])(m / "net"), "do not fit"),
    (_edit_cfg(lambda c: {**c, "options": {"evil": 1}}), "'options' must be an object"),
    (lambda m: (m / "config.json").write_text('"x"'), "expected a JSON dict, found str"),
    (lambda m: (m / "net" / "weights.pt").write_bytes(b"PK\x03\x04junk"), "cannot read the weights"),
])
def test_damaged_tagger_models_are_one_line_errors(tagger, tmp_path, capsys, damage, message):
    shutil.copytree(tagger, tmp_path, dirs_exist_ok=True)
    damage(tmp_path / "m")
    rc, _, err = run(["tag", "test", str(tmp_path / "m"), str(tmp_path / "t.conll")], capsys)
    assert rc == 1 and err.startswith("firth: error:") and err.count("\n") == 1, err
    assert any(m in err for m in message.split("|")), err
