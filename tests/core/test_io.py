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
    assert sorted(p.name for p in target.iterdir()) == ["a.json"]
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
