"""Bad --sync-* values stop a distributed run with one line naming the option (issue 13's rule)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from firth.errors import FirthError


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


def test_defaults_depend_on_the_number_of_ranks():
    """1-2 ranks: the sum every 100,000 words (all ranks), overlapped with training, rare rows about
    once per 64 expected occurrences, bfloat16 on the wire (without overlap: every touched row,
    float32); from 3 ranks: hot rows averaged every 6,250 words, rare rows about once per 16
    expected occurrences, for fastText every row expected 1.5 times per interval counted hot
    (benchmarks/RESULTS.md)."""
    from firth.train.distributed import _sync_options

    assert _sync_options(1, None, None, None, 16.0, 2.0) == (100_000, "sum", 64.0, True, "bfloat16", 16.0)
    assert _sync_options(2, None, None, None, 16.0, 2.0) == (50_000, "sum", 64.0, True, "bfloat16", 16.0)
    assert _sync_options(2, None, None, None, 16.0, 2.0, False) == (50_000, "sum", 0.0, False, "float32", 16.0)
    assert _sync_options(2, None, "hot", None, 16.0, 2.0) == (50_000, "hot", 0.0, False, "float32", 16.0)
    assert _sync_options(4, None, None, None, 16.0, 2.0) == (1_562, "hot", 16.0, False, "float32", 16.0)
    assert _sync_options(8, None, None, None, 16.0, 2.0) == (781, "hot", 16.0, False, "float32", 16.0)
    assert _sync_options(8, None, "sum", None, 16.0, 2.0, True) == (781, "sum", 16.0, True, "bfloat16", 16.0)
    # what the user gives wins over the defaults
    assert _sync_options(8, 5_000, "sum", 0.0, 16.0, 2.0) == (5_000, "sum", 0.0, False, "float32", 16.0)
    assert _sync_options(2, None, None, 4.0, 16.0, 2.0, True, "float32") == (50_000, "sum", 4.0, True, "float32", 16.0)
    # fastText at 2 ranks: hot rows averaged, blocking, every touched row (the sum lost quality)
    assert _sync_options(2, None, None, None, 16.0, 2.0, subwords=True) == (50_000, "hot", 0.0, False, "float32", 16.0)
    assert _sync_options(2, None, "sum", None, 16.0, 2.0, subwords=True) == (50_000, "sum", 64.0, True, "bfloat16", 16.0)
    assert _sync_options(4, None, None, None, 16.0, 2.0, subwords=True) == (1_562, "hot", 16.0, False, "float32", 16.0)
    # --sync-hot not given: 16, and 1 for fastText from 3 ranks (its n-gram rows overshoot summed)
    assert _sync_options(8, None, None, None, None, 2.0)[5] == 16.0
    assert _sync_options(2, None, None, None, None, 2.0, subwords=True)[5] == 16.0
    assert _sync_options(4, None, None, None, None, 2.0, subwords=True)[5] == 1.5
    assert _sync_options(8, None, None, None, None, 2.0, subwords=True) == (781, "hot", 16.0, False, "float32", 1.5)
    assert _sync_options(2, None, "hot", None, 16.0, 2.0, True) == (50_000, "hot", 64.0, True, "bfloat16", 16.0)
    with pytest.raises(FirthError, match="--sync-overlap: sums the updates or averages the hot rows"):
        _sync_options(2, None, "touched", None, 16.0, 2.0, True)


def test_ngram_rows_are_scheduled_by_the_counts_of_the_words_that_hold_them():
    """The overlapped sync has no flags: fastText's n-gram rows get expected occurrences (the
    summed counts of the words containing each n-gram) so that rare n-grams are not sent at
    every sync."""
    from types import SimpleNamespace

    from firth.train.distributed import _row_counts

    off = np.array([0, 3, 5, 6])  # word 0: rows 0, 3, 4; word 1: rows 1, 4; word 2: row 2
    sub = np.array([0, 3, 4, 1, 4, 2])
    ft = SimpleNamespace(vocab=SimpleNamespace(counts=np.array([50, 20, 7])), _subword_tables=lambda: (off, sub, None))
    assert _row_counts(ft, 6).tolist() == [50, 20, 7, 50, 70, 0]  # row 5: no word holds it
    w2v = SimpleNamespace(vocab=SimpleNamespace(counts=np.array([50, 20, 7])))
    assert _row_counts(w2v, 3).tolist() == [50, 20, 7]
