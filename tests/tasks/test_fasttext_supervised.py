"""fastText's supervised format (``__label__X text``) and one-vs-all multi-label training
(``--loss ova``) in the averaged classifier (issue 17)."""

from __future__ import annotations

import numpy as np
import pytest

from firth.cli import main
from firth.errors import FirthError
from firth.tasks.avg import AvgClassifier, AvgConfig, reference_ova_step
from firth.tasks.data import read_classification

TOPICS = {
    "sport": ["goal", "match", "team", "score", "coach"],
    "music": ["song", "band", "guitar", "album", "chorus"],
    "food": ["bread", "soup", "cheese", "recipe", "oven"],
    "tech": ["laptop", "code", "chip", "server", "app"],
}
FILLER = ["the", "a", "of", "and", "today", "new", "big", "was", "with", "on"]


def multilabel_lines(n, seed, p_two=0.4):
    """Texts about one or two topics; the labels are the topics (order shuffled)."""
    rng = np.random.RandomState(seed)
    names = sorted(TOPICS)
    lines = []
    for _ in range(n):
        k = 1 + int(rng.rand() < p_two)
        labs = list(rng.choice(names, k, replace=False))
        words = [str(w) for lab in labs for w in rng.choice(TOPICS[lab], 2)] + [str(w) for w in rng.choice(FILLER, 4)]
        rng.shuffle(words)
        lines.append(" ".join(f"__label__{lab}" for lab in labs) + " " + " ".join(words))
    return lines


def test_reader_detects_fasttext_format_and_strips_prefixes(tmp_path):
    p = tmp_path / "train.txt"
    p.write_text("__label__pos great film\n\n__label__a __label__b text  here __label__c\n__label__x __label__x y\n",
                 encoding="utf-8")
    ex = read_classification(p)
    assert [(e.label, e.labels, e.tokens, e.line) for e in ex] == [
        ("pos", ["pos"], ["great", "film"], 1),
        ("a", ["a", "b", "c"], ["text", "here"], 3),  # a label anywhere on the line, as fastText reads it
        ("x", ["x"], ["y"], 4),
    ]
    tsv = tmp_path / "t.tsv"
    tsv.write_text("pos\tgreat __label__film\n", encoding="utf-8")
    assert read_classification(tsv)[0].tokens == ["great", "__label__film"]  # label<TAB>text stays as it was


@pytest.mark.parametrize("content, expect", [
    ("__label__a words\nno label here\n", ":2: no __label__"),
    ("__label__a words\n__label__ words\n", ":2: empty label"),
    ("__label__a words\n__label__b\n", ":2: no text"),
])
def test_reader_errors_name_the_line(tmp_path, content, expect):
    p = tmp_path / "bad.txt"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(FirthError, match=expect):
        read_classification(p)


def test_unknown_label_at_test_time(tmp_path):
    p = tmp_path / "test.txt"
    p.write_text("__label__a x\n__label__a __label__zzz y\n", encoding="utf-8")
    with pytest.raises(FirthError, match=":2: unknown label 'zzz'"):
        read_classification(p, labels=["a", "b"])


def test_ova_kernel_matches_numpy_reference():
    from firth.tasks.kernels import train_epoch_ova

    rng = np.random.RandomState(1)
    W_in = rng.uniform(-0.3, 0.3, (12, 5)).astype(np.float32)
    W_out = rng.uniform(-0.3, 0.3, (4, 5)).astype(np.float32)
    ids = np.array([0, 3, 3, 7, 2, 11, 5, 1], dtype=np.int64)
    offs = np.array([0, 4, 7, 8], dtype=np.int64)
    ptr = np.array([0, 2, 3, 6], dtype=np.int64)  # example labels: {0, 3}, {1}, {0, 1, 2}
    lab = np.array([0, 3, 1, 0, 1, 2], dtype=np.int64)
    order = np.array([2, 0, 1], dtype=np.int64)
    A_in, A_out = W_in.copy(), W_out.copy()
    B_in, B_out = W_in.astype(np.float64), W_out.astype(np.float64)
    loss = train_epoch_ova(A_in, A_out, ids, offs, ptr, lab, order, 0.4, 0.4, 1)
    ref = sum(reference_ova_step(B_in, B_out, ids[offs[e]:offs[e + 1]], lab[ptr[e]:ptr[e + 1]], 0.4) for e in order)
    assert loss == pytest.approx(ref, abs=1e-5)
    np.testing.assert_allclose(A_in, B_in, atol=1e-6)
    np.testing.assert_allclose(A_out, B_out, atol=1e-6)


def test_ova_step_is_minus_lr_times_the_finite_difference_gradient():
    rng = np.random.RandomState(2)
    W_in, W_out = rng.normal(0, 0.5, (6, 4)), rng.normal(0, 0.5, (3, 4))
    rows, gold = np.array([1, 4, 4]), [0, 2]

    def loss(Wi, Wo):
        s = 1 / (1 + np.exp(-(Wo @ Wi[rows].mean(0))))
        t = np.array([1.0, 0.0, 1.0])
        return -np.sum(t * np.log(s) + (1 - t) * np.log(1 - s))

    lr = 1e-3
    A_in, A_out = W_in.copy(), W_out.copy()
    reference_ova_step(A_in, A_out, rows, gold, lr)
    eps = 1e-6
    for W, A, cells in ((W_out, A_out, [(0, 1), (1, 3), (2, 0)]), (W_in, A_in, [(1, 0), (4, 2), (0, 1)])):
        for idx in cells:
            Wp, Wm = W.copy(), W.copy()
            Wp[idx] += eps
            Wm[idx] -= eps
            if W is W_out:
                fd = (loss(W_in, Wp) - loss(W_in, Wm)) / (2 * eps)
            else:
                fd = (loss(Wp, W_out) - loss(Wm, W_out)) / (2 * eps)
            assert (A[idx] - W[idx]) == pytest.approx(-lr * fd, rel=1e-5, abs=1e-12)


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def ml_files(tmp_path):
    return _write(tmp_path / "train.txt", multilabel_lines(600, 0)), _write(tmp_path / "test.txt", multilabel_lines(300, 1))


def test_ova_learns_several_labels(ml_files):
    train, test = (read_classification(p) for p in ml_files)
    m = AvgClassifier(AvgConfig(loss="ova", dim=20, epochs=10, ngrams=1, threads=1, seed=0))
    m.fit([e.tokens for e in train], [e.labels for e in train], progress=False)
    assert m.labels.names == sorted(TOPICS)
    proba = m.predict_proba([e.tokens for e in test])
    assert ((proba > 0) & (proba < 1)).all() and proba.sum(1).max() > 1.5  # independent sigmoids
    picked = m.predict_labels([e.tokens for e in test])
    exact = np.mean([{m.labels.names[i] for i in p} == set(e.labels) for p, e in zip(picked, test)])
    assert exact > 0.9
    # one thread + seed: bit-identical
    m2 = AvgClassifier(AvgConfig(loss="ova", dim=20, epochs=10, ngrams=1, threads=1, seed=0))
    m2.fit([e.tokens for e in train], [e.labels for e in train], progress=False)
    np.testing.assert_array_equal(m.W_in, m2.W_in)


def test_cli_train_test_predict_fasttext_format(ml_files, tmp_path, capsys):
    train, test = ml_files
    model = tmp_path / "model"
    assert main(["classify", "train", str(train), "-o", str(model), "--loss", "ova", "--dim", "20", "--epochs", "10",
                 "--threads", "1", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["classify", "test", str(model), str(test)]) == 0
    out = capsys.readouterr().out
    p1 = float(out.split("P@1 ")[1].split()[0])
    f1 = float(out.split("micro-F1 ")[1].split()[0])
    assert p1 > 0.95 and f1 > 0.9
    texts = _write(tmp_path / "texts.txt", ["goal team song band the", "bread oven of"])
    assert main(["classify", "predict", str(model), str(texts)]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert sorted(rows[0][0::2]) == ["music", "sport"] and rows[1][0::2] == ["food"]
    # labels are stored without the prefix
    import json

    assert json.loads((model / "config.json").read_text())["labels"] == sorted(TOPICS)


def test_top_labels_is_fasttexts_k_and_threshold():
    from firth.tasks.classify import top_labels

    proba = np.array([[0.1, 0.6, 0.3], [0.2, 0.2, 0.6], [0.3, 0.3, 0.3]])
    assert top_labels(proba, 1) == [[1], [2], [0]]
    assert top_labels(proba, 2) == [[1, 2], [2, 0], [0, 1]]  # ties keep label order
    assert top_labels(proba, None, 0.25) == [[1, 2], [2], [0, 1, 2]]
    assert top_labels(proba, 3, 0.65) == [[], [], []]
    with pytest.raises(FirthError, match="k 0"):
        top_labels(proba, 0)


def test_cli_predict_k_and_threshold(ml_files, tmp_path, capsys):
    train, _ = ml_files
    model = tmp_path / "model"
    assert main(["classify", "train", str(train), "-o", str(model), "--loss", "ova", "--dim", "20", "--epochs", "10",
                 "--threads", "1", "--quiet"]) == 0
    texts = _write(tmp_path / "texts.txt", ["goal team song band the", "", "bread oven of"])
    capsys.readouterr()
    assert main(["classify", "predict", str(model), str(texts), "-k", "4"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.split("\n")[:-1]]
    assert [len(r) for r in rows] == [8, 1, 8] and rows[1] == [""]  # every label, the empty text kept aligned
    probs = [float(x) for x in rows[0][1::2]]
    assert probs == sorted(probs, reverse=True) and sorted(rows[0][0:4:2]) == ["music", "sport"]
    assert main(["classify", "predict", str(model), str(texts), "-k", "1", "--threshold", "0.5"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.split("\n")[:-1]]
    assert rows[0][0] in ("music", "sport") and len(rows[0]) == 2 and rows[2][0] == "food"
    above = f"{min(probs[0] + 1e-3, 1.0):.6f}"  # above row 0's best label: nothing printed for it
    assert main(["classify", "predict", str(model), str(texts), "--threshold", above]) == 0
    assert capsys.readouterr().out.split("\n")[0] == ""
    assert main(["classify", "predict", str(model), str(texts), "--threshold", "2"]) != 0
    assert "--threshold 2" in capsys.readouterr().err


def test_softmax_refuses_multilabel_lines(ml_files, tmp_path, capsys):
    train, _ = ml_files
    assert main(["classify", "train", str(train), "-o", str(tmp_path / "m"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "--loss ova" in err and len(err.strip().splitlines()) == 1
    assert main(["classify", "train", str(train), "-o", str(tmp_path / "m"), "--arch", "bilstm", "--loss", "ova"]) == 1
    assert "--arch avg" in capsys.readouterr().err


def test_single_label_fasttext_file_trains_softmax(tmp_path, capsys):
    train = _write(tmp_path / "train.txt", multilabel_lines(400, 3, p_two=0.0))
    model = tmp_path / "m"
    assert main(["classify", "train", str(train), "-o", str(model), "--dim", "20", "--epochs", "5", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["classify", "test", str(model), str(train)]) == 0
    assert float(capsys.readouterr().out.split("accuracy ")[1].split()[0]) > 0.95


@pytest.mark.slow
def test_fasttext_format_trec_close_to_facebook_fasttext(tmp_path):
    """TREC written in fastText's format: firth reads it and, with fastText's settings, is as
    accurate as fastText's own softmax classifier on it. (fasttext-numpy2's ``-loss ova``
    stops with "Encountered NaN" on every run here, on TREC and on the file above, so the
    one-vs-all loss is checked against its NumPy oracle and finite differences instead.)"""
    pytest.importorskip("fasttext")
    from tests.conftest import shared_path

    files = {}
    for name in ("train", "test"):
        lines = shared_path("tasks", "classify", "trec", f"{name}.tsv").read_text(encoding="utf-8").splitlines()
        files[name] = _write(tmp_path / f"{name}.txt", ["__label__" + line.replace("\t", " ", 1) for line in lines])
    ft_acc = _facebook_supervised_accuracy(files["train"], files["test"], dim=20, epoch=10, lr=0.5, thread=1,
                                           wordNgrams=1)
    train, test = (read_classification(files[n]) for n in ("train", "test"))
    assert train[0].label == "DESC" and not any(e.label.startswith("__label__") for e in train)
    m = AvgClassifier(AvgConfig(dim=20, epochs=10, lr=0.5, ngrams=1, threads=1, seed=0))
    m.fit([e.tokens for e in train], [e.label for e in train], progress=False)
    acc = float(np.mean(m.predict([e.tokens for e in test]) == m.labels.encode([e.label for e in test])))
    assert ft_acc > 0.8 and abs(acc - ft_acc) < 0.03, (acc, ft_acc)


def _facebook_supervised_accuracy(train, test, **options) -> float:
    """fastText's P@1 on ``test``, trained in a fresh interpreter: in a process that has
    imported other native libraries (torch, or even firth.tasks.data in this venv),
    fasttext-numpy2's supervised training stops with "Encountered NaN" on every run
    (measured: 4 of 4 runs fail after ``import torch``, 4 of 4 succeed in a clean process)."""
    import json
    import subprocess
    import sys

    code = ("import fasttext, json, sys; a = json.loads(sys.argv[3]); "
            "m = fasttext.train_supervised(sys.argv[1], verbose=0, **a); print(m.test(sys.argv[2], k=1)[1])")
    out = subprocess.run([sys.executable, "-c", code, str(train), str(test), json.dumps(options)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return float(out.stdout.split()[-1])
