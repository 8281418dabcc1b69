"""Progress output: tqdm frames on a terminal, plain lines when standard error is a file
(issue 17)."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from firth.progress import LineProgress, progress
from tests.conftest import shared_path


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    bar = progress(total=200, desc="train", unit="w", file=out, leave=False, unit_scale=True)
    assert isinstance(bar, LineProgress)
    bar.interval = 0.0  # a line at every update
    for _ in range(4):
        bar.update(50)
        bar.set_postfix(loss="1.2345", refresh=False)
    bar.close()
    bar.close()  # closing twice prints nothing more
    text = out.getvalue()
    lines = text.splitlines()
    assert "\r" not in text and text.endswith("\n")
    assert len(lines) == 4  # the last update's line is not repeated by close()
    assert lines[0].startswith("train: 50/200 w (25%)") and lines[-1].startswith("train: 200/200 w (100%)")
    assert lines[1].endswith("loss=1.2345")


def test_interval_limits_the_lines():
    out = io.StringIO()
    bar = LineProgress(total=10_000, desc="x", file=out, interval=3600)
    for _ in range(10_000):
        bar.update(1)
    bar.close()
    assert out.getvalue().count("\n") == 1  # only the closing line


def test_tqdm_on_a_terminal():
    out = _Tty()
    bar = progress(total=3, desc="t", file=out, leave=False)
    assert not isinstance(bar, LineProgress)
    bar.update(3)
    bar.close()
    assert "\r" in out.getvalue()


def _run(args, tmp_path, env_extra):
    env = dict(os.environ, **env_extra)
    err_path = tmp_path / "stderr.log"
    with open(err_path, "wb") as err:
        code = "import sys; from firth.cli import main; sys.exit(main(sys.argv[1:]))"
        proc = subprocess.run([sys.executable, "-c", code, *args], stderr=err, stdout=subprocess.DEVNULL, env=env,
                              cwd=tmp_path, timeout=300)
    return proc.returncode, err_path.read_bytes().decode("utf-8")


def test_firth_train_logs_plain_lines_to_a_file(tmp_path):
    corpus = shared_path("corpora", "small", "en-100k.txt")
    rc, err = _run(["train", str(corpus), "-o", str(tmp_path / "v.firth"), "--dim", "10", "--epochs", "2",
                    "--workers", "1", "--min-count", "5"], tmp_path, {"FIRTH_PROGRESS_INTERVAL": "0.05"})
    assert rc == 0, err
    assert "\r" not in err
    lines = [line for line in err.splitlines() if line.startswith("train: ")]
    assert lines and all("w/s" in line for line in lines)
    assert lines[-1].split()[1].split("/")[0] == lines[-1].split()[1].split("/")[1]  # finished: n == total


def test_firth_classify_logs_plain_lines_to_a_file(tmp_path):
    train = tmp_path / "train.tsv"
    train.write_text("".join(f"{'pos' if i % 2 else 'neg'}\t{'good' if i % 2 else 'bad'} film {i}\n" for i in range(60)),
                     encoding="utf-8")
    rc, err = _run(["classify", "train", str(train), "-o", str(tmp_path / "m"), "--epochs", "3", "--dim", "8"],
                   tmp_path, {"FIRTH_PROGRESS_INTERVAL": "0"})
    assert rc == 0, err
    assert "\r" not in err
    assert sum(line.startswith("avg classifier: ") for line in err.splitlines()) >= 3  # one per epoch at interval 0


@pytest.mark.parametrize("value", ["-1", "soon"])
def test_bad_interval_falls_back_to_the_default(monkeypatch, value):
    monkeypatch.setenv("FIRTH_PROGRESS_INTERVAL", value)
    assert LineProgress(total=1, file=io.StringIO()).interval == 10.0
