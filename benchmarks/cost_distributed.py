"""The cost model of `firth train --distributed` (docs/distributed.md), checked against the bytes
bench_distributed.py measured, then used to predict a 1-billion-word corpus on 8, 32 and 128
machines at 10 and 100 Gb/s.

    python benchmarks/bench_distributed.py --ranks 0,1,2,4,8 --sync-words 50000 --log dist.jsonl
    python benchmarks/cost_distributed.py dist.jsonl

Model of one synchronisation, per rank (firth/train/sync.py), for 2 matrices of V rows x d:

    payload   = 2 V  +  4 d U(P S)          bytes put into all-reduces (V flags per matrix, then
                                            the touched rows' float32 deltas)
    U(n)      = sum over words of           rows touched (both matrices, union over ranks) by the
                (1 - e^-k_w) + (1 - e^-(k_w + g K q_w))   n = P S words trained: k_w kept
                                            occurrences of w (word2vec subsampling) in n words,
                                            K = sum k_w, q_w ~ count^0.75 the noise distribution,
                                            g output rows drawn per kept token, fitted at P = 1;
                                            P = 2, 4, 8 are predictions compared with the bytes
    t_sync    = 2 V c_scan + payload_wire / B + 4 * 2 (P-1) alpha
    payload_wire = 2 (P-1)/P payload        a ring all-reduce sends this much per rank
    t_compute = S / R                       S words per rank between syncs, R words/s per machine
    efficiency = t_compute / (t_compute + t_sync)   (the threads wait during a sync)

c_scan (seconds per row to find the changed rows, d = 100) is measured here on this machine;
R is T threads times one thread's training words/s measured on a quiet machine (1.11M,
benchmarks/RESULTS.md; T = 16, assuming firth's Hogwild threads scale near-linearly as they
did from 1 to 2: an assumption, stated in the output); alpha = 50 us per
all-reduce step (gloo over TCP, an assumption). The 1-billion-word corpus is taken as
V = 1,000,000 words with Zipf counts (an assumption, stated).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_word2vec import make_corpus  # noqa: E402


def scan_seconds_per_row(d: int = 100, rows: int = 200_000) -> float:
    from firth.train.sync import changed_rows

    m = np.random.default_rng(0).standard_normal((rows, d), dtype=np.float32)
    b = m.copy()
    m[::7] += 1
    ts = []
    for _ in range(5):
        t = time.perf_counter()
        changed_rows(m, b)
        ts.append(time.perf_counter() - t)
    return sorted(ts)[2] / rows


def touched_rows(counts: np.ndarray, n: float, g: float, sample: float = 1e-3, window: int = 5) -> float:
    """Expected rows touched (input + output matrix) when n words of a corpus with these
    word counts are trained: a kept token (word2vec subsampling) touches its input row and,
    as a positive target, its output row; each kept token also draws ``g`` negatives from
    the unigram^0.75 distribution (output rows). 1 - exp(-expected touches) per row."""
    c = counts.astype(np.float64)
    T = c.sum()
    st = sample * T
    keep = np.minimum(1.0, (np.sqrt(c / st) + 1.0) * st / c) if sample else np.ones_like(c)
    kept = n * (c / T) * keep  # expected kept occurrences of each word in n words
    q = c**0.75
    q /= q.sum()
    draws = g * kept.sum()
    return float(np.sum(1 - np.exp(-kept)) + np.sum(1 - np.exp(-kept - draws * q)))


def fit_negatives(counts, n, rows) -> float:
    """The negatives per kept token (g) that make touched_rows match a measurement."""
    lo, hi = 0.0, 200.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if touched_rows(counts, n, mid) < rows:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def zipf_counts(tokens: float, vocab: int, min_count: int = 5) -> np.ndarray:
    """Counts of a Zipf (exponent 1) corpus of ``tokens`` words whose rarest kept word occurs
    ``min_count`` times: the rank-r word occurs min_count * vocab / r times."""
    r = np.arange(1, vocab + 1, dtype=np.float64)
    c = min_count * vocab / r
    return c * (tokens / c.sum()) if c.sum() > tokens else c


def corpus_counts(path, min_count: int = 5) -> np.ndarray:
    from collections import Counter

    cnt = Counter()
    with open(path, encoding="utf-8") as f:
        for line in f:
            cnt.update(line.split())
    return np.array(sorted((v for v in cnt.values() if v >= min_count), reverse=True), dtype=np.float64)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("log", help="bench_distributed.py --log output (JSON lines)")
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--threads", type=int, default=16, help="threads per machine in the prediction")
    ap.add_argument("--alpha-us", type=float, default=50.0)
    ap.add_argument("--thread-rate", type=float, default=1.11e6,
                    help="training words/s of one thread (default: skip-gram, HogBatch, measured on a quiet machine, "
                         "benchmarks/RESULTS.md word2vec 'Speed'; 1 -> 2 threads scaled 1.99x there)")
    ap.add_argument("--big-vocab", type=int, default=1_000_000)
    ap.add_argument("--big-words", type=float, default=1e9)
    a = ap.parse_args(argv)
    rows = [json.loads(x) for x in open(a.log) if x.strip()]
    dist = {r["ranks"]: r for r in rows if r.get("ranks", 0) >= 1 and "mib_per_sync_per_rank" in r}
    d = a.dim
    first = next(iter(dist.values()))
    S = first["sync_words"]
    counts = corpus_counts(make_corpus(first["words"]))
    V = len(counts)
    if first.get("vocab") not in (None, V):
        raise SystemExit(f"vocabulary {V} counted here, {first['vocab']} in the log: not the same corpus")
    # measured payloads -> touched rows; the negatives per kept token fitted at 1 rank
    U = {P: (r["mib_per_sync_per_rank"] * 2**20 - 2 * V) / (4 * d) for P, r in sorted(dist.items())}
    if 1 not in U:
        raise SystemExit("need a measurement at 1 rank to fit the model")
    g = fit_negatives(counts, S, U[1])

    def payload(P, s, cnt):
        return 2 * len(cnt) + 4 * d * touched_rows(cnt, P * s, g)

    print(f"measured corpus: first {first['words']:,} words of en-mix, V = {V:,} rows x d = {d}, "
          f"S = {S:,} words per rank between syncs")
    print(f"touched rows from the corpus counts; {g:.2f} output rows drawn per kept token (fitted at 1 rank)")
    print("| ranks | measured MiB/sync/rank | model | error |")
    print("|---|---|---|---|")
    for P, r in sorted(dist.items()):
        m = payload(P, S, counts) / 2**20
        print(f"| {P} | {r['mib_per_sync_per_rank']:.2f} | {m:.2f} | {100 * (m / r['mib_per_sync_per_rank'] - 1):+.1f}% |")
    c_scan = scan_seconds_per_row(d)
    r1 = a.thread_rate
    R = a.threads * r1
    alpha = a.alpha_us * 1e-6
    Vb, N = a.big_vocab, a.big_words
    big = zipf_counts(N, Vb)
    print(f"\nscan: {c_scan * 1e9:.0f} ns per row (d = {d}) on this machine; one thread {r1:,.0f} training words/s "
          f"-> R = {a.threads} x that = {R:,.0f} words/s per machine (assumed linear)")
    print(f"prediction: {N:.0e} words, V = {Vb:,} words with Zipf counts (assumed), "
          f"alpha = {a.alpha_us:.0f} us per all-reduce step\n")

    def t_sync(P, s, B):
        wire = 2 * (P - 1) / P * payload(P, s, big)
        return 2 * Vb * c_scan + wire * 8 / B + 4 * 2 * (P - 1) * alpha

    def eff(P, s, B):
        tc = s / R
        return tc / (tc + t_sync(P, s, B))

    print("| machines | link | ideal epoch | at S = 50k: efficiency, epoch | S for >= 80% | syncs/epoch | epoch at that S | MiB/sync/rank |")
    print("|---|---|---|---|---|---|---|---|")
    for P in (8, 32, 128):
        for gb in (10, 100):
            B = gb * 1e9
            ideal = N / (P * R)
            e50 = eff(P, 50_000, B)
            share = N / P
            s80 = None
            s = 1_000.0
            while s <= share:
                if eff(P, s, B) >= 0.8:
                    s80 = s
                    break
                s *= 1.05
            if s80 is None:
                e1 = eff(P, share, B)
                tail = f"none (one sync per epoch: {100 * e1:.0f}%) | 1 | {ideal / e1:.1f} s | {payload(P, share, big) / 2**20:.0f}"
            else:
                tail = (f"{s80:,.0f} words | {share / s80:,.0f} | {ideal / eff(P, s80, B):.1f} s | "
                        f"{payload(P, s80, big) / 2**20:.0f}")
            print(f"| {P} | {gb} Gb/s | {ideal:.1f} s | {100 * e50:.0f}%, {ideal / e50:.1f} s | {tail} |")


if __name__ == "__main__":
    main()
