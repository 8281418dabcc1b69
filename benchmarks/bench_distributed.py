"""firth train --distributed vs the single process: quality (Google analogies, WS353) and
whole-process speed, on the same corpus, settings and machine, in one run.

Each run is a child process (``firth train`` alone, or ``torchrun --standalone
--nproc-per-node P -m firth train ... --distributed``: imports, reading the corpus, the
vocabulary, training, saving), its wall time measured here, under the shared lock. The
vectors are judged as benchmarks/quality_word2vec.py does (gensim's
``evaluate_word_analogies(questions-words, restrict_vocab=30000)`` and WS353 Spearman).
Bytes: the payload each rank puts into its all-reduces, read from the saved vectors'
``meta["distributed"]``; a ring all-reduce sends about 2(P-1)/P of it per rank.

    python benchmarks/bench_distributed.py --ranks 0,2,4,8               # quality table (0 = single process)
    python benchmarks/bench_distributed.py --ranks 0,2 --sync-words 100000,300000,1000000
    python benchmarks/bench_distributed.py --speed --runs 3                # 2 ranks x 1 thread vs 1 x 1
    python benchmarks/bench_distributed.py --speed --ceiling --words 0 --runs 3 --configs 0:default:default

The corpus is the first ``--words`` words of en-mix, 1,000 words per line (bench_word2vec's cache).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_word2vec import heavy_lock as lock  # noqa: E402  (same directory)
from bench_word2vec import make_corpus  # noqa: E402
from quality_word2vec import evaluate  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def timed(cmd, env, use_lock):
    """Run cmd (under the shared lock unless told not to); wall seconds and the finished process."""
    with lock(use_lock):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
    if p.returncode:
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-3000:]}")
    return wall, p


RANK_LINE = re.compile(r"rank (\d+): vocabulary ([\d.]+) s, training ([\d.]+) s of which syncs ([\d.]+) s \(([^)]*)\), "
                       r"since start ([\d.]+) s")


def run_firth(corpus: Path, out: Path, ranks: int, args, sync_words: int, mode: str, use_lock: bool,
              sync_rare: float | None = None, wire: str | None = "float32", overlap: bool | None = None) -> dict:
    common = ["train", str(corpus), "-o", str(out), "--format", "word2vec-binary", "--model", args.model,
              "--epochs", str(args.epochs), "--workers", str(args.workers), "--seed", str(args.seed), "-q"]
    if ranks == 0:  # the single process, no torch
        cmd = [PY, "-m", "firth", *common]
    else:
        # hot16: --sync-mode hot --sync-hot 16; bound1.5: --sync-mode bound --sync-bound 1.5;
        # ohot16: --sync-mode hot --sync-hot 16 --sync-overlap (hot rows averaged, overlapped)
        par = re.fullmatch(r"(hot|bound)([\d.]+)", mode)
        ohot = re.fullmatch(r"ohot([\d.]+)", mode)
        cmd = [PY, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(ranks), "-m", "firth", *common,
               "--distributed"]
        if wire not in (None, "default"):  # else firth's default (bfloat16 when overlapped)
            cmd += ["--sync-wire", wire]
        if sync_rare is not None:  # else firth's default for this number of ranks
            cmd += ["--sync-rare", str(sync_rare)]
        if ohot:
            cmd += ["--sync-mode", "hot", "--sync-hot", ohot.group(1), "--sync-overlap"]
        elif mode == "overlap" or overlap:  # the summed sync, its exchange overlapped with training
            cmd += ["--sync-mode", "sum", "--sync-overlap"]
        elif mode == "blocking" or overlap is False:  # the summed sync, every rank waiting for it
            cmd += ["--sync-mode", "sum", "--no-sync-overlap"]
        elif mode != "default":  # default: firth's (sum at 1-2 ranks, its default from 3)
            cmd += ["--sync-mode", par.group(1) if par else mode]
        if par:
            cmd += [f"--sync-{par.group(1)}", par.group(2)]
        if sync_words:  # else firth's default: 100,000 (1-2 ranks) or 6,250 (3+) words / the number of ranks
            cmd += ["--sync-words", str(sync_words)]
        cmd.remove("-q")  # rank 0's summary line carries the sync figures
    env = dict(os.environ, OMP_NUM_THREADS="1")
    wall, p = timed(cmd, env, use_lock)
    r = {"wall_s": round(wall, 2)}
    if ranks:
        r["words_per_rank_per_sync"] = sync_words or (100_000 if ranks <= 2 else 6_250) // ranks  # firth's default
    m = re.search(r"(\d+) syncs, ([\d.]+) MiB per sync per rank", p.stderr)
    if m:
        r.update(syncs=int(m.group(1)), mib_per_sync_per_rank=float(m.group(2)),
                 mib_per_epoch_per_rank=round(int(m.group(1)) * float(m.group(2)) / args.epochs, 1))
    m = re.search(r"MiB per sync per rank \(([\d.]+) MiB sent\)", p.stderr)
    if m:  # what ring collectives send from each rank (Adasum's all-gather: (P-1) x its input)
        r["mib_sent_per_sync_per_rank"] = float(m.group(1))
    m = re.search(r"([\d.]+) s in syncs, (\d+) rows synced", p.stderr)
    if m:
        r.update(sync_s_rank0=float(m.group(1)), rows_synced=int(m.group(2)))
    per_rank = {}
    for m in RANK_LINE.finditer(p.stderr):  # where each rank's time went
        phases = {k: float(v) for k, v in (x.rsplit(" ", 1) for x in m.group(5).split(", "))}
        per_rank[int(m.group(1))] = {"vocab_s": float(m.group(2)), "train_s": float(m.group(3)),
                                     "sync_s": float(m.group(4)), **{f"{k}_s": v for k, v in phases.items()},
                                     "since_join_s": float(m.group(6))}
    if per_rank:
        r["per_rank"] = [per_rank[k] for k in sorted(per_rank)]
    m = re.search(r": ([\d,]+) words x (\d+) dims", p.stderr)
    if m:
        r.update(vocab=int(m.group(1).replace(",", "")), dim=int(m.group(2)))
    return r


NOOP_RANK = """import torch.distributed as d
d.init_process_group("gloo")
d.barrier()
d.destroy_process_group()
"""


def split_halves(corpus: Path, tmp: Path) -> list[Path]:
    """The corpus cut in two at the middle line (the ranks' shares, roughly)."""
    lines = corpus.read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    out = [tmp / "half-0.txt", tmp / "half-1.txt"]
    out[0].write_bytes(b"".join(lines[:half]))
    out[1].write_bytes(b"".join(lines[half:]))
    return out


def ceiling_runs(halves: list[Path], tmp: Path, args) -> dict:
    """What 2 ranks could reach at best on this machine: two independent ``firth train`` on
    the two halves at once (no torch, no communication: the cores', memory's and caches' limit),
    and torchrun starting and stopping 2 ranks that only import torch and join the group."""
    common = ["--format", "word2vec-binary", "--model", args.model, "--epochs", str(args.epochs),
              "--workers", str(args.workers), "--seed", "1", "-q"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    t0 = time.perf_counter()
    ps = [subprocess.Popen([PY, "-m", "firth", "train", str(h), "-o", str(tmp / f"half-{k}.bin"), *common], cwd=ROOT, env=env)
          for k, h in enumerate(halves)]
    if any(p.wait() for p in ps):
        raise SystemExit("a half run failed")
    halves_s = time.perf_counter() - t0
    noop = tmp / "noop_rank.py"
    noop.write_text(NOOP_RANK)
    wall, _ = timed([PY, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", str(noop)], env, False)
    return {"halves_s": round(halves_s, 2), "torchrun_noop_s": round(wall, 2)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--words", type=int, default=5_000_000)
    ap.add_argument("--ranks", default="0,2,4,8", help="rank counts (0 = the single process without --distributed)")
    ap.add_argument("--sync-words", default="0", help="words per rank between syncs, comma-separated (0: firth's default)")
    ap.add_argument("--mode", default="sum", help="firth's --sync-mode values to try: sum, mean, touched, hot, hotX (--sync-hot X), adasum, bound, overlap / blocking (sum with / without --sync-overlap), ohotX (hot, --sync-hot X, overlapped), "
                    "boundX (--sync-bound X), default (comma-separated)")
    ap.add_argument("--wire", default="default", help="firth's --sync-wire values to try: float32, bfloat16, default (firth's)")
    ap.add_argument("--sync-rare", default="default",
                    help="firth's --sync-rare values to try (comma-separated; 0 = every row every sync; default: firth's for the ranks)")
    ap.add_argument("--model", default="sg")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--speed", action="store_true", help="whole-process words/s: 2 ranks vs the single process, --runs each, interleaved")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--configs", default=None,
                    help="--speed: 2-rank configurations SYNC_WORDS:SYNC_RARE:WIRE[:overlap|:blocking], comma-separated; 0 / default: "
                         "firth's default (e.g. 0:default:default is firth's defaults, 0:0:float32:blocking every touched row every sync)")
    ap.add_argument("--ceiling", action="store_true",
                    help="--speed: also time two independent single processes on the two halves at once and torchrun "
                         "starting 2 ranks that do nothing (the best 2 ranks could reach on this machine)")
    ap.add_argument("--no-lock", action="store_true")
    ap.add_argument("--hold-lock", action="store_true", help="hold the shared lock across all training runs (judge after)")
    ap.add_argument("--log", default=None, help="append each result as a JSON line")
    a = ap.parse_args(argv)
    corpus = make_corpus(a.words or None)
    tmp = Path(tempfile.mkdtemp(prefix="firth-bench-dist-"))
    use_lock = not a.no_lock
    rows = []

    def log(r):
        rows.append(r)
        print(json.dumps(r), flush=True)
        if a.log:
            with open(a.log, "a") as f:
                f.write(json.dumps(r) + "\n")

    syncs = [int(x) for x in a.sync_words.split(",")]
    rares = [None if x == "default" else float(x) for x in a.sync_rare.split(",")]
    if a.speed:
        # every configuration (sync words x rare x wire) against the single process, interleaved, all
        # runs under one hold of the shared lock (the machine's state is the same for all of them);
        # the first run of each configuration is then judged for quality, outside the lock
        words = a.words * a.epochs
        confs = ([(int(c[0]), None if c[1] == "default" else float(c[1]), c[2], {"overlap": True, "blocking": False}.get(c[3] if len(c) > 3 else ""))
                  for c in (x.split(":") for x in a.configs.split(","))] if a.configs
                 else [(sw, rare, wire, None) for sw in syncs for rare in rares for wire in a.wire.split(",")])
        halves = split_halves(corpus, tmp) if a.ceiling else None
        ceil = []
        mode = a.mode.split(",")[0]
        times = {c: [] for c in [None, *confs]}
        splits = {c: [] for c in confs}
        with lock(use_lock):
            for k in range(a.runs):
                r = run_firth(corpus, tmp / f"speed-0-{k}.bin", 0, a, 0, mode, False)
                times[None].append(r["wall_s"])
                if halves:
                    ceil.append(ceiling_runs(halves, tmp, a))
                    print(json.dumps({"run": k, "single_s": r["wall_s"], **ceil[-1]}), flush=True)
                for j, c in enumerate(confs):
                    sw, rare, wire, overlap = c
                    r = run_firth(corpus, tmp / f"speed-2-{j}-{k}.bin", 2, a, sw, mode, False, rare, wire, overlap)
                    times[c].append(r["wall_s"])
                    splits[c].append(r.get("per_rank"))
                    print(json.dumps({"run": k, "sync_words": sw, "sync_rare": rare, "wire": wire, "overlap": overlap, **r}),
                          flush=True)
        m0 = statistics.median(times[None])
        if ceil:  # the best 2 processes can do here, without and with torchrun's own start and stop
            mh = statistics.median(x["halves_s"] for x in ceil)
            mn = statistics.median(x["torchrun_noop_s"] for x in ceil)
            log({"what": "ceiling", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "words": words,
                 "single_s": times[None], "runs": ceil, "halves_ratio": round(m0 / mh, 3),
                 "halves_plus_torchrun_ratio": round(m0 / (mh + mn), 3)})
        for j, c in enumerate(confs):
            m2 = statistics.median(times[c])
            q = evaluate(tmp / f"speed-2-{j}-0.bin")
            log({"what": "speed", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "words": words,
                 "single_s": times[None], "two_ranks_s": times[c], "single_words_per_s": round(words / m0),
                 "two_ranks_words_per_s": round(words / m2), "ratio": round(m0 / m2, 3), "sync_words": c[0],
                 "sync_rare": c[1], "wire": c[2], "overlap": c[3], "mode": mode, "per_rank_splits": splits[c],
                 "google_acc": q["google_acc"], "ws353_spearman": q["ws353_spearman"]})
        return
    plan = [(ranks, sw, rare, mode, wire)
            for ranks in [int(x) for x in a.ranks.split(",")]
            for sw, rare in ([(x, y) for x in syncs for y in rares] if ranks > 0 else [(0, 0.0)])
            for mode, wire in ([(x, y) for x in a.mode.split(",") for y in a.wire.split(",")] if ranks > 0 else [("-", "-")])]

    def one(ranks, sw, rare, mode, wire, locked):
        out = tmp / f"v-{ranks}-{sw}-{rare}-{mode}-{wire}.bin"
        r = {"ranks": ranks, "sync_words": sw, "sync_rare": rare, "mode": mode, "wire": wire, "words": a.words, "seed": a.seed,
             "model": a.model, "epochs": a.epochs, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
        try:
            r.update(run_firth(corpus, out, ranks, a, sw, mode, locked, rare, wire))
        except SystemExit as e:  # e.g. diverged: recorded, the other runs go on
            r["failed"] = [x.strip()[-200:] for x in str(e).splitlines() if "FloatingPointError:" in x or "firth: error" in x][-1:]
        return r, out

    if a.hold_lock:  # all training runs under one hold of the lock, then the (slow) judging after it
        with lock(use_lock):
            done = [one(*p, False) for p in plan]
    else:
        done = None
    base = None
    for k, p in enumerate(plan):
        r, out = done[k] if done else one(*p, use_lock)
        ranks, sw = p[0], p[1]
        if "failed" not in r:
            r.update(evaluate(out))
            if ranks == 1 and sw == syncs[0] or ranks == 0:
                base = base or r
            if base is not None and r is not base:
                r["d_google"] = round(r["google_acc"] - base["google_acc"], 2)
                r["d_ws353"] = round(r["ws353_spearman"] - base["ws353_spearman"], 4)
        log(r)

if __name__ == "__main__":
    main()
