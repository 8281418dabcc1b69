"""Check `firth evaluate` against gensim on real vectors: every bundled similarity set
(Spearman, Pearson, OOV count) and the Google analogies (3CosAdd, correct/answered counts per
section), same vectors, same policy (case-insensitive, skip unknown, restrict 30,000).

    flock /tmp/firth-heavy.lock python benchmarks/check_evaluate_agreement.py VECTORS [--restrict 30000]

gensim answers the analogies one question at a time, so this takes a minute or more.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("vectors")
    ap.add_argument("--restrict", type=int, default=30000)
    ap.add_argument("--no-analogies", action="store_true")
    a = ap.parse_args()
    from gensim.models import KeyedVectors as GKV

    from firth.vectors import load_vectors
    from firth.evaluate.analogy import evaluate_analogies
    from firth.evaluate.datasets import ANALOGY_FILE, bundled_similarity_files
    from firth.evaluate.similarity import evaluate_similarity

    kv = load_vectors(a.vectors)
    g = GKV(kv.vector_size)
    g.add_vectors(kv.index_to_key, np.asarray(kv.vectors, dtype=np.float32))
    worst = 0.0
    ok = True
    for p in bundled_similarity_files():
        r = evaluate_similarity(kv, p)
        pr, sp, oov = g.evaluate_word_pairs(str(p), restrict_vocab=len(kv))
        g_oov = round(oov / 100 * r["pairs"])
        d = max(abs(r["spearman"] - sp[0]), abs(r["pearson"] - pr[0]))
        worst = max(worst, d)
        ok &= d < 1e-6 and g_oov == r["oov"]
        print(f"{p.stem:<12} firth rho {r['spearman']:.6f} r {r['pearson']:.6f} oov {r['oov']:>4} | "
              f"gensim rho {sp[0]:.6f} r {pr[0]:.6f} oov {g_oov:>4} | max |diff| {d:.1e}")
    print(f"similarity: largest difference {worst:.1e} (threshold 1e-6)")
    if not a.no_analogies:
        t = time.perf_counter()
        r = evaluate_analogies(kv, ANALOGY_FILE, methods=["add"], restrict=a.restrict)
        t_f = time.perf_counter() - t
        t = time.perf_counter()
        _, secs = g.evaluate_word_analogies(str(ANALOGY_FILE), restrict_vocab=a.restrict)
        t_g = time.perf_counter() - t
        gs = {s["section"]: (len(s["correct"]), len(s["correct"]) + len(s["incorrect"])) for s in secs}
        same = 0
        for s in r["sections"]:
            mine = (s["add"]["correct"], s["answered"])
            same += mine == gs[s["name"]]
            if mine != gs[s["name"]]:
                print(f"  {s['name']}: firth {mine} gensim {gs[s['name']]}")
        tot = (r["total"]["add"]["correct"], r["total"]["answered"])
        print(f"analogies 3CosAdd: firth correct/answered {tot}, gensim {gs['Total accuracy']}; "
              f"{same}/{len(r['sections'])} sections identical; firth {t_f:.2f} s, gensim {t_g:.1f} s")
        ok &= tot == gs["Total accuracy"]
    print("AGREE" if ok else "DIFFER")


if __name__ == "__main__":
    main()
