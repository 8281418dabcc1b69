"""Word analogies ("a is to b as c is to d"), 3CosAdd and 3CosMul, batched.

Policy (gensim's ``evaluate_word_analogies`` and word2vec's ``compute-accuracy``):

* the search, and the words a question may use, are restricted to the ``restrict`` most
  frequent words (default 30,000);
* a question with any of its four words outside that vocabulary is *not answered*: it is
  counted under ``oov`` and reported. ``accuracy`` is correct / answered (gensim's number);
  ``accuracy_all`` is correct / all questions (unanswered ones counted as wrong, gensim's
  ``dummy4unknown=True``). Both are always reported;
* the question words a, b, c (and any vocabulary word that folds to the same lower-case key)
  are never an answer;
* 3CosAdd: arg max_d cos(d, b − a + c) over unit vectors;
  3CosMul (Levy & Goldberg 2014, eq. 4 with footnote 7):
  arg max_d P(d,b) P(d,c) / (P(d,a) + ε), P(x, y) = (cos(x, y) + 1) / 2, ε = 0.001.

Speed: instead of one matrix product per question, every distinct question word (~900 for
the Google set) is multiplied once with the searched vocabulary (one BLAS product), and a
Numba kernel combines the three rows of each question block by block (the product is done in
slices of 65,536 words, so memory stays ~200 MB whatever the vocabulary) and keeps the running
arg max (:mod:`._kernels`): 19,544 questions x 2 methods over 100k x 300 take about 1 s on
2 cores (``benchmarks/bench_evaluate.py``). ``solve_reference`` is the plain NumPy version used as
the test oracle.
"""

from __future__ import annotations

import time

import numpy as np

from firth.errors import FirthError
from firth.evaluate.datasets import AnalogySection, read_analogies
from firth.evaluate.lookup import Lookup, normed

METHODS = ("add", "mul")
EPS = 1e-3


def _prepare(kv, sections: list[AnalogySection], look: Lookup):
    """Indices of the answerable questions, their section ids, and OOV counts per section."""
    rows, sec_of, oov = [], [], np.zeros(len(sections), dtype=np.int64)
    for s_i, sec in enumerate(sections):
        for q in sec.questions:
            idx = [look.index(w) for w in q]
            if any(i is None for i in idx):
                oov[s_i] += 1
                continue
            rows.append(idx)
            sec_of.append(s_i)
    q = np.asarray(rows, dtype=np.int64).reshape(-1, 4)
    return q, np.asarray(sec_of, dtype=np.int64), oov


def _exclusions(q: np.ndarray, look: Lookup):
    """CSR lists of vocabulary rows each question may not answer with (a, b, c + case variants)."""
    abc = q[:, :3]
    if look.case_insensitive:
        keys = {look.fold(i) for i in np.unique(abc)}
        var = {}
        for i, k in enumerate(look.keys[: look.n]):
            kk = k.lower()
            if kk in keys:
                var.setdefault(kk, []).append(i)
        per_index = {i: var[look.fold(i)] for i in np.unique(abc).tolist()}
    else:
        per_index = {i: [i] for i in np.unique(abc).tolist()}
    eptr = np.zeros(len(q) + 1, dtype=np.int64)
    eidx = []
    for n, (a, b, c) in enumerate(abc.tolist()):
        ex = sorted(set(per_index[a]) | set(per_index[b]) | set(per_index[c]))
        eidx.extend(ex)
        eptr[n + 1] = len(eidx)
    return eptr, np.asarray(eidx, dtype=np.int64)


def solve(W: np.ndarray, n: int, q: np.ndarray, eptr, eidx, methods=METHODS, eps: float = EPS,
          block: int = 1024, chunk: int = 128, slice_words: int = 65536) -> dict[str, np.ndarray]:
    """Predicted vocabulary index per question and method (fast path: BLAS products by vocabulary slice + Numba)."""
    from firth.evaluate.kernels import analogy_search

    nq = len(q)
    arg = {m: np.full(nq, -1, dtype=np.int64) for m in METHODS}
    if nq == 0:
        return {m: arg[m] for m in methods}
    uniq, inv = np.unique(q[:, :3], return_inverse=True)
    inv = inv.reshape(-1, 3)
    qa, qb, qc = (np.ascontiguousarray(inv[:, k]) for k in range(3))
    Wq = np.ascontiguousarray(W[uniq])
    best = {m: np.full(nq, -2147483647, dtype=np.int32) for m in METHODS}
    for j0 in range(0, n, slice_words):  # S is (U, slice) float32: ~200 MB for 900 words x 50k
        S = Wq @ W[j0:min(n, j0 + slice_words)].T  # cosines of the question words
        analogy_search(S, j0, qa, qb, qc, eptr, eidx, eps, "add" in methods, "mul" in methods,
                       block, chunk, best["add"], arg["add"], best["mul"], arg["mul"])
    return {m: arg[m] for m in methods}


def solve_reference(W: np.ndarray, n: int, q: np.ndarray, eptr, eidx, methods=METHODS,
                    eps: float = EPS) -> dict[str, np.ndarray]:
    """The readable oracle: one question at a time, full score vector, arg max."""
    V = W[:n].astype(np.float64)
    out = {m: np.empty(len(q), dtype=np.int64) for m in methods}
    for k, (a, b, c, _) in enumerate(q):
        ca, cb, cc = V @ V[a], V @ V[b], V @ V[c]
        for m in methods:
            if m == "add":
                s = cb + cc - ca
            else:
                s = ((cb + 1) / 2) * ((cc + 1) / 2) / ((ca + 1) / 2 + eps)
            s[eidx[eptr[k]:eptr[k + 1]]] = -np.inf
            out[m][k] = int(np.argmax(s))
    return out


def _score(correct: int, answered: int, total: int) -> dict:
    return {
        "correct": int(correct),
        "accuracy": correct / answered if answered else float("nan"),
        "accuracy_all": correct / total if total else float("nan"),
    }


def evaluate_analogies(kv, source, methods=METHODS, restrict: int | None = 30000,
                       case_insensitive: bool = True, eps: float = EPS, backend: str = "fast",
                       block: int = 1024, slice_words: int = 65536) -> dict:
    """Evaluate an analogy file (path) or parsed sections. Returns a JSON-ready dict."""
    methods = tuple(methods)
    for m in methods:
        if m not in METHODS:
            raise FirthError(f"--method: must be 'add' or 'mul', got {m!r}")
    if eps <= 0:
        raise FirthError(f"--eps: must be positive, got {eps}")
    if isinstance(source, (list, tuple)):
        sections, path = list(source), "<sections>"
    else:
        sections, path = read_analogies(source), str(source)
    look = Lookup.get(kv, case_insensitive, restrict)
    W = normed(kv)
    q, sec_of, oov = _prepare(kv, sections, look)
    eptr, eidx = _exclusions(q, look)
    t0 = time.perf_counter()
    if backend == "fast":
        pred = solve(W, look.n, q, eptr, eidx, methods, eps, block, slice_words=slice_words)
    elif backend == "reference":
        pred = solve_reference(W, look.n, q, eptr, eidx, methods, eps)
    else:
        raise ValueError(backend)
    seconds = time.perf_counter() - t0
    expected = [look.fold(i) for i in q[:, 3].tolist()]
    ok = {m: np.fromiter((look.fold(p) == e for p, e in zip(pred[m].tolist(), expected)),
                         dtype=bool, count=len(q)) for m in methods}
    n_sec = len(sections)
    total_q = np.array([len(s.questions) for s in sections], dtype=np.int64)
    answered = np.bincount(sec_of, minlength=n_sec)
    correct = {m: np.bincount(sec_of, weights=ok[m], minlength=n_sec).astype(np.int64) for m in methods}

    def summary(mask) -> dict:
        d = {"questions": int(total_q[mask].sum()), "answered": int(answered[mask].sum()),
             "oov": int(oov[mask].sum())}
        for m in methods:
            d[m] = _score(correct[m][mask].sum(), d["answered"], d["questions"])
        return d

    out_sections = []
    for i, s in enumerate(sections):
        mask = np.zeros(n_sec, dtype=bool)
        mask[i] = True
        out_sections.append({"name": s.name, "kind": s.kind, **summary(mask)})
    kinds = np.array([s.kind for s in sections])
    return {
        "file": path,
        "restrict": restrict,
        "searched_words": look.n,
        "case_insensitive": case_insensitive,
        "methods": list(methods),
        "eps": eps,
        "sections": out_sections,
        "semantic": summary(kinds == "semantic"),
        "syntactic": summary(kinds == "syntactic"),
        "total": summary(np.ones(n_sec, dtype=bool)),
        "seconds": seconds,
        "predictions": {m: pred[m] for m in methods},  # vocabulary indices (dropped from JSON output)
    }
