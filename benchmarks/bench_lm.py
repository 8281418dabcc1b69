"""firth language models vs pytorch/examples word_language_model on en-mix-lm, same wall-clock budget.

Each configuration is one external process (``firth lm train ... --time-budget M``, then
``firth lm eval`` on test.txt), run under the shared lock one at a time, 2 threads; peak
RSS from ``/usr/bin/time``.

The anchor (``main.py``, unmodified, LSTM 2x200 with its defaults) has no time limit, only
whole epochs (one epoch of en-mix-lm is ~12 minutes here). At a budget of M minutes it is
given **one epoch over exactly the text a budget of M minutes reads**: a short probe run
measures its speed (tokens/s, from its own ``ms/batch`` lines), then the training text is
cut into the same 20 contiguous streams both programs use and the first
``M * 60 * speed / 20`` tokens of every stream are written out as its train.txt (valid and
test unchanged). One epoch of ``main.py`` over that file reads the same 20 streams a
budget-limited run reads on the full file, and ends with its own test evaluation. Its
training seconds are summed from its ``ms/batch`` lines (``--log-interval 50``), so the
table says how much time it actually had.

With ``--same-tokens`` firth trains on exactly that text too (``firth lm train --token-budget``,
the anchor's token count, on the full train.txt: the same 20 streams, read as far), so both
see the same data however loaded the machine is while each runs; speed is then compared
as tokens/s (each program's own training time, firth's from its history, the anchor's from
its ``ms/batch`` lines).

    python benchmarks/bench_lm.py --minutes 1.5 --anchor-speed 5413 --same-tokens --configs lstm-tied \
        --once lstm,lstm-adaptive --repeats 3
    python benchmarks/bench_lm.py --minutes 3 --configs lstm,lstm-tied --repeats 3
    python benchmarks/bench_lm.py --minutes 3 --configs lstm,lstm-adaptive --anchor-seconds 0
    flock /tmp/firth-heavy.lock python benchmarks/bench_lm.py --speed 70000 --repeats 3 --no-lock  # tokens/s only

flock is taken per process (``/tmp/firth-heavy.lock``), so no hold lasts longer than one run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "lm" / "en-mix-lm"
ANCHOR = ROOT.parent / "shared" / "anchors" / "pytorch-word-language-model"
LOCK = "/tmp/firth-heavy.lock"
NO_LOCK = False  # --no-lock: the caller holds the lock around this whole script
PY = sys.executable
FIRTH = str(Path(sys.executable).with_name("firth"))

# Zaremba's "small" is 2×200; every firth configuration has 2 layers, bptt 35, batch 20 like the anchor.
CONFIGS = {
    "lstm": ["--cell", "lstm", "--dropout", "0.2"],  # the anchor's own settings (SGD 20, clip 0.25)
    "lstm-tied": ["--cell", "lstm", "--dropout", "0.5", "--tied"],
    "lstm-tied-d02": ["--cell", "lstm", "--dropout", "0.2", "--tied"],  # less dropout: for budgets under an epoch
    "gru": ["--cell", "gru", "--dropout", "0.2"],
    "srnn": ["--cell", "srnn", "--dropout", "0.2", "--lr", "1", "--clip", "0.25"],
    "slstm": ["--cell", "slstm", "--dropout", "0.2", "--optimizer", "adam", "--lr", "0.002", "--clip", "1"],
    "mlstm": ["--cell", "mlstm", "--dropout", "0.2", "--optimizer", "adam", "--lr", "0.002", "--clip", "1"],
    "lstm-adaptive": ["--cell", "lstm", "--dropout", "0.2", "--adaptive-softmax", "1000,4000"],
    # the control for the sLSTM's lead: an LSTM with exactly the sLSTM's optimiser settings
    "lstm-adam": ["--cell", "lstm", "--dropout", "0.2", "--optimizer", "adam", "--lr", "0.002", "--clip", "1"],
}


def timed(cmd, env=None, timeout=None, cwd=None):
    """Run under the shared lock with /usr/bin/time: (returncode, output, seconds, peak RSS MiB).
    ``timeout`` (seconds) is applied inside the lock, to the program itself (coreutils timeout)."""
    inner = (["timeout", str(int(timeout))] if timeout else []) + cmd
    full = ([] if NO_LOCK else ["flock", LOCK]) + ["/usr/bin/time", "-f", "MAXRSS %M"] + inner
    t0 = time.perf_counter()
    p = subprocess.run(full, env=env, cwd=cwd, capture_output=True, text=True)
    out, rc = p.stdout + p.stderr, p.returncode
    secs = time.perf_counter() - t0
    m = re.findall(r"MAXRSS (\d+)", out)
    return rc, out, secs, (int(m[-1]) / 1024 if m else float("nan"))


def mib(rss):
    """Peak RSS in MiB, or None when /usr/bin/time printed none (the run was killed)."""
    return round(rss) if rss == rss else None


def run_firth(name, minutes, out_dir, threads, seed=1, tokens=0, valid=None, test=True):
    """``tokens``: stop after that many training tokens (the anchor's epoch) instead of ``minutes``.
    ``valid``: the validation text (default: valid.txt); ``test``: evaluate on test.txt."""
    model = out_dir / f"lm-{name}"
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    budget = ["--token-budget", str(tokens)] if tokens else ["--time-budget", str(minutes)]
    cmd = [FIRTH, "lm", "train", str(DATA / "train.txt"), "--valid", str(valid or DATA / "valid.txt"),
           "-o", str(model), "--workers", str(threads), *budget, "--seed", str(seed),
           "--quiet"] + CONFIGS[name]  # one validation, when the budget ends: seconds = training only
    # train and test in one hold of the lock (the machine is shared: one wait, not two)
    evaluate = [FIRTH, "lm", "eval", str(model), str(DATA / "test.txt"), "--workers", str(threads)]
    script = " ".join(map(shlex.quote, cmd)) + (" && echo TRAINED && " + " ".join(map(shlex.quote, evaluate))
                                                if test else "")
    rc, out, secs, rss = timed(["bash", "-c", script], env=env)
    if rc != 0:
        return {"config": name, "error": out.strip().splitlines()[-1:]}
    hist = json.loads((model / "config.json").read_text())["history"]
    n_tok = max(r["tokens"] for r in hist)
    train_secs = max(r["seconds"] for r in hist)
    best = min(r["valid_ppl"] for r in hist if r.get("valid_ppl") is not None)
    res = {"config": name, "valid_ppl": round(best, 2), "train_tokens": n_tok, "train_seconds": train_secs,
           "tokens_per_s": round(n_tok / train_secs), "peak_rss_mib": mib(rss), "args": CONFIGS[name]}
    if test:
        res["test_ppl"] = round(float(out.split("perplexity ")[1].split()[0]), 2)
    return res


def _anchor_cmd(data, epochs, seed, save, log_interval=50):
    return [PY, "main.py", "--data", str(data), "--emsize", "200", "--nhid", "200", "--epochs", str(epochs),
            "--seed", str(seed), "--log-interval", str(log_interval), "--save", str(save)]


def _anchor_env(threads):
    # main.py reloads its own saved model with torch.load (a pickled nn.Module): allowed for it only
    return dict(os.environ, OMP_NUM_THREADS=str(threads), TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD="1")


def _ms_per_batch(out):
    return [float(x) for x in re.findall(r"ms/batch\s+([\d.]+)", out)]


def run_anchor_probe(seconds, out_dir, threads):
    """The anchor's training speed on the full text: main.py under ``timeout``, median ms/batch."""
    rc, out, secs, rss = timed(_anchor_cmd(DATA, 1, 1111, out_dir / "anchor-probe.pt"), env=_anchor_env(threads),
                               cwd=ANCHOR, timeout=seconds)
    ms = _ms_per_batch(out)
    if not ms:
        raise SystemExit(f"anchor probe printed no ms/batch line in {seconds} s: {out.strip().splitlines()[-3:]}")
    return {"config": "anchor speed probe (full train.txt)", "tokens_per_s": round(20 * 35 / (median(ms) / 1000)),
            "peak_rss_mib": mib(rss)}


def _read_tokens(path):
    toks = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            toks.extend(line.split())
            toks.append("<eos>")
    return toks


def _as_lines(toks):
    """Tokens back to text lines, ``<eos>`` as line ends (a trailing partial line gets one)."""
    lines, cur = [], []
    for w in toks:
        if w == "<eos>":
            lines.append(" ".join(cur))
            cur = []
        else:
            cur.append(w)
    if cur:
        lines.append(" ".join(cur))
    return lines


def _write(path, lines):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def anchor_subset(tokens_per_stream, out_dir, batch=20, name="anchor-data", eval_tokens=0):
    """Write the first ``tokens_per_stream`` tokens of each of the ``batch`` contiguous training
    streams (the layout of both main.py and firth) as a text: ``<eos>`` tokens become line ends.
    Returns the directory (train.txt subset, valid/test linked) and its vocabulary size as main.py
    builds it (train ∪ valid ∪ test).

    ``eval_tokens`` > 0 (speed runs): valid.txt and test.txt are the first ``eval_tokens`` tokens
    of each instead, and valid.txt ends with one line holding every word of the full train.txt,
    so that main.py's vocabulary is firth's (10,000 words): the softmax, most of the work, is
    the same size in both programs."""
    toks = _read_tokens(DATA / "train.txt")
    per = len(toks) // batch
    t = min(int(tokens_per_stream), per)
    d = out_dir / name
    d.mkdir(parents=True, exist_ok=True)
    lines, vocab = [], set()
    for j in range(batch):
        lines += _as_lines(toks[j * per : j * per + t])  # a segment ending inside a line: one extra <eos>
        vocab.update(toks[j * per : j * per + t])
    _write(d / "train.txt", lines)
    for fname in ("valid.txt", "test.txt"):
        target = d / fname
        if eval_tokens:
            part = _read_tokens(DATA / fname)[:eval_tokens]
            extra = [" ".join(w for w in dict.fromkeys(toks) if w != "<eos>")] if fname == "valid.txt" else []
            if target.is_symlink():
                target.unlink()
            _write(target, _as_lines(part) + extra)
            vocab.update(part)
            vocab.update(toks if extra else [])
            continue
        if not target.exists():
            target.symlink_to(DATA / fname)
        vocab.update(_read_tokens(DATA / fname))
    vocab.add("<eos>")
    return d, len(vocab), t * batch


def run_anchor_budget(minutes, speed, seed, out_dir, threads):
    """One epoch of main.py over the text a budget of ``minutes`` reads at ``speed`` tokens/s."""
    d, vocab_size, n_tokens = anchor_subset(minutes * 60 * speed / 20, out_dir)
    limit = minutes * 60 * 3 + 600  # a safety net only; main.py ends by itself after one epoch
    rc, out, secs, rss = timed(_anchor_cmd(d, 1, seed, out_dir / "anchor.pt"), env=_anchor_env(threads),
                               cwd=ANCHOR, timeout=limit)
    res = {"config": "anchor", "seed": seed, "peak_rss_mib": mib(rss), "completed": rc == 0,
           "anchor_vocab": vocab_size, "train_tokens": n_tokens}
    ms = _ms_per_batch(out)
    nb = re.findall(r"\|\s+(\d+)/\s*(\d+) batches", out)
    m = re.search(r"End of training \| test loss\s+([\d.]+) \| test ppl\s+([\d.]+)", out)
    v = re.search(r"end of epoch\s+1 \| time:\s*([\d.]+)s \| valid loss\s+([\d.]+) \| valid ppl\s+([\d.]+)", out)
    if rc != 0 or not (ms and nb and m and v):
        res["error"] = out.strip().splitlines()[-3:]
        return res
    batches = int(nb[-1][1])
    # the logged intervals cover 50·k + 1 batches (the first one batches 0..50, divided by 50 in
    # main.py); the batches after the last log line at the median rate
    train_secs = (sum(ms) * 50 + (batches - 50 * len(ms) - 1) * median(ms)) / 1000
    tokens = (n_tokens // 20 - 1) * 20  # main.py's targets in one epoch
    res.update(test_ppl=float(m.group(2)), valid_ppl=float(v.group(3)), train_tokens=tokens,
               train_seconds=round(train_secs, 1), tokens_per_s=round(tokens / train_secs))
    return res


SPEED_LOG = 10  # main.py's --log-interval in speed runs: most batches of a short run are timed


def run_anchor_speed(data, vocab_size, n_tokens, seed, out_dir, threads):
    """main.py for one epoch on a speed subset; tokens/s over its logged intervals only
    (10·k + 1 full batches of 20 × 35 tokens, timed by main.py itself, evaluation excluded)."""
    rc, out, secs, rss = timed(_anchor_cmd(data, 1, seed, out_dir / "anchor-speed.pt", SPEED_LOG),
                               env=_anchor_env(threads), cwd=ANCHOR, timeout=1800)
    ms = _ms_per_batch(out)
    res = {"config": "anchor", "seed": seed, "peak_rss_mib": mib(rss), "anchor_vocab": vocab_size,
           "train_tokens": n_tokens}
    if rc != 0 or not ms:
        return {**res, "error": out.strip().splitlines()[-3:]}
    timed_tokens = (SPEED_LOG * len(ms) + 1) * 20 * 35
    seconds = sum(ms) * SPEED_LOG / 1000
    return {**res, "timed_tokens": timed_tokens, "train_seconds": round(seconds, 2),
            "tokens_per_s": round(timed_tokens / seconds)}


def run_speed(tokens, repeats, out_dir, threads, record):
    """Training speed, firth's untied LSTM (the anchor's settings) vs main.py, on the same text
    (the first ``tokens`` of the 20 training streams), ``repeats`` pairs, alternating which of the
    two runs first. Validation and test texts are cut to 5,000 tokens (both programs'
    evaluation is outside the timed part anyway), and main.py's vocabulary is firth's."""
    d, vocab_size, n_tokens = anchor_subset(tokens / 20, out_dir, name="speed-data", eval_tokens=5000)
    for r in range(1, repeats + 1):
        for who in (("anchor", "lstm") if r % 2 else ("lstm", "anchor")):
            if who == "anchor":
                res = run_anchor_speed(d, vocab_size, n_tokens, r, out_dir, threads)
            else:
                res = run_firth("lstm", 0, out_dir, threads, seed=r, tokens=n_tokens, valid=d / "valid.txt",
                                test=False)
            record({**res, "seed": r, "speed_pair": r})


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def summarize(results, names):
    """Medians per configuration over its successful runs, and the ratios to the anchor."""
    print(f"\nmedians over the runs of each configuration:")
    summary = {}
    for name in names:
        rs = [r for r in results if r["config"] == name and "error" not in r]
        if not rs:
            print(f"  {name}: no successful run")
            continue
        summary[name] = {k: median([r[k] for r in rs]) for k in ("test_ppl", "valid_ppl", "tokens_per_s",
                                                                  "train_tokens", "peak_rss_mib", "train_seconds")
                         if all(r.get(k) is not None for r in rs)}
        ppl = (f"test ppl {summary[name]['test_ppl']:.2f} (runs: {[r['test_ppl'] for r in rs]}), "
               if "test_ppl" in summary[name] else "")
        print(f"  {name}: {ppl}tokens/s {summary[name]['tokens_per_s']:.0f} (runs: {[r['tokens_per_s'] for r in rs]}), "
              f"{summary[name]['train_tokens']:.0f} tokens in {summary[name]['train_seconds']:.0f} s, "
              f"peak RSS {summary[name].get('peak_rss_mib', float('nan')):.0f} MiB")
    base = summary.get("anchor")
    for name in names:
        if base and name in summary and name != "anchor":
            ppl = (f"test ppl ratio {summary[name]['test_ppl'] / base['test_ppl']:.3f}, "
                   if "test_ppl" in summary[name] and "test_ppl" in base else "")
            print(f"  {name} / anchor: {ppl}tokens/s ratio {summary[name]['tokens_per_s'] / base['tokens_per_s']:.2f}")
    pairs = {}
    for r in results:
        if "speed_pair" in r and "error" not in r:
            pairs.setdefault(r["speed_pair"], {})[r["config"]] = r["tokens_per_s"]
    ratios = [p["lstm"] / p["anchor"] for p in pairs.values() if {"lstm", "anchor"} <= set(p)]
    if ratios:
        print(f"  speed pairs: firth / anchor tokens/s per pair {[round(x, 3) for x in ratios]}, "
              f"median {median(ratios):.3f}")
    if "lstm" in summary and "lstm-adaptive" in summary:
        a, f = summary["lstm-adaptive"], summary["lstm"]
        print(f"  adaptive / full softmax: tokens/s ratio {a['tokens_per_s'] / f['tokens_per_s']:.2f}, "
              f"test ppl {a['test_ppl']:.2f} vs {f['test_ppl']:.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=3.0, help="training budget per run (firth and the anchor)")
    ap.add_argument("--configs", default="lstm,lstm-tied,gru,srnn,slstm,mlstm", help="comma-separated, of " +
                    ",".join(CONFIGS))
    ap.add_argument("--repeats", type=int, default=1, help="runs of everything (seeds 1..N); medians reported")
    ap.add_argument("--anchor-seconds", type=float, default=75,
                    help="timeout of the anchor's speed probe; 0 = no anchor at all")
    ap.add_argument("--anchor-speed", type=float, help="the anchor's tokens/s from an earlier probe (skips the probe)")
    ap.add_argument("--once", default="", help="configurations run once (seed 1, the first repeat's budget), "
                                                "after the repeats")
    ap.add_argument("--same-tokens", action="store_true",
                    help="firth trains on exactly the anchor's epoch (--token-budget) instead of --minutes: the same "
                         "text for both, robust to a loaded machine; speed is compared separately (tokens/s)")
    ap.add_argument("--seeds", help="comma-separated seeds (instead of --repeats: seeds 1..N)")
    ap.add_argument("--token-budget", type=int, default=0,
                    help="firth runs stop after this many training tokens (without an anchor run in this process)")
    ap.add_argument("--no-lock", action="store_true", help="do not take the lock per run (the caller holds it)")
    ap.add_argument("--summarize", nargs="+", metavar="JSONL", help="only print medians and ratios of recorded runs")
    ap.add_argument("--speed", type=int, default=0, metavar="TOKENS",
                    help="only the speed comparison: --repeats pairs of short runs (firth's untied LSTM, the "
                         "anchor), each on the first TOKENS training tokens, interleaved; medians and the ratio")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="/tmp/bench_lm", help="scratch directory for models")
    ap.add_argument("--json", help="append results (one JSON object per line) to this file")
    args = ap.parse_args()
    global NO_LOCK
    NO_LOCK = args.no_lock
    if args.summarize:
        rs = [json.loads(line) for f in args.summarize for line in open(f) if line.strip()]
        names = list(dict.fromkeys(r["config"] for r in rs if not r["config"].startswith("anchor speed")))
        summarize(rs, sorted(names, key=lambda n: n != "anchor"))
        return
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    configs = [c for c in args.configs.split(",") if c]
    results = []

    def record(r):
        results.append(r)
        print(json.dumps(r), flush=True)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps({**r, "date": time.strftime("%Y-%m-%d %H:%M"), "minutes": args.minutes}) + "\n")

    if args.speed:
        run_speed(args.speed, args.repeats, out_dir, args.threads, record)
        summarize(results, ["anchor", "lstm"])
        return
    anchor = args.anchor_seconds > 0 or args.anchor_speed
    speed = args.anchor_speed
    if anchor and not speed:
        record(run_anchor_probe(args.anchor_seconds, out_dir, args.threads))
        speed = results[-1]["tokens_per_s"]
    once = [c for c in args.once.split(",") if c]
    first_tokens = 0
    seeds = [int(x) for x in args.seeds.split(",")] if args.seeds else range(1, args.repeats + 1)
    for seed in seeds:
        tokens = args.token_budget
        if anchor:
            record(run_anchor_budget(args.minutes, speed, seed, out_dir, args.threads))
            if args.same_tokens and "error" not in results[-1]:
                tokens = results[-1]["train_tokens"]
        for name in configs:
            record({**run_firth(name, args.minutes, out_dir, args.threads, seed, tokens), "seed": seed})
        if not first_tokens:
            first_tokens = tokens
    for name in once:  # after the repeats: the comparisons that matter most come first
        record({**run_firth(name, args.minutes, out_dir, args.threads, 1, first_tokens), "seed": 1})
    configs += once
    summarize(results, (["anchor"] if anchor else []) + configs)


if __name__ == "__main__":
    main()
