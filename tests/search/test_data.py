import pytest

from firth.errors import FirthError
from firth.search.data import read_docs, read_qrels, read_queries


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_docs_join_fields_and_skip_blank_lines(tmp_path):
    p = write(tmp_path, "d.jsonl", '{"id": 1, "title": "T", "text": "body"}\n\n{"id": "2", "text": "only"}\n')
    assert list(read_docs(p)) == [("1", "T body", "T"), ("2", "only", "")]
    assert list(read_docs(p, ("text",))) == [("1", "body", "T"), ("2", "only", "")]


@pytest.mark.parametrize("line,msg", [
    ('{"id": "1", "text": "x"', "malformed JSON"),
    ('["id", "text"]', "expected a JSON object"),
    ('{"text": "x"}', "missing field 'id'"),
    ('{"id": "1", "text": 5}', "no text field"),
    ('{"id": "a", "text": "x"}', "duplicate id 'a'"),
])
def test_bad_jsonl_names_the_line(tmp_path, line, msg):
    p = write(tmp_path, "d.jsonl", '{"id": "a", "text": "fine"}\n' + line + "\n")
    with pytest.raises(FirthError, match=msg) as e:
        list(read_docs(p))
    assert "d.jsonl:2:" in str(e.value) and "\n" not in str(e.value)


def test_queries_and_qrels(tmp_path):
    q = write(tmp_path, "q.jsonl", '{"id": "1", "text": "a b"}\n{"id": "2", "text": "c"}\n')
    assert read_queries(q) == {"1": "a b", "2": "c"}
    r = write(tmp_path, "r.tsv", "1\td1\t2\n1 0 d2 -1\n\n2\td1\t0\n")  # TREC 4-column too
    assert read_qrels(r, {"d1", "d2"}, {"1", "2"}) == {"1": {"d1": 2, "d2": -1}, "2": {"d1": 0}}
    with pytest.raises(FirthError, match=r"r.tsv:1: document 'd1' is not in the index"):
        read_qrels(r, {"d2"})
    with pytest.raises(FirthError, match=r"r.tsv:4: query '2' is not in the queries file"):
        read_qrels(r, None, {"1"})
    bad = write(tmp_path, "b.tsv", "1\td1\thigh\n")
    with pytest.raises(FirthError, match=r"b.tsv:1: relevance 'high'"):
        read_qrels(bad)
    with pytest.raises(FirthError, match="no relevance judgements"):
        read_qrels(write(tmp_path, "e.tsv", "\n"))
