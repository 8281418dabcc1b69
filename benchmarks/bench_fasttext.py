"""fastText side by side: firth's subword trainer vs the `fasttext-numpy2` package (Facebook's C++).

Speed (issue 3: firth's whole-process time at most 1/1.5 of fastText's; issue 7 wants 1/3):
the first 5M words of en-mix written 1,000 words per line; dim 100, window 5, negative 5,
minn 3, maxn 6, bucket 2M, 1 epoch, sample 1e-3, min_count 5, lr 0.05 (fastText's default,
given to both), 2 threads; each tool in its own process, timed from launch to exit (imports,
vocabulary, training, saving: what a user waits for), peak RSS from the OS; medians of
``--runs`` runs. Plain firth skip-gram (no subwords) is trained on the same text as the
rare-word baseline.

Quality on the same models: Stanford Rare Words (RW) Spearman with every pair counted --
fastText models (both) give unseen words their n-gram vectors; the plain skip-gram gives
them no vector (cosine 0, as in Bojanowski et al. 2017) -- and WS353. All vectors are judged
by the same code: Facebook's model is read by firth's .bin reader (equal to
``get_word_vector`` to 1e-5, see tests/vectors/test_fasttext_format.py).

    flock /tmp/firth-heavy.lock python benchmarks/bench_fasttext.py --runs 3

``--full`` instead trains both on the whole en-mix for 5 epochs (once) and adds the Google
analogy accuracy (30,000 most frequent words, gensim's evaluate_word_analogies as the judge
on exported vectors) -- a long run: start it with nohup under the lock.
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
EN_MIX = SHARED / "corpora" / "en-mix" / "en-mix.txt.xz"
SIM = SHARED / "eval" / "similarity"
ANALOGY = SHARED / "eval" / "analogy" / "questions-words.txt"


def prepare_corpus(out: Path, n_words: int = 5_000_000, per_line: int = 1000) -> Path:
    if out.exists():
        return out
    words: list[str] = []
    with lzma.open(EN_MIX, "rt", encoding="utf-8") as f:
        carry = ""
        while len(words) < n_words:
            block = f.read(1 << 22)
            if not block:
                break
            parts = (carry + block).split(" ")
            carry = parts.pop()
            words.extend(parts)
        if len(words) < n_words and carry:
            words.append(carry)
    words = words[:n_words]
    tmp = out.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as g:
        for i in range(0, len(words), per_line):
            g.write(" ".join(words[i : i + per_line]) + "\n")
    os.replace(tmp, out)
    return out


def full_corpus(out: Path) -> Path:
    if not out.exists():
        tmp = out.with_suffix(".tmp")
        with lzma.open(EN_MIX, "rb") as f, open(tmp, "wb") as g:
            while chunk := f.read(1 << 24):
                g.write(chunk)
        os.replace(tmp, out)
    return out


def _anon_huge_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("AnonHugePages:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def run_child(cmd: list[str]) -> tuple[float, float]:
    """Wall time and peak RSS (MB) of one child process (RSS via wait4).

    Also prints how much of the child's memory sat on transparent huge pages (sampled every
    0.2 s): random rows of an 800 MB bucket matrix cost a TLB miss each on 4 KiB pages, and
    training runs ~2x slower without them (measured: 10.3 s vs 4.9 s of firth training with
    THP disabled by prctl). NumPy asks for huge pages (madvise) on large arrays; fastText's
    C++ allocations do not, and this machine's THP mode is ``madvise``.
    """
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT)
        huge = 0.0
        while True:
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            huge = max(huge, _anon_huge_mb(proc.pid))
            time.sleep(0.2)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        msg = err.read()
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{msg.decode(errors='replace')[-2000:]}")
    import re

    trained = re.search(rb"trained in ([0-9.]+) s", msg)  # firth's own training time, from its summary line
    print(f"    (transparent huge pages: up to {huge:.0f} MB"
          + (f"; firth training alone {float(trained.group(1)):.1f} s" if trained else "") + ")", flush=True)
    return wall, ru.ru_maxrss / 1024.0


def firth_cmd(corpus, out, model, a) -> list[str]:
    cmd = [sys.executable, "-m", "firth.cli", "train", str(corpus), "-o", str(out), "--model", model,
           "--dim", "100", "--window", "5", "--negative", "5", "--epochs", str(a.epochs), "--sample", "1e-3",
           "--min-count", "5", "--workers", str(a.threads), "--alpha", str(a.lr), "--seed", "1"]
    if a.ns_exponent is not None:
        cmd += ["--ns-exponent", str(a.ns_exponent)]
    if model.startswith("fasttext"):
        cmd += ["--minn", "3", "--maxn", "6", "--bucket", str(a.bucket)]
    return cmd


def fasttext_cmd(corpus, out, a) -> list[str]:
    code = (
        "import fasttext, sys\n"
        f"m = fasttext.train_unsupervised({str(corpus)!r}, model='skipgram', dim=100, ws=5, neg=5, minn=3, maxn=6,"
        f" bucket={a.bucket}, epoch={a.epochs}, t=1e-3, minCount=5, thread={a.threads}, lr={a.lr}, verbose=0)\n"
        f"m.save_model({str(out)!r})\n"
    )
    return [sys.executable, "-c", code]


# ----------------------------------------------------------------------------- quality


def read_pairs(path: Path):
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        p = line.split("\t")
        if len(p) == 3:
            out.append((p[0].lower(), p[1].lower(), float(p[2])))
    return out


def spearman(x, y) -> float:
    import numpy as np

    def rank(v):
        v = np.asarray(v, dtype=np.float64)
        order = np.argsort(v, kind="mergesort")
        r = np.empty(len(v))
        r[order] = np.arange(len(v))
        # average ties
        sv = v[order]
        i = 0
        while i < len(v):
            j = i
            while j + 1 < len(v) and sv[j + 1] == sv[i]:
                j += 1
            r[order[i : j + 1]] = (i + j) / 2.0
            i = j + 1
        return r

    rx, ry = rank(x), rank(y)
    return float(np.corrcoef(rx, ry)[0, 1])


def similarity_score(kv, pairs) -> tuple[float, float]:
    """(Spearman over all pairs, coverage): a pair with a word that has no vector scores 0."""
    import numpy as np

    from firth.vectors import FastTextVectors

    sims, gold, covered = [], [], 0
    for a, b, s in pairs:
        if isinstance(kv, FastTextVectors):
            ok = kv.has_vector(a) and kv.has_vector(b)
        else:
            ok = a in kv and b in kv
        if ok:
            va, vb = kv.get_vector(a), kv.get_vector(b)
            den = float(np.linalg.norm(va) * np.linalg.norm(vb))
            sims.append(float(va @ vb) / den if den else 0.0)
            covered += 1
        else:
            sims.append(0.0)
        gold.append(s)
    return spearman(sims, gold), covered / len(pairs)


def analogy_score(kv, tmpdir: Path) -> float:
    """Google analogy accuracy over the 30,000 most frequent words (gensim's judge)."""
    from gensim.models import KeyedVectors as GKV

    path = tmpdir / "vecs.txt"
    kv.limit(30_000).save(path, format="word2vec-text")
    g = GKV.load_word2vec_format(str(path), binary=False)
    acc, _ = g.evaluate_word_analogies(str(ANALOGY), restrict_vocab=30_000, case_insensitive=True)
    return float(acc)


def quality(path: Path, tmpdir: Path, analogies: bool) -> dict:
    from firth.vectors import load_vectors

    kv = load_vectors(path)
    rw, cov = similarity_score(kv, read_pairs(SIM / "rw.tsv"))
    ws, wcov = similarity_score(kv, read_pairs(SIM / "ws353.tsv"))
    out = {"rw": rw, "rw_coverage": cov, "ws353": ws, "ws353_coverage": wcov}
    if analogies:
        out["google"] = analogy_score(kv, tmpdir)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--bucket", type=int, default=2_000_000)
    ap.add_argument("--words", type=int, default=5_000_000, help="words of en-mix for the speed runs")
    ap.add_argument("--ns-exponent", type=float, default=None,
                    help="firth's noise exponent (default: firth's 0.75; Facebook's fastText hard-codes 0.5)")
    ap.add_argument("--full", action="store_true", help="whole en-mix, 5 epochs, once, with Google analogies")
    ap.add_argument("--workdir", default="/tmp/firth-bench-fasttext")
    ap.add_argument("--only", default=None, help="run only these systems (comma list of ft, fb, sg) and save their timings")
    ap.add_argument("--report-only", action="store_true", help="no training: evaluate the saved models and timings")
    ap.add_argument("--json", default=None, help="also write the results here")
    a = ap.parse_args(argv)
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    if a.full:
        a.epochs, a.runs = 5, 1
        corpus = full_corpus(work / "en-mix.txt")
    else:
        corpus = prepare_corpus(work / f"en-mix-{a.words}-1000.txt", a.words)
    print(f"corpus {corpus}; epochs {a.epochs}, threads {a.threads}, lr {a.lr}, bucket {a.bucket}, runs {a.runs}", flush=True)
    # warm Numba's on-disk cache once so no run pays compilation
    if not a.report_only:
      subprocess.run(firth_cmd(ROOT / ".." / "shared" / "data" / "corpora" / "small" / "en-100k.txt",
                             work / "warm.firth", "fasttext-sg", argparse.Namespace(**{**vars(a), "epochs": 1, "bucket": 10_000})),
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tag = ("full" if a.full else f"{a.words}-t{a.threads}") + ("" if a.ns_exponent is None else f"-ns{a.ns_exponent}")
    o_ft, o_fb, o_sg = work / f"firth-ft-{tag}.firth", work / f"fb-{tag}.bin", work / f"firth-sg-{tag}.firth"
    systems = {
        "firth fasttext-sg": ("ft", lambda: firth_cmd(corpus, o_ft, "fasttext-sg", a), o_ft),
        "fastText (fasttext-numpy2)": ("fb", lambda: fasttext_cmd(corpus, o_fb, a), o_fb),
        "firth sg (no subwords)": ("sg", lambda: firth_cmd(corpus, o_sg, "sg", a), o_sg),
    }
    only = set(a.only.split(",")) if a.only else {k for k, _, _ in systems.values()}
    if not a.report_only:
        times: dict[str, list] = {k: [] for k in systems}
        for r in range(a.runs):
            for name, (key, mk, _) in systems.items():
                if key not in only:
                    continue
                wall, rss = run_child(mk())
                times[name].append((wall, rss))
                print(f"run {r + 1} {name}: {wall:.1f} s, peak RSS {rss:.0f} MB", flush=True)
        for name, (key, _, _) in systems.items():
            if key in only:
                (work / f"times-{tag}-{key}.json").write_text(json.dumps(times[name]))
        if a.only:
            return 0
    results = {}
    with tempfile.TemporaryDirectory() as td:
        for name, (key, _, out) in systems.items():
            tfile = work / f"times-{tag}-{key}.json"
            if not tfile.exists():
                print(f"{name}: no timings in {tfile}; skipped", flush=True)
                continue
            t = json.loads(tfile.read_text())
            q = quality(out, Path(td), analogies=a.full)
            walls = [w for w, _ in t]
            results[name] = {
                "wall_median_s": statistics.median(walls), "walls": walls,
                "peak_rss_mb": max(m for _, m in t), **q,
            }
    ft = results.get("fastText (fasttext-numpy2)", {}).get("wall_median_s", float("nan"))
    print()
    n_runs = max((len(r["walls"]) for r in results.values()), default=0)
    hdr = f"| system | whole-process s (median of {n_runs}) | speed vs fastText | peak RSS MB | RW Spearman (coverage) | WS353 |"
    if a.full:
        hdr += " Google (30k) |"
    print(hdr)
    print("|" + "---|" * (hdr.count("|") - 1))
    for name, r in results.items():
        line = (f"| {name} | {r['wall_median_s']:.1f} | {ft / r['wall_median_s']:.2f}x | {r['peak_rss_mb']:.0f} | "
                f"{r['rw']:.3f} ({r['rw_coverage']:.0%}) | {r['ws353']:.3f} |")
        if a.full:
            line += f" {r['google']:.1%} |"
        print(line)
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
