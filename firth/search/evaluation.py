"""`firth search evaluate`: a run against its BM25 baseline, as printable lines.

The first line is ``MAP 0.xxxx`` for the run as asked. Then the four measures for the
baseline (plain BM25 with the same BM25 settings, or tuned the same way) and the run, and
when they differ: the paired significance tests on per-query average precision, the
per-query wins and losses, and the queries the expansion hurt most with the terms it added.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from firth.errors import FirthError
from firth.search.metrics import MEASURES, evaluate_run
from firth.search.retrieve import Config, Retriever
from firth.search.stats import paired_t_test, randomization_test
from firth.search.tune import Tuner


@dataclass
class Result:
    qids: list
    baseline: dict
    run: dict
    configs: list = field(default_factory=list)  # per query: the Config that scored it
    p_random: float | None = None
    t: float | None = None
    p_t: float | None = None
    lines: list = field(default_factory=list)


def check_queries(retriever: Retriever, queries: dict[str, str], path="queries") -> None:
    for qid, text in queries.items():
        if not retriever.index.query_terms(text):
            raise FirthError(f"{path}: query {qid!r} ({text!r}) has no search terms after analysis; fix or drop it")


def _added_terms(retriever: Retriever, text: str, cfg: Config, n: int = 6) -> str:
    if cfg.expand == "none":
        return ""
    q = retriever.analyse(text)
    model = retriever.query_model(q, cfg)
    added = sorted(((w, t) for t, w in model.items() if t not in q), reverse=True)[:n]
    return ", ".join(t for _, t in added)


def evaluate(retriever: Retriever, queries: dict[str, str], qrels, cfg: Config, tune: bool = False,
             min_rel: int = 1, seed: int = 0, permutations: int = 10_000, show: int = 10,
             folds: int = 5) -> Result:
    check_queries(retriever, queries)
    tuner = Tuner(retriever, queries, qrels, min_rel)
    base_cfg = cfg.with_(expand="none")
    if tune:
        base, base_chosen, fid = tuner.cross_validate(base_cfg, folds, seed)
        run, chosen, _ = tuner.cross_validate(cfg, folds, seed)
        configs = [chosen[f] for f in fid]
    else:
        base = tuner.scores(base_cfg)
        run = tuner.scores(cfg) if cfg != base_cfg else base
        configs = [cfg] * len(base["MAP"])
    qids = tuner.qids
    if not qids:
        raise FirthError(f"no query has a relevant document (relevance >= {min_rel}) among the judged queries")
    res = Result(qids, base, run, configs)
    L = res.lines
    L.append(f"MAP {run['MAP'].mean():.4f}")
    how = "5-fold cross-validated (parameters chosen on the other folds' queries)" if tune else cfg.describe()
    L.append(f"run: {cfg.expand if cfg.expand != 'none' else 'bm25'}; {how}")
    L.append(f"{len(qids)} queries with relevant documents (relevance >= {min_rel}); MAP over the top 1000")
    expanded = cfg.expand != "none"
    L.append(f"{'measure':<11}{'BM25':>8}" + (f"{'run':>8}{'diff':>9}" if expanded else ""))
    for m in MEASURES:
        row = f"{m:<11}{base[m].mean():>8.4f}"
        if expanded:
            row += f"{run[m].mean():>8.4f}{run[m].mean() - base[m].mean():>+9.4f}"
        L.append(row)
    if tune:
        L.append("BM25 chosen per fold: " + " | ".join(c.describe() for c in base_chosen))
        if expanded:
            L.append("run chosen per fold: " + " | ".join(c.describe() for c in chosen))
    if not expanded:
        return res
    a, b = base["MAP"], run["MAP"]
    res.p_random = randomization_test(a, b, permutations, seed)
    res.t, res.p_t = paired_t_test(a, b)
    L.append(f"significance of the MAP difference ({len(qids)} paired queries): randomisation test "
             f"p = {res.p_random:.4f} ({permutations} permutations, seed {seed}); paired t-test t = {res.t:.3f}, p = {res.p_t:.4f}")
    d = b - a
    better, worse = int((d > 1e-9).sum()), int((d < -1e-9).sum())
    L.append(f"per query: {better} better, {worse} worse, {len(d) - better - worse} unchanged "
             f"(by more than 0.05 AP: {int((d > 0.05).sum())} better, {int((d < -0.05).sum())} worse)")
    hurt = [i for i in np.argsort(d, kind="stable") if d[i] < -1e-9][:show]
    if hurt:
        L.append("queries the expansion hurt most (AP BM25 -> run; terms added):")
        for i in hurt:
            q = qids[i]
            text = queries[q]
            short = text if len(text) <= 60 else text[:57] + "..."
            L.append(f"  {q:>6}  {a[i]:.3f} -> {b[i]:.3f}  {short!r}  + {_added_terms(retriever, text, configs[i])}")
    return res


def other_reading(retriever: Retriever, queries, qrels, cfg: Config, min_rel: int) -> tuple[int, float] | None:
    """MAP when every judged line counts as relevant (the lowest code), if that differs."""
    low = min(r for q in qrels.values() for r in q.values())
    if low >= min_rel:
        return None
    run = retriever.run(queries, cfg)
    _, m = evaluate_run(run, qrels, low)
    return low, float(m["MAP"].mean())
