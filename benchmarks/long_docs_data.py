"""Build the long-document classification set of benchmarks/bench_long_docs.py.

Passages of ``--words`` whitespace tokens (default 250) of cased raw text, cut from the
novels of en-mix-raw (sources ``novels100`` and ``eltec``), labelled by their author's
surname (``Dickens``, ``Cbronte``, ...). Chunks of ``en-mix-raw.txt`` are found with the
manifest ``en-mix.chunks.tsv``: each chunk's paragraphs are the raw lines whose text8-style
word count (README step 4) adds up to the chunk's ``n_words`` -- the script checks that
every chunk ends exactly on a paragraph end, so a drift cannot go unnoticed.

Deterministic: chunks are read in file order until enough passages are collected; authors
with fewer than ``--min-per-author`` passages are dropped; passages are shuffled with
``random.Random(0)`` and cut into train/dev/test. Written as ``label<TAB>text`` files (firth)
and ``__label__label text`` files (fastText) under ``--out`` (a temp dir; never committed).

    python benchmarks/long_docs_data.py --out /tmp/firth-long-docs
"""

from __future__ import annotations

import argparse
import collections
import json
import lzma
import random
import re
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT.parent / "shared" / "data" / "corpora"
_SPECIAL = str.maketrans({"æ": "ae", "œ": "oe", "ß": "ss", "ø": "o", "ł": "l", "đ": "d", "þ": "th", "ð": "d", "ı": "i"})
_WORD = re.compile(r"[a-z]+|[0-9]")


def text8_words(par: str) -> int:
    """Number of text8-style words of a raw paragraph (README step 4: a..e)."""
    if not par.isascii():
        par = "".join(c for c in unicodedata.normalize("NFKD", par) if not unicodedata.combining(c))
        par = par.lower().translate(_SPECIAL)
    else:
        par = par.lower()
    return len(_WORD.findall(par))


def author(source: str, document: str) -> str:
    name = document.split(" |")[0].rsplit("/", 1)[-1]
    if source == "eltec":  # level1/ENG18481_Dickens.xml
        return name.split("_", 1)[1].split(".")[0].split("_")[0].capitalize()
    return name.split("_", 1)[0].capitalize()  # corpus/James_Tragic_1890.txt


def passages(n_wanted: int, words: int):
    """(author, text) passages in corpus order, until ``n_wanted`` are collected."""
    with lzma.open(CORPORA / "en-mix" / "en-mix.chunks.tsv.xz", "rt", encoding="utf-8") as f:
        next(f)
        chunks = [line.rstrip("\n").split("\t") for line in f]
    raw = lzma.open(CORPORA / "en-mix-raw" / "en-mix-raw.txt.xz", "rt", encoding="utf-8")
    got = 0
    with raw:
        for cid, source, document, _part, _first, n_words in chunks:
            need, pars = int(n_words), []
            while need > 0:
                par = raw.readline().rstrip("\n")
                need -= text8_words(par)
                pars.append(par)
            if need != 0:
                raise SystemExit(f"chunk {cid}: raw paragraphs overshoot the chunk by {-need} words; alignment lost")
            if source not in ("novels100", "eltec"):
                continue
            toks = " ".join(pars).split()
            who = author(source, document)
            for i in range(0, len(toks) - words + 1, words):
                yield who, " ".join(toks[i:i + words])
                got += 1
                if got >= n_wanted:
                    return


def build(out: Path, n_train: int, n_dev: int, n_test: int, words: int, min_per_author: int) -> dict:
    total = n_train + n_dev + n_test
    items = list(passages(int(total * 1.15), words))  # a margin for the rare authors dropped
    per = collections.Counter(a for a, _ in items)
    items = [x for x in items if per[x[0]] >= min_per_author]
    random.Random(0).shuffle(items)
    if len(items) < total:
        raise SystemExit(f"only {len(items)} passages; ask for fewer")
    train, dev, test = items[:n_train], items[n_train:n_train + n_dev], items[n_train + n_dev:total]
    known = {a for a, _ in train}
    dev = [x for x in dev if x[0] in known]
    test = [x for x in test if x[0] in known]
    out.mkdir(parents=True, exist_ok=True)
    for name, part in (("train", train), ("dev", dev), ("test", test)):
        with open(out / f"{name}.tsv", "w", encoding="utf-8") as f:
            f.writelines(f"{a}\t{t}\n" for a, t in part)
        with open(out / f"{name}.ft", "w", encoding="utf-8") as f:
            f.writelines(f"__label__{a} {t}\n" for a, t in part)
    info = {"train": len(train), "dev": len(dev), "test": len(test), "words": words, "authors": len(known),
            "largest_class_share_test": max(collections.Counter(a for a, _ in test).values()) / len(test)}
    (out / "info.json").write_text(json.dumps(info, indent=1))
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="/tmp/firth-long-docs")
    ap.add_argument("--train", type=int, default=20_000)
    ap.add_argument("--dev", type=int, default=2_500)
    ap.add_argument("--test", type=int, default=2_500)
    ap.add_argument("--words", type=int, default=250)
    ap.add_argument("--min-per-author", type=int, default=50)
    a = ap.parse_args()
    print(json.dumps(build(Path(a.out), a.train, a.dev, a.test, a.words, a.min_per_author)))


if __name__ == "__main__":
    main()
