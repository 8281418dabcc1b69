"""Reading test collections: documents and queries (JSONL) and relevance judgements (TSV).

Every problem is a one-line FirthError naming the file and line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from firth.errors import FirthError
from firth.io import open_text


def read_jsonl(path, required=("id",), text_fields=("title", "text")) -> Iterator[tuple[str, str, dict]]:
    """Yield (id, text, record) per line; text joins the present text_fields with " "."""
    seen = set()
    with open_text(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise FirthError(f"{path}:{n}: malformed JSON ({e.msg} at column {e.colno}); expected one object per line") from None
            if not isinstance(rec, dict):
                raise FirthError(f"{path}:{n}: expected a JSON object like {{\"id\": ..., \"text\": ...}}")
            for key in required:
                if key not in rec:
                    raise FirthError(f"{path}:{n}: missing field {key!r}")
            if not any(isinstance(rec.get(k), str) for k in text_fields):
                raise FirthError(f"{path}:{n}: no text field (one of {', '.join(text_fields)}) holding a string")
            rid = str(rec["id"])
            if rid in seen:
                raise FirthError(f"{path}:{n}: duplicate id {rid!r}")
            seen.add(rid)
            text = " ".join(rec[k] for k in text_fields if isinstance(rec.get(k), str))
            yield rid, text, rec


def read_docs(path, fields=("title", "text")):
    """(id, text, title) per document."""
    for rid, text, rec in read_jsonl(path, text_fields=fields):
        title = rec.get("title") if isinstance(rec.get("title"), str) else ""
        yield rid, text, title


def read_queries(path) -> dict[str, str]:
    """{query id: text}, in file order."""
    return {rid: text for rid, text, _ in read_jsonl(path, text_fields=("text",))}


def read_qrels(path, doc_ids=None, query_ids=None) -> dict[str, dict[str, int]]:
    """{query id: {doc id: relevance}} from `query<TAB>doc<TAB>relevance` lines.

    TREC's four-column form (query, iteration, doc, relevance) is accepted too. Unknown
    document ids (not in ``doc_ids``) are errors; so are unknown query ids when given.
    """
    qrels: dict[str, dict[str, int]] = {}
    with open_text(path) as f:
        for n, line in enumerate(f, 1):
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            if len(parts) == 3:
                q, d, r = parts
            elif len(parts) == 4:
                q, _, d, r = parts
            else:
                raise FirthError(f"{path}:{n}: expected 'query<TAB>doc<TAB>relevance', got {len(parts)} fields")
            try:
                rel = int(r)
            except ValueError:
                raise FirthError(f"{path}:{n}: relevance {r!r} is not an integer") from None
            if doc_ids is not None and d not in doc_ids:
                raise FirthError(f"{path}:{n}: document {d!r} is not in the index; are the qrels for this collection?")
            if query_ids is not None and q not in query_ids:
                raise FirthError(f"{path}:{n}: query {q!r} is not in the queries file")
            qrels.setdefault(q, {})[d] = rel
    if not qrels:
        raise FirthError(f"{path}: no relevance judgements found")
    return qrels
