"""Run a set of benchmarks on one set of vectors; print a table, JSON, or a plot.

The JSON (``firth evaluate --json``) is one object keyed by each benchmark file's stem
(``ws353``, ``simlex999``, ``questions-words``, ``weat``), plus ``antonyms``,
``polysemy`` and ``meta`` (vectors, policy). Correlations (``spearman``, ``pearson``) and
accuracies are fractions; counts are integers; a value that cannot be computed is null.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from firth.evaluate import datasets


@dataclass
class Plan:
    similarity: list = field(default_factory=list)  # paths
    analogies: list = field(default_factory=list)  # paths
    weat: list = field(default_factory=list)  # paths
    antonyms: bool = False
    polysemy: list = field(default_factory=list)  # words
    # policy
    oov: str = "skip"
    case_insensitive: bool = True
    restrict: int | None = 30000
    methods: tuple = ("add", "mul")
    eps: float = 1e-3
    ddof: int = 0
    samples: int = 100_000
    exact_limit: int = 100_000
    seed: int = 0


def default_plan(**policy) -> Plan:
    return Plan(similarity=datasets.bundled_similarity_files(), analogies=[datasets.ANALOGY_FILE],
                weat=[datasets.WEAT_FILE], antonyms=True, polysemy=["bank", "plant", "spring"], **policy)


def run(kv, plan: Plan) -> dict:
    from firth.evaluate.analogy import evaluate_analogies
    from firth.evaluate.limits import antonyms, polysemy
    from firth.evaluate.similarity import evaluate_similarity
    from firth.evaluate.weat import evaluate_weat

    out: dict = {}
    ci = plan.case_insensitive
    for p in plan.similarity:
        out[Path(p).stem] = {"type": "similarity",
                             **evaluate_similarity(kv, p, oov=plan.oov, case_insensitive=ci)}
    for p in plan.analogies:
        r = evaluate_analogies(kv, p, methods=plan.methods, restrict=plan.restrict, case_insensitive=ci,
                               eps=plan.eps)
        r.pop("predictions", None)
        out[Path(p).stem] = {"type": "analogy", **r}
    for p in plan.weat:
        out[Path(p).stem] = {"type": "weat", "ddof": plan.ddof,
                             "tests": evaluate_weat(kv, p, ci, plan.ddof, plan.exact_limit, plan.samples, plan.seed)}
    if plan.antonyms:
        out["antonyms"] = {"type": "limits", **antonyms(kv, restrict=plan.restrict, case_insensitive=ci, seed=plan.seed)}
    if plan.polysemy:
        out["polysemy"] = {"type": "limits", "words": [polysemy(kv, w, seed=plan.seed, restrict=plan.restrict, case_insensitive=ci)
                                                       for w in plan.polysemy]}
    out["meta"] = {
        "words": len(kv.index_to_key), "dim": int(kv.vectors.shape[1]),
        "case_insensitive": ci, "similarity_oov": plan.oov, "analogy_restrict": plan.restrict,
        "analogy_methods": list(plan.methods), "cosmul_eps": plan.eps, "weat_ddof": plan.ddof,
        "seed": plan.seed,
    }
    return out


def _clean(x):
    """JSON-safe: NaN/inf -> null, numpy scalars -> Python."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def to_json(res: dict) -> str:
    return json.dumps(_clean(res), indent=2, ensure_ascii=False)


def _f(x, fmt="{:.3f}"):
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else fmt.format(x)


def _pct(x):
    return _f(x, "{:.1%}")


def _similarity_lines(sims) -> list[str]:
    pol = sims[0][1]["oov_policy"]
    L = ["", f"Word similarity (Spearman rho / Pearson r of cosine vs human scores; pairs with an unknown "
             f"word: {pol}{', counted' if pol == 'skip' else ''})",
         f"  {'set':<14}{'pairs':>7}{'found':>7}{'coverage':>10}{'spearman':>10}{'pearson':>9}"]
    for k, v in sims:
        L.append(f"  {k:<14}{v['pairs']:>7}{v['found']:>7}{_pct(v['coverage']):>10}"
                 f"{_f(v['spearman']):>10}{_f(v['pearson']):>9}")
    return L


def _analogy_lines(k, v) -> list[str]:
    ms = v["methods"]
    names = {"add": "3CosAdd", "mul": "3CosMul"}
    L = ["", f"Analogies: {k} (search over the {v['searched_words']:,} most frequent words; accuracy = correct / "
             f"answered; questions with an unknown word are not answered: counted in 'oov')",
         f"  {'section':<28}{'questions':>10}{'oov':>7}" + "".join(f"{names[m]:>10}" for m in ms)]
    for s in v["sections"] + [dict(v["semantic"], name="SEMANTIC"), dict(v["syntactic"], name="SYNTACTIC"),
                              dict(v["total"], name="TOTAL")]:
        if s.get("questions", 0) == 0:
            continue
        L.append(f"  {s['name'][:27]:<28}{s['questions']:>10}{s['oov']:>7}"
                 + "".join(f"{_pct(s[m]['accuracy']):>10}" for m in ms))
    t = v["total"]
    L.append("  accuracy counting unanswered questions as wrong: "
             + ", ".join(f"{names[m]} {_pct(t[m]['accuracy_all'])}" for m in ms)
             + f"; search time {v['seconds']:.2f} s")
    return L


def _weat_lines(k, v) -> list[str]:
    L = ["", f"WEAT: {k} (d = effect size, std with ddof={v['ddof']}; p = one-sided permutation p-value; "
             f"found = words in the vocabulary X/Y/A/B)",
         f"  {'test':<8}{'targets X vs Y / attributes A vs B':<52}{'found':>14}{'S':>8}{'d':>7}"
         f"{'p':>8}{'paper d':>9}"]
    for tid, t in v["tests"].items():
        s = t["sets"]
        desc = f"{s['X']} vs {s['Y']} / {s['A']} vs {s['B']}"
        fd = "/".join(str(t["found"][x]) for x in "XYAB")
        L.append(f"  {tid:<8}{desc[:51]:<52}{fd:>14}{_f(t['statistic'], '{:.2f}'):>8}"
                 f"{_f(t['effect_size'], '{:.2f}'):>7}{_f(t['p_value'], '{:.3f}'):>8}"
                 f"{_f(t.get('paper_effect_size'), '{:.2f}'):>9}")
    miss = {tid: t["missing"] for tid, t in v["tests"].items() if t["missing"]}
    if miss:
        L.append("  missing words: " + "; ".join(
            f"{tid} " + ", ".join(f"{k2}: {' '.join(ws[:6])}{' ...' if len(ws) > 6 else ''}" for k2, ws in m.items())
            for tid, m in miss.items()))
    return L


def _antonym_lines(a) -> list[str]:
    L = ["", "Limits: antonyms look similar (mean cosine of WordNet pairs found in the vocabulary)"]
    for k in ("antonym", "synonym", "random"):
        L.append(f"  {k:<10} pairs {a[k]['pairs']:>6}   mean cos {_f(a[k]['mean'])}   std {_f(a[k]['std'])}")
    if "antonym_in_top10" in a:
        L.append(f"  the antonym is among the word's 10 nearest neighbours for {_pct(a['antonym_in_top10'])} of "
                 f"antonym pairs; {_pct(a.get('antonym_above_random_median'))} are more similar than the median "
                 f"random pair")
        L.append("  most similar antonyms: " + ", ".join(f"{x}/{y} {c:.2f}" for x, y, c in a["most_similar_antonyms"]))
    return L


def _polysemy_lines(p) -> list[str]:
    L = ["", "Limits: polysemy (a word's nearest neighbours, clustered; senses show as clusters when both are frequent)"]
    for w in p["words"]:
        if not w["found"]:
            L.append(f"  {w['word']}: not in the vocabulary")
            continue
        L.append(f"  {w['word']}: k={w['k']}, silhouette {_f(w['silhouette'], '{:.2f}')} ({w['note']})")
        for c in w["clusters"]:
            L.append(f"    [{c['similarity_to_word']:.2f}] " + " ".join(c["words"][:12]))
    return L


def table(res: dict, source: str = "") -> str:
    """The results of ``run`` as text: one block per benchmark type, in a fixed order."""
    L = []
    meta = res.get("meta", {})
    if meta:
        L.append(f"vectors: {source} ({meta['words']:,} words x {meta['dim']} dims); words compared "
                 f"{'case-insensitively' if meta['case_insensitive'] else 'case-sensitively'}")
    of_type = {t: [(k, v) for k, v in res.items() if isinstance(v, dict) and v.get("type") == t]
               for t in ("similarity", "analogy", "weat")}
    if of_type["similarity"]:
        L += _similarity_lines(of_type["similarity"])
    for k, v in of_type["analogy"]:
        L += _analogy_lines(k, v)
    for k, v in of_type["weat"]:
        L += _weat_lines(k, v)
    if res.get("antonyms"):
        L += _antonym_lines(res["antonyms"])
    if res.get("polysemy"):
        L += _polysemy_lines(res["polysemy"])
    return "\n".join(L)


def plot(res: dict, path, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from firth.io import atomic_write

    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    ax = axes[0, 0]
    sims = [(k, v) for k, v in res.items() if isinstance(v, dict) and v.get("type") == "similarity"]
    if sims:
        ax.barh([k for k, _ in sims][::-1], [(v["spearman"] if v["spearman"] == v["spearman"] else 0)
                                               for _, v in sims][::-1], color="tab:blue")
        ax.set_xlabel("Spearman rho")
        ax.set_xlim(min(0, *[v["spearman"] or 0 for _, v in sims]) - 0.05, 1)
    ax.set_title("word similarity")
    ax = axes[0, 1]
    an = [(k, v) for k, v in res.items() if isinstance(v, dict) and v.get("type") == "analogy"]
    if an:
        k, v = an[0]
        secs = v["sections"]
        y = range(len(secs))
        for off, m, col in ((-0.2, "add", "tab:green"), (0.2, "mul", "tab:orange")):
            if m in v["methods"]:
                ax.barh([i + off for i in y], [s[m]["accuracy"] if s["answered"] else 0 for s in secs],
                        height=0.4, label={"add": "3CosAdd", "mul": "3CosMul"}[m], color=col)
        ax.set_yticks(list(y))
        ax.set_yticklabels([s["name"] for s in secs], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("accuracy (answered questions)")
        ax.legend(fontsize=8)
        ax.set_title(f"analogies: {k}")
    ax = axes[1, 0]
    we = [(k, v) for k, v in res.items() if isinstance(v, dict) and v.get("type") == "weat"]
    if we:
        tests = we[0][1]["tests"]
        ids = list(tests)
        ax.bar([i - 0.2 for i in range(len(ids))], [tests[t]["effect_size"] or 0 for t in ids], width=0.4,
               label="these vectors")
        ax.bar([i + 0.2 for i in range(len(ids))], [tests[t].get("paper_effect_size") or 0 for t in ids],
               width=0.4, label="paper (GloVe)", color="tab:gray")
        ax.set_xticks(range(len(ids)))
        ax.set_xticklabels(ids, rotation=45, fontsize=8)
        ax.set_ylabel("effect size d")
        ax.axhline(0, color="k", lw=0.5)
        ax.legend(fontsize=8)
    ax.set_title("WEAT")
    ax = axes[1, 1]
    a = res.get("antonyms")
    if a:
        ks = ["antonym", "synonym", "random"]
        ax.bar(ks, [a[k]["mean"] or 0 for k in ks], yerr=[a[k]["std"] or 0 for k in ks], capsize=4,
               color=["tab:red", "tab:green", "tab:gray"])
        ax.set_ylabel("mean cosine")
    ax.set_title("antonyms vs synonyms vs random pairs")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format="png", dpi=110)
    plt.close(fig)
