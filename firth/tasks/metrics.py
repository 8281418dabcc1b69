"""Evaluation: accuracy, macro-F1, per-class table, confusion matrix; token accuracy; span F1.

Span scores follow conlleval (CoNLL-2000 shared task script, Tjong Kim Sang) exactly:
a tag ``B-NP`` is split at its first ``-`` into a chunk tag (``B``) and a type (``NP``);
a chunk starts and ends where conlleval's ``startOfChunk`` / ``endOfChunk`` say so, which
scores IOB1 and IOB2 (and IOE) alike without converting schemes; a guessed chunk is correct
when it starts and ends at the same tokens with the same type as a gold chunk. Sentence
breaks count as ``O``. Precision, recall and FB1 are percentages in conlleval's output; here
they are fractions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


# ---------------------------------------------------------------- classification
def confusion_matrix(gold, pred, n_classes: int) -> np.ndarray:
    """(n, n) int64 matrix; rows = gold class, columns = predicted class."""
    m = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(m, (np.asarray(gold, dtype=np.int64), np.asarray(pred, dtype=np.int64)), 1)
    return m


def accuracy(gold, pred) -> float:
    gold, pred = np.asarray(gold), np.asarray(pred)
    return float((gold == pred).mean()) if len(gold) else 0.0


def per_class(cm: np.ndarray):
    """(precision, recall, f1, support) arrays from a confusion matrix (0 where undefined)."""
    tp = np.diag(cm).astype(np.float64)
    pred_n = cm.sum(axis=0).astype(np.float64)
    gold_n = cm.sum(axis=1).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(pred_n > 0, tp / pred_n, 0.0)
        r = np.where(gold_n > 0, tp / gold_n, 0.0)
        f = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
    return p, r, f, gold_n.astype(np.int64)


def macro_f1(cm: np.ndarray) -> float:
    """Mean F1 over the classes that occur in gold or predictions (sklearn's default labels)."""
    p, r, f, support = per_class(cm)
    present = (cm.sum(axis=0) + cm.sum(axis=1)) > 0
    return float(f[present].mean()) if present.any() else 0.0


@dataclass
class ClassificationReport:
    names: list
    cm: np.ndarray

    @property
    def accuracy(self):
        n = self.cm.sum()
        return float(np.trace(self.cm) / n) if n else 0.0

    @property
    def macro_f1(self):
        return macro_f1(self.cm)

    def format(self) -> str:
        p, r, f, s = per_class(self.cm)
        w = max([len(n) for n in self.names] + [5])
        lines = [f"accuracy {self.accuracy:.4f}", f"macro-F1 {self.macro_f1:.4f}", ""]
        lines.append(f"{'class':<{w}}  precision  recall      f1  support")
        for i, n in enumerate(self.names):
            lines.append(f"{n:<{w}}  {p[i]:9.4f}  {r[i]:6.4f}  {f[i]:6.4f}  {s[i]:7d}")
        lines.append("")
        lines.append("confusion matrix (rows: gold, columns: predicted)")
        cw = max([len(n) for n in self.names] + [len(str(int(self.cm.max()))) if self.cm.size else 1])
        lines.append(" " * w + "  " + " ".join(f"{n:>{cw}}" for n in self.names))
        for i, n in enumerate(self.names):
            lines.append(f"{n:<{w}}  " + " ".join(f"{int(v):>{cw}}" for v in self.cm[i]))
        return "\n".join(lines)


def classification_report(gold, pred, names) -> ClassificationReport:
    return ClassificationReport(list(names), confusion_matrix(gold, pred, len(names)))


@dataclass
class MultiLabelReport:
    """One-vs-all classifiers (several labels per text): fastText's ``test`` numbers.

    ``p_at_1``: the top label is a gold one (fastText's P@1; R@1 is the share of gold labels
    found that way); micro precision / recall / F1 of every label predicted at the
    threshold (fastText ``test FILE -1 0.5``) and per-label counts."""

    names: list
    gold: list  # per text, the set of gold label ids
    top: list  # per text, the top label id
    predicted: list  # per text, the set of label ids at the threshold

    def counts(self):
        tp = sum(len(g & p) for g, p in zip(self.gold, self.predicted))
        return tp, sum(len(p) for p in self.predicted), sum(len(g) for g in self.gold)

    @property
    def p_at_1(self) -> float:
        return float(np.mean([t in g for t, g in zip(self.top, self.gold)])) if self.gold else 0.0

    @property
    def r_at_1(self) -> float:
        n = sum(len(g) for g in self.gold)
        return sum(t in g for t, g in zip(self.top, self.gold)) / n if n else 0.0

    @property
    def micro(self):
        tp, npred, ngold = self.counts()
        p = tp / npred if npred else 0.0
        r = tp / ngold if ngold else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    def format(self) -> str:
        p, r, f = self.micro
        lines = [f"examples {len(self.gold)}", f"P@1 {self.p_at_1:.4f}", f"R@1 {self.r_at_1:.4f}",
                 f"micro precision {p:.4f}", f"micro recall {r:.4f}", f"micro-F1 {f:.4f}", ""]
        w = max([len(n) for n in self.names] + [5])
        lines.append(f"{'label':<{w}}  precision  recall      f1  support")
        for i, n in enumerate(self.names):
            tp = sum(i in g and i in q for g, q in zip(self.gold, self.predicted))
            npred = sum(i in q for q in self.predicted)
            sup = sum(i in g for g in self.gold)
            pi, ri = (tp / npred if npred else 0.0), (tp / sup if sup else 0.0)
            fi = 2 * pi * ri / (pi + ri) if pi + ri else 0.0
            lines.append(f"{n:<{w}}  {pi:9.4f}  {ri:6.4f}  {fi:6.4f}  {sup:7d}")
        return "\n".join(lines)


# ---------------------------------------------------------------- tagging
def token_accuracy(gold_sents, pred_sents) -> float:
    n = c = 0
    for g, p in zip(gold_sents, pred_sents):
        assert len(g) == len(p)
        n += len(g)
        c += sum(a == b for a, b in zip(g, p))
    return c / n if n else 0.0


def _split(tag: str):
    """conlleval's split of a chunk tag: 'B-NP' -> ('B', 'NP'); 'O' -> ('O', '')."""
    if "-" in tag:
        a, b = tag.split("-", 1)
        return a, b
    return tag, ""


def _end_of_chunk(prev_tag, tag, prev_type, type_):
    """conlleval's endOfChunk: does a chunk end between the previous token and this one?"""
    return ((prev_tag in ("B", "I") and tag in ("B", "O"))
            or (prev_tag == "E" and tag in ("E", "I", "O"))
            or (prev_tag not in ("O", ".") and prev_type != type_)
            or prev_tag in ("]", "["))


def _start_of_chunk(prev_tag, tag, prev_type, type_):
    """conlleval's startOfChunk: does a chunk start at this token?"""
    return ((prev_tag in ("B", "I", "O") and tag == "B")
            or (prev_tag == "O" and tag in ("I", "E"))
            or (prev_tag == "E" and tag in ("E", "I"))
            or (tag not in ("O", ".") and prev_type != type_)
            or tag in ("[", "]"))


@dataclass
class SpanReport:
    tokens: int = 0
    correct_tags: int = 0
    found_correct: int = 0
    found_guessed: int = 0
    correct_chunks: int = 0
    by_type: dict = field(default_factory=dict)  # type -> [found_correct, found_guessed, correct]

    @staticmethod
    def _prf(correct, guessed, gold):
        p = correct / guessed if guessed else 0.0
        r = correct / gold if gold else 0.0
        f = 2 * p * r / (p + r) if p + r > 0 else 0.0
        return p, r, f

    @property
    def accuracy(self):
        return self.correct_tags / self.tokens if self.tokens else 0.0

    @property
    def precision(self):
        return self._prf(self.correct_chunks, self.found_guessed, self.found_correct)[0]

    @property
    def recall(self):
        return self._prf(self.correct_chunks, self.found_guessed, self.found_correct)[1]

    @property
    def f1(self):
        return self._prf(self.correct_chunks, self.found_guessed, self.found_correct)[2]

    def format(self) -> str:
        """The report in conlleval's own layout (percentages, two decimals)."""
        out = [
            f"processed {self.tokens} tokens with {self.found_correct} phrases; "
            f"found: {self.found_guessed} phrases; correct: {self.correct_chunks}."
        ]
        if self.tokens:
            out.append(
                f"accuracy: {100 * self.accuracy:6.2f}%; precision: {100 * self.precision:6.2f}%; "
                f"recall: {100 * self.recall:6.2f}%; FB1: {100 * self.f1:6.2f}"
            )
        for t in sorted(self.by_type):
            if t == "":
                continue
            fc, fg, cc = self.by_type[t]
            p, r, f = self._prf(cc, fg, fc)
            out.append(f"{t:>17}: precision: {100 * p:6.2f}%; recall: {100 * r:6.2f}%; FB1: {100 * f:6.2f}  {fg}")
        return "\n".join(out)


def conlleval(gold_sents, pred_sents) -> SpanReport:
    """Score tag sequences with conlleval's chunk rules. Inputs: lists of tag lists per sentence."""
    rep = SpanReport()

    def bump(t, k):
        rep.by_type.setdefault(t, [0, 0, 0])[k] += 1

    last_c, last_g, last_ct, last_gt = "O", "O", "", ""
    in_correct = False

    def step(c, ct, g, gt, boundary):
        nonlocal last_c, last_g, last_ct, last_gt, in_correct
        end_c = _end_of_chunk(last_c, c, last_ct, ct)
        end_g = _end_of_chunk(last_g, g, last_gt, gt)
        if in_correct:
            if end_c and end_g and last_gt == last_ct:
                in_correct = False
                rep.correct_chunks += 1
                bump(last_ct, 2)
            elif end_c != end_g or gt != ct:
                in_correct = False
        start_c = _start_of_chunk(last_c, c, last_ct, ct)
        start_g = _start_of_chunk(last_g, g, last_gt, gt)
        if start_c and start_g and gt == ct:
            in_correct = True
        if start_c:
            rep.found_correct += 1
            bump(ct, 0)
        if start_g:
            rep.found_guessed += 1
            bump(gt, 1)
        if not boundary:
            if c == g and ct == gt:
                rep.correct_tags += 1
            rep.tokens += 1
        last_c, last_g, last_ct, last_gt = c, g, ct, gt

    first = True
    for gs, ps in zip(gold_sents, pred_sents):
        if len(gs) != len(ps):
            raise ValueError("gold and predicted sentences differ in length")
        if not first:  # conlleval reads the blank line between sentences as a boundary token O O
            step("O", "", "O", "", True)
        first = False
        for gtag, ptag in zip(gs, ps):
            c, ct = _split(gtag)
            g, gt = _split(ptag)
            step(c, ct, g, gt, False)
    if in_correct:
        rep.correct_chunks += 1
        bump(last_ct, 2)
    return rep


def is_span_tagset(tags) -> bool:
    """True when the tags look like chunk/BIO data (every tag is O or X-TYPE with X in B/I/E/S)."""
    tags = set(tags)
    if not tags:
        return False
    ok = all(t == "O" or (len(t) > 2 and t[1] == "-" and t[0] in "BIES") for t in tags)
    return ok and any(t != "O" for t in tags)
