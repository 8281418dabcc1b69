"""`firth classify` and `firth tag` accept the xLSTM cells (--cell slstm|mlstm) end to end."""

import json

import pytest

from firth.cli import main


@pytest.mark.parametrize("cell", ["slstm", "mlstm"])
def test_classify_and_tag_with_xlstm_cell(tmp_path, capsys, cell):
    lines = [f"{['neg', 'pos'][i % 2]}\tthe film was {['bad', 'good'][i % 2]} indeed" for i in range(40)]
    (tmp_path / "train.tsv").write_text("\n".join(lines) + "\n")
    m = tmp_path / "cls"
    assert main(["classify", "train", str(tmp_path / "train.tsv"), "-o", str(m), "--arch", "bilstm",
                 "--dev", str(tmp_path / "train.tsv"),
                 "--cell", cell, "--quiet", "--epochs", "10", "--dim", "16", "--threads", "1", "--lr", "0.01"]) == 0
    assert json.loads((m / "net" / "config.json").read_text())["config"]["rnn"]["cell"] == cell
    capsys.readouterr()
    assert main(["classify", "test", str(m), str(tmp_path / "train.tsv")]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "accuracy 1.0000"

    sents = ["the/D cat/N sat/V", "a/D dog/N ran/V", "the/D dog/N sat/V"] * 6
    conll = "\n\n".join("\n".join(t.replace("/", "\t") for t in s.split()) for s in sents) + "\n"
    (tmp_path / "train.conll").write_text(conll)
    t = tmp_path / "tag"
    assert main(["tag", "train", str(tmp_path / "train.conll"), "-o", str(t), "--cell", cell, "--quiet",
                 "--epochs", "15", "--dim", "16", "--no-chars", "--threads", "1", "--lr", "0.01"]) == 0
    capsys.readouterr()
    assert main(["tag", "test", str(t), str(tmp_path / "train.conll")]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "accuracy 1.0000"
