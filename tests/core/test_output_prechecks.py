"""`firth train -o` and `firth convert` check their output before any work (issue 13): a user's
file, an input, a path inside a corpus directory, '.', a directory, an unwritable place, the
checkpoint itself -- one line, exit status 1, nothing trained, nothing changed."""

from __future__ import annotations

import os

import numpy as np
import pytest

from firth.cli import main
from firth.vectors import KeyedVectors


@pytest.fixture
def place(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.txt").write_text("the cat sat on the mat\n" * 50)
    (tmp_path / "notes.txt").write_text("my notes\n")
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text("the cat sat\n" * 20)
    (tmp_path / "outdir").mkdir()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("x")
    KeyedVectors(["a", "b"], np.eye(2, dtype=np.float32)).save(tmp_path / "v.firth")
    return tmp_path


def _snapshot(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


TRAIN = [  # (arguments after `firth train`, the error)
    (["c.txt", "-o", "c.txt"], "c.txt: the -o is also an input of this command; choose another -o path"),
    (["c.txt", "-o", "notes.txt"], "notes.txt: exists and is not a vectors file; firth does not overwrite other files"),
    (["c.txt", "-o", "."], ".: the -o may not be the current directory or one above it"),
    (["c.txt", "-o", "outdir"], "outdir: is a directory; give a file name for the -o"),
    (["c.txt", "-o", "no/v.firth"], "no/v.firth: directory no does not exist; create it first"),
    (["c.txt", "-o", "notes.txt/v.firth"], "notes.txt/v.firth: notes.txt is not a directory"),
    (["corpus", "-o", "corpus/v.firth"], "corpus/v.firth: the -o file would be inside the input directory corpus"),
    (["c.txt", "-o", "/proc/v.firth"], "/proc/v.firth: cannot write in /proc ("),
    (["c.txt", "-o", "w.firth", "--checkpoint", "w.firth"], "w.firth: -o and --checkpoint name the same path"),
    (["c.txt", "-o", "w.firth", "--checkpoint", "mine"], "mine: exists and is not a firth output"),
    (["c.txt", "-o", "w.firth", "--checkpoint", "notes.txt"], "notes.txt: exists and is a file"),
    (["c.txt", "-o", "w.firth", "--checkpoint", "c.txt"], "c.txt: the --checkpoint is also an input"),
]

CONVERT = [
    (["v.firth", "v.firth"], "v.firth: the output is also an input of this command"),
    (["v.firth", "notes.txt"], "notes.txt: exists and is not a vectors file"),
    (["v.firth", "c.txt", "--format", "vec"], "c.txt: exists and is not a vectors file"),
    (["v.firth", "outdir"], "outdir: is a directory; give a file name for the output"),
    (["v.firth", "."], ".: the output may not be the current directory"),
    (["v.firth", "/proc/x.vec", "--format", "vec"], "/proc/x.vec: cannot write in /proc ("),
    (["v.firth", "no/x.firth"], "no/x.firth: directory no does not exist"),
]


@pytest.mark.parametrize("cmd,args,message", [("train", *c) for c in TRAIN] + [("convert", *c) for c in CONVERT],
                         ids=[f"train {' '.join(c[0])}" for c in TRAIN] + [f"convert {' '.join(c[0])}" for c in CONVERT])
def test_output_is_refused_before_any_work(place, capsys, cmd, args, message):
    before = _snapshot(place)
    rc = main([cmd, *args, *(["-q", "--min-count", "1", "--dim", "4"] if cmd == "train" else [])])
    err = capsys.readouterr().err
    assert rc == 1 and err == f"firth: error: {err[len('firth: error: '):]}" and err.count("\n") == 1
    assert message in err, err
    assert _snapshot(place) == before  # nothing written, nothing removed
    assert not [p for p in place.rglob(".*")]  # no temporary or probe file left


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in read-only-mode directories")
def test_read_only_directory_is_refused_before_training(place, capsys):
    ro = place / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert main(["train", "c.txt", "-o", "ro/v.firth", "-q", "--min-count", "1"]) == 1
        assert "cannot write in ro (permission denied or read-only)" in capsys.readouterr().err
    finally:
        ro.chmod(0o755)


def test_existing_vectors_are_replaced(place, capsys):
    """What firth wrote (any vectors format) may be replaced, as before."""
    assert main(["convert", "v.firth", "w.txt", "--format", "word2vec-text"]) == 0
    assert main(["convert", "v.firth", "w.txt", "--format", "word2vec-text"]) == 0
    assert main(["train", "c.txt", "-o", "w.txt", "--format", "word2vec-text", "-q", "--min-count", "1",
                 "--dim", "4", "--epochs", "1", "--workers", "1"]) == 0
    assert (place / "w.txt").read_text().startswith("5 4\nthe ")  # the, cat, sat, on, mat


@pytest.mark.parametrize("free,expect", [(0, "No space left on device: 6400 requested and 992 written"),
                                         (10 << 30, "cannot write (6400 requested and 992 written)")])
def test_short_write_without_errno_says_disk_full_when_it_is(tmp_path, monkeypatch, free, expect):
    """numpy's tofile reports a full disk as OSError('N requested and M written') without errno."""
    from types import SimpleNamespace

    from firth.errors import FirthError
    from firth.io import atomic_write

    monkeypatch.setattr(os, "statvfs", lambda p: SimpleNamespace(f_bavail=free, f_frsize=1))
    (tmp_path / "v.bin").write_bytes(b"old")
    with pytest.raises(FirthError, match=expect.replace("(", r"\(").replace(")", r"\)")):
        with atomic_write(tmp_path / "v.bin"):
            raise OSError("6400 requested and 992 written")
    assert (tmp_path / "v.bin").read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["v.bin"]
