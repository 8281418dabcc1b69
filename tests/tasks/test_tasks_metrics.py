"""Metrics against hand-computed values; span scores against conlleval's chunk rules.

The conlleval expectations below were worked out by hand from the rules of the CoNLL-2000
script (startOfChunk / endOfChunk, sentence breaks read as ``O``), in its output layout.
"""

import numpy as np

from firth.tasks.metrics import classification_report, confusion_matrix, conlleval, is_span_tagset, token_accuracy


def test_confusion_accuracy_macro_f1_by_hand():
    gold = [0, 0, 0, 1, 1, 2]
    pred = [0, 0, 1, 1, 2, 2]
    cm = confusion_matrix(gold, pred, 3)
    assert cm.tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    rep = classification_report(gold, pred, ["a", "b", "c"])
    assert abs(rep.accuracy - 4 / 6) < 1e-12
    # a: P=2/2 R=2/3 F=0.8; b: P=1/2 R=1/2 F=0.5; c: P=1/2 R=1 F=2/3
    assert abs(rep.macro_f1 - (0.8 + 0.5 + 2 / 3) / 3) < 1e-12
    text = rep.format()
    assert text.splitlines()[0] == "accuracy 0.6667"
    assert "macro-F1 0.6556" in text
    row = text.splitlines()[4].split()
    assert row == ["a", "1.0000", "0.6667", "0.8000", "3"]
    assert text.splitlines()[-3:] == ["a      2 1 0", "b      0 1 1", "c      0 0 1"]


def test_macro_f1_ignores_classes_absent_everywhere():
    rep = classification_report([0, 0], [0, 0], ["x", "y"])
    assert rep.macro_f1 == 1.0


FIXTURE = [
    # sentence 1: (gold, pred) per token
    [("B-NP", "B-NP"), ("I-NP", "I-NP"), ("B-VP", "B-VP"), ("B-NP", "B-NP"), ("I-NP", "O")],
    # sentence 2
    [("B-PP", "B-PP"), ("B-NP", "I-NP"), ("I-NP", "I-NP"), ("O", "O")],
]
CONLLEVAL_OUTPUT = """\
processed 9 tokens with 5 phrases; found: 5 phrases; correct: 4.
accuracy:  77.78%; precision:  80.00%; recall:  80.00%; FB1:  80.00
               NP: precision:  66.67%; recall:  66.67%; FB1:  66.67  3
               PP: precision: 100.00%; recall: 100.00%; FB1: 100.00  1
               VP: precision: 100.00%; recall: 100.00%; FB1: 100.00  1"""


def _split(fixture):
    return [[g for g, _ in s] for s in fixture], [[p for _, p in s] for s in fixture]


def test_conlleval_fixture_counts_and_output():
    gold, pred = _split(FIXTURE)
    rep = conlleval(gold, pred)
    assert (rep.tokens, rep.found_correct, rep.found_guessed, rep.correct_chunks) == (9, 5, 5, 4)
    assert rep.correct_tags == 7
    assert abs(rep.f1 - 0.8) < 1e-12
    assert rep.format() == CONLLEVAL_OUTPUT


def test_conlleval_iob1_scores_like_iob2():
    # IOB1 prediction (I- opens a chunk after O; B- only between adjacent same-type chunks)
    gold = [["B-NP", "I-NP", "B-NP", "O", "B-VP"]]
    pred = [["I-NP", "I-NP", "B-NP", "O", "I-VP"]]
    rep = conlleval(gold, pred)
    assert (rep.found_correct, rep.found_guessed, rep.correct_chunks) == (3, 3, 3)
    assert rep.f1 == 1.0 and rep.correct_tags == 3  # tags differ, chunks do not


def test_conlleval_type_change_and_boundaries():
    # I-VP after B-NP starts a new (VP) chunk; a chunk never continues across a sentence break
    gold = [["B-NP", "B-VP"], ["I-NP"]]
    pred = [["B-NP", "I-VP"], ["I-NP"]]
    rep = conlleval(gold, pred)
    assert (rep.found_correct, rep.found_guessed, rep.correct_chunks) == (3, 3, 3)
    # a guessed chunk longer than the gold one is wrong, and so is one of the wrong type
    rep = conlleval([["B-NP", "O", "B-NP"]], [["B-NP", "I-NP", "B-VP"]])
    assert (rep.found_correct, rep.found_guessed, rep.correct_chunks) == (2, 2, 0)
    assert rep.precision == 0.0 and rep.f1 == 0.0


def test_conlleval_chunk_at_the_very_end_is_counted():
    rep = conlleval([["O", "B-NP", "I-NP"]], [["O", "B-NP", "I-NP"]])
    assert rep.correct_chunks == 1 and rep.f1 == 1.0


def test_token_accuracy_and_span_detection():
    assert token_accuracy([["a", "b"], ["c"]], [["a", "x"], ["c"]]) == 2 / 3
    assert is_span_tagset(["O", "B-NP", "I-NP"]) and not is_span_tagset(["NN", "DT"]) and not is_span_tagset(["O"])
