"""The Porter stemmer against the paper's examples and the snowballstemmer oracle."""

import json
import re

import pytest

from firth.search.porter import stem
from tests.conftest import SHARED

# Examples from Porter (1980), steps 1a-5b, with the published results.
PAPER = {
    "caresses": "caress", "ponies": "poni", "ties": "ti", "caress": "caress", "cats": "cat",
    "feed": "feed", "agreed": "agre", "plastered": "plaster", "bled": "bled", "motoring": "motor",
    "sing": "sing", "conflated": "conflat", "troubled": "troubl", "sized": "size", "hopping": "hop",
    "tanned": "tan", "falling": "fall", "hissing": "hiss", "fizzed": "fizz", "failing": "fail",
    "filing": "file", "happy": "happi", "sky": "sky", "relational": "relat", "conditional": "condit",
    "rational": "ration", "digitizer": "digit", "generalization": "gener", "hopeful": "hope",
    "goodness": "good", "revival": "reviv", "allowance": "allow", "inference": "infer",
    "airliner": "airlin", "adjustable": "adjust", "defensible": "defens", "irritant": "irrit",
    "replacement": "replac", "adjustment": "adjust", "dependent": "depend", "adoption": "adopt",
    "homologou": "homolog", "communism": "commun", "activate": "activ", "angulariti": "angular",
    "homologous": "homolog", "effective": "effect", "bowdlerize": "bowdler", "probate": "probat",
    "rate": "rate", "cease": "ceas", "controll": "control", "roll": "roll",
    "boundary": "boundari", "layers": "layer", "transition": "transit", "aerodynamics": "aerodynam",
}

TRICKY = [
    "a", "as", "is", "ay", "y", "yes", "toy", "toying", "sayings", "analogy", "analogies", "sensibly",
    "abilities", "ization", "agreement", "oscillation", "feeding", "eed", "ying", "ies", "sses",
    "generously", "electricity", "hopefulness", "formality", "sensitivity", "archaeology",
    "conformabli", "radicalli", "differentli", "vileli", "analogousli", "vietnamization",
    "predication", "operator", "feudalism", "decisiveness", "callousness", "sensibiliti",
    "triplicate", "formative", "formalize", "electriciti", "electrical", "helpful", "syllabus",
]


@pytest.mark.parametrize("word,expected", sorted(PAPER.items()))
def test_paper_examples(word, expected):
    assert stem(word) == expected


def _oracle():
    snowball = pytest.importorskip("snowballstemmer")
    return snowball.stemmer("porter")


def test_agrees_with_snowball_porter_on_tricky_words():
    oracle = _oracle()
    words = TRICKY + list(PAPER)
    assert [stem(w) for w in words] == oracle.stemWords(words)


def test_agrees_with_snowball_porter_on_cranfield_vocabulary():
    path = SHARED / "eval" / "ir" / "cranfield" / "docs.jsonl"
    if not path.exists():
        pytest.skip("shared Cranfield data not found")
    oracle = _oracle()
    words = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            words.update(re.findall(r"[a-z0-9]+", (d["title"] + " " + d["text"]).lower()))
    words = sorted(words)
    assert len(words) > 5000
    bad = [(w, stem(w), oracle.stemWord(w)) for w in words if stem(w) != oracle.stemWord(w)]
    assert bad == []
