"""``firth plot map`` and ``firth explore`` from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from firth.cli import main


def test_plot_map_png_and_svg(model_files, tmp_path, capsys):
    out = tmp_path / "map.png"
    assert main(["plot", "map", str(model_files[0]), "king", "queen", "man", "nosuchword", "-o", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "map of 3 words" in capsys.readouterr().out
    svg = tmp_path / "map.svg"
    assert main(["plot", "map", str(model_files[0]), "king", "--neighbours", "10", "--svg", "-o", str(svg),
                 "--method", "tsne"]) == 0
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert main(["plot", "map", str(model_files[0]), "king", "queen", "-o", str(out)]) == 0  # a picture: replaced


def test_plot_map_refuses_to_overwrite_other_files(model_files, tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    assert main(["plot", "map", str(model_files[0]), "king", "queen", "-o", str(notes)]) == 1
    assert notes.read_text() == "mine"
    assert "does not overwrite" in capsys.readouterr().err
    assert main(["plot", "map", str(model_files[0]), "nosuch", "words", "-o", str(tmp_path / "m.png")]) == 1
    assert "fewer than two" in capsys.readouterr().err
    assert main(["plot", "map", str(model_files[0]), "king", "queen", "-o", str(model_files[0])]) == 1
    assert "also an input" in capsys.readouterr().err


def test_explore_starts_serves_and_warns_on_other_hosts(model_files):
    pytest.importorskip("uvicorn", reason="the explore extra is not installed: pip install 'firth[explore]'")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    for host, warned in (("127.0.0.1", False), ("0.0.0.0", True)):
        p = subprocess.Popen([sys.executable, "-m", "firth.cli", "explore", str(model_files[0]), "--port", "0",
                              "--no-browser", "--host", host],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            line = p.stdout.readline()
            assert " at http://" in line, (line, p.stderr.read() if p.poll() is not None else "")
            url = line.split(" at ")[1].split()[0]
            port = url.rsplit(":", 1)[1].strip("/")
            deadline = time.time() + 20
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/info", timeout=5) as r:
                        info = json.loads(r.read())
                    break
                except OSError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.1)
            assert info["models"][0]["name"] == "a.firth"
        finally:
            p.terminate()
            _, err = p.communicate(timeout=20)
        assert ("warning: --host 0.0.0.0" in err) == warned


def test_explore_errors(model_files, tmp_path, capsys):
    assert main(["explore", str(model_files[0]), str(model_files[1]), str(model_files[0]), "--no-browser"]) == 1
    assert "give one or two" in capsys.readouterr().err
    assert main(["explore", str(tmp_path / "none.firth"), "--no-browser"]) == 1
    assert "no such file" in capsys.readouterr().err
