"""Atomic writes: all or nothing, ordinary permissions; compressed input by content."""

import bz2
import gzip
import lzma
import os

import pytest

from firth.errors import FirthError
from firth.io import atomic_dir, atomic_write, open_text


def test_atomic_write_replaces_whole_file_with_normal_mode(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with atomic_write(path, "w") as f:
        f.write("new")
    assert path.read_text() == "new"
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_atomic_write_leaves_nothing_on_error(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(path, "w") as f:
            f.write("half")
            raise RuntimeError("boom")
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_atomic_dir(tmp_path):
    target = tmp_path / "model"
    with atomic_dir(target) as d:
        (d / "a.json").write_text("{}")
    assert (target / "a.json").exists()
    with pytest.raises(ValueError):
        with atomic_dir(target) as d:
            (d / "b.json").write_text("{}")
            raise ValueError
    assert sorted(p.name for p in target.iterdir()) == ["a.json", "firth-output.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_missing_parent_directory_is_a_clear_error(tmp_path):
    with pytest.raises(FirthError, match="does not exist"):
        with atomic_write(tmp_path / "no" / "x", "w"):
            pass


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress])
def test_open_text_decompresses_by_content(tmp_path, compress):
    path = tmp_path / "plain-name.txt"
    path.write_bytes(compress("héllo\nworld\n".encode()))
    with open_text(path) as f:
        assert f.read() == "héllo\nworld\n"


# ---------------------------------------------------------------- issue 13: nothing lost

import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

from firth.io import MARKER, check_output, output_kind, read_json, recover  # noqa: E402


def _fill(d, kind="classifier"):
    with atomic_dir(d, kind) as tmp:
        (tmp / "config.json").write_text('{"v": 1}')


@pytest.mark.parametrize("setup,kind,message", [
    # a directory of the user's files is never replaced (it used to be deleted)
    (lambda d: (d.mkdir(), (d / "thesis.txt").write_text("x")), "classifier", "not a firth output"),
    # a file where a directory goes: refused, not renamed away
    (lambda d: d.write_text("train data"), "classifier", "exists and is a file"),
    # firth's output of another kind
    (lambda d: _fill(d, "search-index"), "classifier", "a firth search-index, not a classifier"),
    # a marker that is not firth's
    (lambda d: (d.mkdir(), (d / MARKER).write_text("[1, 2]")), "classifier", "not a firth output"),
])
def test_atomic_dir_refuses_what_firth_did_not_write(tmp_path, setup, kind, message):
    d = tmp_path / "out"
    setup(d)
    before = {p.name: p.read_bytes() for p in ([d] if d.is_file() else d.iterdir())}
    with pytest.raises(FirthError, match=message):
        with atomic_dir(d, kind) as tmp:
            (tmp / "x").write_text("new")
    after = {p.name: p.read_bytes() for p in ([d] if d.is_file() else d.iterdir())}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_atomic_dir_replaces_its_own_output_and_empty_dirs(tmp_path):
    d = tmp_path / "m"
    d.mkdir()  # empty: nothing to lose
    _fill(d)
    assert output_kind(d) == "classifier"
    with atomic_dir(d, "classifier") as tmp:
        (tmp / "config.json").write_text('{"v": 2}')
    assert json.loads((d / "config.json").read_text()) == {"v": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
    # outputs written before the marker existed are recognised by their format
    legacy = tmp_path / "old"
    legacy.mkdir()
    (legacy / "config.json").write_text('{"format": "firth-classifier-avg/1"}')
    _fill(legacy)
    assert output_kind(legacy) == "classifier"


@pytest.mark.parametrize("name", [".", ".."])
def test_current_directory_is_refused_in_one_line(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FirthError, match="current directory"):
        with atomic_dir(name, "classifier"):
            pass


def test_output_naming_an_input_is_refused(tmp_path):
    data = tmp_path / "train.tsv"
    data.write_text("pos\tgood\n")
    with pytest.raises(FirthError, match="also an input"):
        with atomic_dir(data, "classifier", inputs=[data]):
            pass
    with pytest.raises(FirthError, match="also an input"):
        with atomic_write(data, "w", inputs=[str(data)]):
            pass
    assert data.read_text() == "pos\tgood\n"


def test_file_output_checks(tmp_path):
    (tmp_path / "dir").mkdir()
    with pytest.raises(FirthError, match="is a directory"):
        with atomic_write(tmp_path / "dir", "w"):
            pass
    with pytest.raises(FirthError, match="not a vectors file"):
        (tmp_path / "notes.txt").write_text("mine")
        check_output(tmp_path / "notes.txt", "vectors", accept=lambda p: False)
    with pytest.raises(FirthError, match="cannot write|No such file|Permission|Read-only"):
        with atomic_write("/proc/firth-test-output", "w") as f:
            f.write("x")


@pytest.mark.parametrize("err", [28, 13])  # ENOSPC, EACCES during the write
def test_write_errors_are_one_line_and_keep_the_old_output(tmp_path, err):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(FirthError, match=r"out.txt: cannot write \(.*\); nothing was changed") as info:
        with atomic_write(path, "w"):
            raise OSError(err, os.strerror(err))
    assert "\n" not in str(info.value)
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
    d = tmp_path / "m"
    _fill(d)
    with pytest.raises(FirthError, match="cannot write"):
        with atomic_dir(d, "classifier"):
            raise OSError(err, os.strerror(err))
    assert json.loads((d / "config.json").read_text()) == {"v": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m", "out.txt"]


def test_read_json_wants_an_object(tmp_path):
    p = tmp_path / "firth.json"
    p.write_text("[1, 2, 3]")
    with pytest.raises(FirthError, match="expected a JSON dict, found list"):
        read_json(p, "model")
    p.write_text("{")
    with pytest.raises(FirthError, match="not valid JSON"):
        read_json(p, "model")


def test_recover_restores_a_backup_left_by_a_kill(tmp_path):
    d = tmp_path / "m"
    _fill(d)
    os.replace(d, tmp_path / ".m.firth-old")  # killed between the two renames
    recover(d)
    assert json.loads((d / "config.json").read_text()) == {"v": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


_REPLACE = """
import sys
from firth.io import atomic_dir, atomic_write
with atomic_dir(sys.argv[1], "classifier") as tmp:
    (tmp / "config.json").write_text('{"v": %s}' % sys.argv[2])
with atomic_write(sys.argv[1] + ".txt", "w") as f:
    f.write(sys.argv[2])
"""


@pytest.mark.parametrize("exchange", [True, False])
def test_kill_at_every_rename_leaves_a_complete_output(tmp_path, exchange):
    """SIGKILL just before each rename of a replacement (FIRTH_FAULT hook): afterwards
    (after recover(), which every writer and loader runs) the path holds the complete
    old or the complete new output, never nothing."""
    d = tmp_path / "m"
    subprocess.run([sys.executable, "-c", _REPLACE, str(d), "1"], check=True)
    outcomes = set()
    for n in range(1, 6):
        env = dict(os.environ, FIRTH_FAULT=f"rename:{n}")
        if not exchange:
            env["FIRTH_NO_EXCHANGE"] = "1"
        r = subprocess.run([sys.executable, "-c", _REPLACE, str(d), str(n + 1)], env=env)
        recover(d)
        v = json.loads((d / "config.json").read_text())["v"]
        t = int((tmp_path / "m.txt").read_text())
        assert v in (1, n, n + 1) and t in (1, n, n + 1) and output_kind(d) == "classifier"
        outcomes.add((r.returncode == -9, v == n + 1))
        # whatever happened, the next run completes and leaves no backup
        subprocess.run([sys.executable, "-c", _REPLACE, str(d), "1"], check=True)
        assert not (tmp_path / ".m.firth-old").exists()
    # some runs were killed before the new output was in place, one got through
    assert (True, False) in outcomes and (False, True) in outcomes
