"""Readers: formats, -DOCSTART-, column choice, and one-line errors naming file and line."""

import pytest

from firth.errors import FirthError
from firth.tasks.data import holdout_split, read_classification, read_conll


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_classification_reads_labels_and_tokens(tmp_path):
    p = write(tmp_path, "a.tsv", "pos\ta  good film\nneg\tbad .\n\n")
    ex = read_classification(p)
    assert [(e.label, e.tokens) for e in ex] == [("pos", ["a", "good", "film"]), ("neg", ["bad", "."])]


@pytest.mark.parametrize(
    "text, where, what",
    [
        ("pos\tok\nno tab here\n", ":2:", "no tab"),
        ("pos\tok\nneg\t   \n", ":2:", "empty text"),
        ("\tsome text\n", ":1:", "empty label"),
    ],
)
def test_classification_errors_name_file_and_line(tmp_path, text, where, what):
    p = write(tmp_path, "bad.tsv", text)
    with pytest.raises(FirthError) as e:
        read_classification(p)
    msg = str(e.value)
    assert str(p) + where in msg and what in msg and "\n" not in msg


def test_unknown_label_at_test_time(tmp_path):
    p = write(tmp_path, "t.tsv", "pos\tfine\nmaybe\twhat\n")
    with pytest.raises(FirthError, match=r"t\.tsv:2: unknown label 'maybe'"):
        read_classification(p, labels=["neg", "pos"])


def test_missing_file_is_a_firth_error(tmp_path):
    with pytest.raises(FirthError, match="no such file"):
        read_classification(tmp_path / "nope.tsv")


def test_conll_sentences_docstart_and_columns(tmp_path):
    p = write(tmp_path, "c.conll", "-DOCSTART- -X- O\n\nHe PRP B-NP\nran VBD B-VP\n\n\nIt PRP B-NP\n")
    s = read_conll(p)
    assert [x.tokens for x in s] == [["He", "ran"], ["It"]]
    assert [x.tags for x in s] == [["B-NP", "B-VP"], ["B-NP"]]
    s1 = read_conll(p, column=1)
    assert [x.tags for x in s1] == [["PRP", "VBD"], ["PRP"]]


def test_conll_tab_separated(tmp_path):
    p = write(tmp_path, "p.txt", "The\tDT\ndog\tNN\n\n")
    s = read_conll(p)
    assert s[0].tokens == ["The", "dog"] and s[0].tags == ["DT", "NN"]


def test_conll_inconsistent_columns_names_line(tmp_path):
    p = write(tmp_path, "c.conll", "He PRP B-NP\nran VBD B-VP\n\nIt B-NP\n")
    with pytest.raises(FirthError) as e:
        read_conll(p)
    msg = str(e.value)
    assert f"{p}:4:" in msg and "2 columns" in msg and "line 1 has 3" in msg


def test_conll_bad_column_and_unknown_tag(tmp_path):
    p = write(tmp_path, "c.conll", "He PRP B-NP\n\n")
    with pytest.raises(FirthError, match="--column 0"):
        read_conll(p, column=0)
    with pytest.raises(FirthError, match="--column 5"):
        read_conll(p, column=5)
    with pytest.raises(FirthError, match=r"c\.conll:1: unknown tag 'B-NP'"):
        read_conll(p, tags=["O"])
    q = write(tmp_path, "one.conll", "He\nran\n")
    with pytest.raises(FirthError, match="one column"):
        read_conll(q)


def test_holdout_split_is_seeded_and_disjoint():
    a_tr, a_dv = holdout_split(100, 0.1, seed=3)
    b_tr, b_dv = holdout_split(100, 0.1, seed=3)
    assert (a_tr == b_tr).all() and (a_dv == b_dv).all()
    assert len(a_dv) == 10 and len(a_tr) == 90 and not set(a_tr) & set(a_dv)
    assert set(holdout_split(100, 0.1, seed=4)[1]) != set(a_dv)
