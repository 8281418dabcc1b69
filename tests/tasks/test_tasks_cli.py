"""`firth classify` / `firth tag`: happy paths and one-line errors."""

import subprocess
import sys

import pytest

from firth.cli import main


def run(argv, capsys):
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture
def cls_files(tmp_path):
    lines = []
    for i in range(60):
        lab = ["neg", "pos"][i % 2]
        lines.append(f"{lab}\tthe film was {'good' if lab == 'pos' else 'bad'} {'indeed' if i % 3 else 'really'}")
    (tmp_path / "train.tsv").write_text("\n".join(lines) + "\n")
    (tmp_path / "test.tsv").write_text("pos\ta good film\nneg\ta bad film\n")
    return tmp_path


def test_classify_train_test_predict(cls_files, capsys, monkeypatch):
    d = cls_files
    rc, _, err = run(["classify", "train", str(d / "train.tsv"), "-o", str(d / "m"), "--quiet", "--epochs", "10"], capsys)
    assert rc == 0 and "10% of train held out" in err
    rc, out, _ = run(["classify", "test", str(d / "m"), str(d / "test.tsv")], capsys)
    assert rc == 0
    lines = out.splitlines()
    assert lines[0] == "accuracy 1.0000" and lines[1] == "macro-F1 1.0000"
    assert "confusion matrix (rows: gold, columns: predicted)" in out
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("good film\n\nbad film\n"))
    rc, out, _ = run(["classify", "predict", str(d / "m")], capsys)
    lab = [line.split("\t")[0] for line in out.splitlines()]
    assert lab == ["pos", "", "neg"]
    assert 0.5 < float(out.splitlines()[0].split("\t")[1]) <= 1.0


@pytest.mark.parametrize(
    "content, expect",
    [("pos\tok\nno tab\n", "bad.tsv:2: no tab"), ("pos\tok\nneg\t \n", "bad.tsv:2: empty text")],
)
def test_classify_train_bad_input_one_line(cls_files, capsys, content, expect):
    (cls_files / "bad.tsv").write_text(content)
    rc, out, err = run(["classify", "train", str(cls_files / "bad.tsv"), "-o", str(cls_files / "m"), "--quiet"], capsys)
    assert rc == 1 and expect in err and err.count("\n") == 1 and err.startswith("firth: error:")
    assert not (cls_files / "m").exists()


def test_classify_test_unknown_label(cls_files, capsys):
    d = cls_files
    assert run(["classify", "train", str(d / "train.tsv"), "-o", str(d / "m"), "--quiet", "--epochs", "2"], capsys)[0] == 0
    (d / "t2.tsv").write_text("pos\tgood\nmeh\tso so\n")
    rc, _, err = run(["classify", "test", str(d / "m"), str(d / "t2.tsv")], capsys)
    assert rc == 1 and "t2.tsv:2: unknown label 'meh'" in err and err.count("\n") == 1


def test_model_dir_errors(tmp_path, capsys):
    rc, _, err = run(["classify", "test", str(tmp_path / "none"), str(tmp_path / "x.tsv")], capsys)
    assert rc == 1 and "not a model directory" in err


def test_tag_train_test_predict_and_column_errors(tmp_path, capsys, monkeypatch):
    sent = "The DT B-NP\ndog NN I-NP\nbarks VBZ B-VP\n\n"
    (tmp_path / "tr.conll").write_text("-DOCSTART- -X- O\n\n" + sent * 12)
    rc, _, err = run(["tag", "train", str(tmp_path / "tr.conll"), "-o", str(tmp_path / "t"), "--quiet",
                      "--epochs", "25", "--lr", "0.02", "--patience", "0"], capsys)
    assert rc == 0, err
    rc, out, _ = run(["tag", "test", str(tmp_path / "t"), str(tmp_path / "tr.conll")], capsys)
    assert rc == 0 and out.splitlines()[0] == "accuracy 1.0000" and "f1 1.0000" in out
    rc, out, err = run(["tag", "test", str(tmp_path / "t"), str(tmp_path / "tr.conll"), "--column", "1"], capsys)
    assert rc == 1 and "tr.conll:3: unknown tag 'DT'" in err  # the POS column: no tag the model knows
    (tmp_path / "te.conll").write_text(sent + "The DT B-NP\ndog NN I-NP\nbarks VBZ B-XP\n\n")
    rc, out, err = run(["tag", "test", str(tmp_path / "t"), str(tmp_path / "te.conll")], capsys)
    assert rc == 0 and "accuracy 0.8333" in out and "1 tokens have gold tags the model never saw" in err
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("The dog barks\n"))
    rc, out, _ = run(["tag", "predict", str(tmp_path / "t")], capsys)
    assert out.strip() == "The/B-NP dog/I-NP barks/B-VP"
    (tmp_path / "bad.conll").write_text("The DT B-NP\ndog I-NP\n\n")
    rc, _, err = run(["tag", "train", str(tmp_path / "bad.conll"), "-o", str(tmp_path / "t2"), "--quiet"], capsys)
    assert rc == 1 and "bad.conll:2: 2 columns, but line 1 has 3" in err and err.count("\n") == 1


def test_cli_module_imports_nothing_heavy():
    code = "import sys, firth.cli; firth.cli.build_parser(); print('torch' in sys.modules, 'numba' in sys.modules)"
    code = "import sys, firth.tasks.cli; print('torch' in sys.modules, 'numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"
