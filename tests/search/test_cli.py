import json
import re

import pytest

from firth.cli import main

DOCS = [
    {"id": "1", "title": "boundary layer transition", "text": "transition of the laminar boundary layer to turbulence on a flat plate"},
    {"id": "2", "title": "wing lift", "text": "lift of a swept wing at high speed"},
    {"id": "3", "title": "heat transfer", "text": "heat transfer in a laminar boundary layer with suction"},
    {"id": "4", "title": "buckling", "text": "buckling of thin cylindrical shells under pressure"},
    {"id": "5", "title": "turbulence", "text": "turbulent flow over a flat plate and turbulence models"},
]
QUERIES = [{"id": "q1", "text": "laminar boundary layer"}, {"id": "q2", "text": "wing lift at speed"},
           {"id": "q3", "text": "shell buckling"}, {"id": "q4", "text": "turbulence over plates"},
           {"id": "q5", "text": "heat transfer with suction"}]
QRELS = "q1\t1\t1\nq1\t3\t2\nq2\t2\t1\nq3\t4\t1\nq3\t5\t-1\nq4\t5\t1\nq4\t1\t2\nq5\t3\t1\n"
# vectors over analysed terms (what `firth search corpus` text trains)
VECS = {"laminar": [1, 0, 0], "boundari": [1, 0.1, 0], "layer": [1, 0.2, 0], "turbul": [0.9, 0.1, 0.1],
        "transit": [0.8, 0.3, 0], "wing": [0, 1, 0], "lift": [0, 1, 0.1], "buckl": [0, 0, 1], "shell": [0.1, 0, 1]}


@pytest.fixture
def coll(tmp_path):
    (tmp_path / "docs.jsonl").write_text("".join(json.dumps(d) + "\n" for d in DOCS))
    (tmp_path / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUERIES))
    (tmp_path / "qrels.tsv").write_text(QRELS)
    lines = [f"{len(VECS)} 3"] + [w + " " + " ".join(map(str, v)) for w, v in VECS.items()]
    (tmp_path / "vecs.txt").write_text("\n".join(lines) + "\n")
    assert main(["search", "index", str(tmp_path / "docs.jsonl"), "-o", str(tmp_path / "idx")]) == 0
    return tmp_path


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_query_shows_ranked_documents(coll, capsys):
    rc, out, _ = run(capsys, "search", "query", coll / "idx", "laminar boundary layers", "--topk", "2")
    assert rc == 0
    lines = out.splitlines()
    assert lines[0] == "query terms: laminar boundari layer"
    assert re.match(r"\s+1\s+[\d.]+\s+[13]\s", lines[1]) and len(lines) == 3


def test_query_with_expansion_lists_added_terms(coll, capsys):
    rc, out, _ = run(capsys, "search", "query", coll / "idx", "laminar", "--expand", coll / "vecs.txt",
                     "--terms", "2", "--weight", "0.5", "--min-df", "1")
    assert rc == 0
    assert out.splitlines()[1].startswith("expansion: boundari 0.2")


def test_evaluate_first_line_is_map(coll, capsys):
    rc, out, _ = run(capsys, "search", "evaluate", coll / "idx", coll / "queries.jsonl", coll / "qrels.tsv")
    assert rc == 0
    first = out.splitlines()[0]
    assert re.fullmatch(r"MAP \d\.\d{4}", first)
    assert "when every judged line counts as relevant, codes >= -1" in out
    rc, out, _ = run(capsys, "search", "evaluate", coll / "idx", coll / "queries.jsonl", coll / "qrels.tsv",
                     "--expand", coll / "vecs.txt", "--min-df", "1", "--rm3", "--fb-docs", "2", "--permutations", "200")
    assert rc == 0
    assert re.fullmatch(r"MAP \d\.\d{4}", out.splitlines()[0])
    assert "randomisation test p =" in out and "paired t-test" in out and "per query:" in out


def test_evaluate_tune_cross_validates(coll, capsys):
    rc, out, _ = run(capsys, "search", "evaluate", coll / "idx", coll / "queries.jsonl", coll / "qrels.tsv",
                     "--expand", coll / "vecs.txt", "--min-df", "1", "--tune", "--permutations", "100")
    assert rc == 0
    lines = out.splitlines()
    assert re.fullmatch(r"MAP \d\.\d{4}", lines[0])
    assert "5-fold cross-validated" in lines[1]
    assert any(l.startswith("run chosen per fold: ") and l.count("|") == 4 for l in lines)


def test_corpus_and_expand(coll, capsys):
    rc, out, _ = run(capsys, "search", "corpus", coll / "idx", "-o", coll / "coll.txt")
    assert rc == 0
    text = (coll / "coll.txt").read_text().splitlines()
    assert text[0] == "boundari layer transit transit laminar boundari layer turbul flat plate"
    rc, out, _ = run(capsys, "expand", coll / "vecs.txt", "laminar boundary", "--terms", "2")
    assert rc == 0
    assert out.splitlines()[0] == "query terms: laminar boundari"
    assert [l.split()[1] for l in out.splitlines()[1:]] == ["turbul", "layer"]  # cos .992, .989


def one_line_error(capsys, *argv):
    rc, out, err = run(capsys, *argv)
    assert rc == 1
    assert err.count("\n") == 1 and err.startswith("firth: error: ")
    return err


def test_bad_input_errors(coll, capsys):
    bad = coll / "bad.jsonl"
    bad.write_text(json.dumps(DOCS[0]) + "\n" + '{"id": "2", "text": "oops"\n')
    err = one_line_error(capsys, "search", "index", bad, "-o", coll / "idx2")
    assert "bad.jsonl:2" in err and "malformed JSON" in err
    assert not (coll / "idx2").exists()

    (coll / "qrels2.tsv").write_text("q1\t1\t1\nq1\t99\t1\n")
    err = one_line_error(capsys, "search", "evaluate", coll / "idx", coll / "queries.jsonl", coll / "qrels2.tsv")
    assert "qrels2.tsv:2" in err and "'99'" in err

    err = one_line_error(capsys, "search", "query", coll / "idx", "  ")
    assert "no search terms" in err
    err = one_line_error(capsys, "search", "query", coll / "idx", "the of and")
    assert "no search terms" in err

    (coll / "q_empty.jsonl").write_text('{"id": "e", "text": "what is the"}\n')
    (coll / "qrels3.tsv").write_text("e\t1\t1\n")
    err = one_line_error(capsys, "search", "evaluate", coll / "idx", coll / "q_empty.jsonl", coll / "qrels3.tsv")
    assert "'e'" in err and "no search terms" in err

    err = one_line_error(capsys, "search", "query", coll / "idx", "wing", "--b", "2")
    assert "--b" in err
    err = one_line_error(capsys, "search", "query", coll / "nothing", "wing")
    assert "not an index directory" in err
