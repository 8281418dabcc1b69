"""Bad --sync-* values stop a distributed run with one line naming the option (issue 13's rule)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("opt, value", [("--sync-hot", "-5"), ("--sync-hot", "nan"), ("--sync-rare", "-1"),
                                        ("--sync-words", "0"), ("--sync-mode", "average"), ("--sync-bound", "0"),
                                        ("--sync-bound", "inf")])
def test_bad_sync_option_is_one_line(tmp_path, opt, value):
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c d e f a b c\n" * 50)
    env = dict(os.environ, RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1", MASTER_PORT="29613")
    r = subprocess.run([sys.executable, "-m", "firth", "train", str(corpus), "-o", str(tmp_path / "v.bin"),
                        "--min-count", "1", "--distributed", opt, value],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"firth: error: {opt}:"), r.stderr
    assert not (tmp_path / "v.bin").exists()
