"""Search benchmark: Cranfield effectiveness and query latency on a 100k-document collection.

    flock /tmp/firth-heavy.lock python benchmarks/bench_search.py [--part cranfield|latency|all] [--work DIR]

Cranfield (../shared/data/eval/ir/cranfield): BM25 with the default analysis (title + text,
bundled Snowball stop list, Porter stemmer), then expansion with CBOW vectors that
`firth train` learns on the collection's own analysed text (`firth search corpus`), RM3 and
the RM3 + embedding combination; each with the CLI defaults and 5-fold cross-validated
(`--tune`), with the significance tests printed by `firth search evaluate`.

Latency: the first 100,000 paragraphs of 5 words or more of en-mix-raw, indexed by firth;
CBOW vectors trained by firth on its analysed text; 300 five-term queries made of five
consecutive content words of random paragraphs; median wall time of one query (analysis,
expansion, BM25 over the CSR postings, top 10) on this machine, after loading.
"""

from __future__ import annotations

import argparse
import io
import json
import lzma
import subprocess
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

from firth.cli import main as firth  # noqa: E402

CRAN_TRAIN = ["--model", "cbow", "--dim", "100", "--window", "10", "--min-count", "3", "--epochs", "50",
              "--workers", "1", "--seed", "1"]
MIX_TRAIN = ["--model", "cbow", "--dim", "100", "--window", "5", "--min-count", "5", "--epochs", "5",
             "--workers", "1", "--seed", "1"]


def sh(*argv) -> str:
    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = firth([str(a) for a in argv])
    if rc != 0:
        raise SystemExit(f"firth {' '.join(map(str, argv))} failed ({rc})")
    return buf.getvalue()


def train(corpus, out, opts):
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "firth.cli", "train", str(corpus), "-o", str(out), *opts, "-q"],
                   check=True, cwd=ROOT)
    return time.perf_counter() - t0


def cranfield(work: Path) -> list[str]:
    c = SHARED / "eval" / "ir" / "cranfield"
    idx, corpus, vecs = work / "cran.idx", work / "cran.txt", work / "cran_cbow.fv"
    md = ["### Cranfield (1400 documents, 225 queries)", ""]
    t0 = time.perf_counter()
    md.append("`" + sh("search", "index", c / "docs.jsonl", "-o", idx).strip() + "`")
    sh("search", "corpus", idx, "-o", corpus)
    secs = train(corpus, vecs, CRAN_TRAIN)
    md.append(f"CBOW vectors by `firth train {corpus.name} {' '.join(CRAN_TRAIN)}` ({secs:.0f} s)")
    md.append("")
    q, r = c / "queries.jsonl", c / "qrels.tsv"
    runs = [
        ("BM25 (k1 1.2, b 0.75)", []),
        ("+ embeddings, CLI defaults (centroid, 10 terms, weight 0.5)", ["--expand", vecs]),
        ("+ embeddings, 20 terms, weight 0.2", ["--expand", vecs, "--terms", "20", "--weight", "0.2"]),
        ("+ embeddings, CombSUM, 20 terms, weight 0.2", ["--expand", vecs, "--terms", "20", "--weight", "0.2", "--method", "combsum"]),
        ("RM3 (10 docs, 10 terms, weight 0.5)", ["--rm3"]),
        ("RM3 + embeddings (mix 0.5, weight 0.5)", ["--rm3", "--expand", vecs]),
        ("BM25, tuned (5-fold CV)", ["--tune"]),
        ("+ embeddings, tuned (5-fold CV)", ["--expand", vecs, "--tune"]),
        ("+ embeddings CombSUM, tuned (5-fold CV)", ["--expand", vecs, "--method", "combsum", "--tune"]),
        ("RM3, tuned (5-fold CV)", ["--rm3", "--tune"]),
        ("RM3 + embeddings, tuned (5-fold CV)", ["--rm3", "--expand", vecs, "--tune"]),
    ]
    md += ["| run | MAP | nDCG@10 | P@10 | R@100 | ΔMAP vs BM25 | randomisation p | t-test p | better / worse |",
           "|---|---|---|---|---|---|---|---|---|"]
    details = []
    for name, extra in runs:
        t0 = time.perf_counter()
        out = sh("search", "evaluate", idx, q, r, *extra, "--show", "5")
        secs = time.perf_counter() - t0
        lines = out.splitlines()
        table = {l.split()[0]: l.split()[1:] for l in lines if l.split() and l.split()[0] in ("MAP", "nDCG@10", "P@10", "recall@100")}
        vals = [table[m][-2] if len(table[m]) == 3 else table[m][0] for m in ("nDCG@10", "P@10", "recall@100")]
        mapv = lines[0].split()[1]
        diff = table["MAP"][2] if len(table["MAP"]) == 3 else "—"
        sig = next((l for l in lines if l.startswith("significance")), "")
        pr = sig.split("randomisation test p = ")[1].split()[0] if sig else "—"
        pt = sig.split(", p = ")[-1] if sig else "—"
        wl = next((l for l in lines if l.startswith("per query:")), "")
        bw = "/".join(wl.split()[2:5:2]) if wl else "—"
        md.append(f"| {name} | {mapv} | {vals[0]} | {vals[1]} | {vals[2]} | {diff} | {pr} | {pt} | {bw} |")
        details.append(f"$ firth search evaluate cran.idx queries.jsonl qrels.tsv {' '.join(str(e) if e != vecs else vecs.name for e in extra)}   # {secs:.1f} s")
        details += lines
        details.append("")
    md += ["", "<details><summary>full output of each run</summary>", "", "```", *details, "```", "</details>", ""]
    return md


def build_mix(work: Path, n_docs: int = 100_000) -> Path:
    path = work / "mix100k.jsonl"
    if path.exists():
        return path
    src = SHARED / "corpora" / "en-mix-raw" / "en-mix-raw.txt.xz"
    n = 0
    with lzma.open(src, "rt", encoding="utf-8") as f, open(path, "w", encoding="utf-8") as out:
        for i, line in enumerate(f, 1):
            line = line.strip()
            if len(line.split()) < 5:
                continue
            out.write(json.dumps({"id": str(i), "text": line}) + "\n")
            n += 1
            if n == n_docs:
                break
    return path


def latency(work: Path, n_queries: int = 300) -> list[str]:
    from firth.vectors import load_vectors
    from firth.search.analyze import tokenize
    from firth.search.expand import EmbeddingExpander
    from firth.search.index import Index
    from firth.search.retrieve import Config, Retriever

    docs = build_mix(work)
    idx_dir, corpus, vecs = work / "mix.idx", work / "mix.txt", work / "mix_cbow.fv"
    build = sh("search", "index", docs, "-o", idx_dir).strip()
    sh("search", "corpus", idx_dir, "-o", corpus)
    secs = train(corpus, vecs, MIX_TRAIN)
    index = Index.load(idx_dir)
    kv = load_vectors(vecs)
    t0 = time.perf_counter()
    vocab = [t for t, df in zip(index.terms, index.df) if df >= 5]
    r = Retriever(index, EmbeddingExpander(kv, index.analyzer, vocab))
    setup = time.perf_counter() - t0
    # queries: five consecutive content words of random paragraphs
    rng = np.random.default_rng(0)
    texts = [json.loads(l)["text"] for l in open(docs, encoding="utf-8")]
    queries = []
    while len(queries) < n_queries:
        words = [w for w in tokenize(texts[rng.integers(len(texts))]) if index.analyzer.term(w)]
        if len(set(index.analyzer.term(w) for w in words)) < 8:
            continue
        s = rng.integers(len(words) - 4)
        q = words[s:s + 5]
        if len(set(index.analyzer(" ".join(q)))) == 5:
            queries.append(" ".join(q))
    md = ["### Query latency, 100,000 documents", "",
          f"`{build}`; CBOW vectors ({len(kv)} terms x {kv.vector_size}) by `firth train {' '.join(MIX_TRAIN)}` ({secs:.0f} s); "
          f"expander set-up {setup:.2f} s; {n_queries} five-term queries, top 10, one thread, timings after loading.", "",
          "| run | median ms | p90 ms | max ms |", "|---|---|---|---|"]
    runs = [("BM25", Config()), ("BM25 + embeddings (centroid, 10 terms)", Config(expand="emb")),
            ("BM25 + embeddings (CombSUM, 10 terms)", Config(expand="emb", method="combsum")),
            ("RM3", Config(expand="rm3")), ("RM3 + embeddings", Config(expand="rm3+emb"))]
    for name, cfg in runs:
        r._emb_cache.clear()
        for text in queries[:10]:  # warm-up
            r.search(text, cfg, 10)
        r._emb_cache.clear()
        times = []
        for text in queries:
            t0 = time.perf_counter()
            r.search(text, cfg, 10)
            times.append((time.perf_counter() - t0) * 1000)
        t = np.array(times)
        md.append(f"| {name} | {np.median(t):.1f} | {np.percentile(t, 90):.1f} | {t.max():.1f} |")
        print(name, f"median {np.median(t):.2f} ms", file=sys.stderr)
    md += ["", "Example queries: " + "; ".join(f"`{q}`" for q in queries[:3]), ""]
    return md


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=["cranfield", "latency", "all"], default="all")
    ap.add_argument("--work", default="/tmp/firth-bench-search", help="scratch directory")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    md = [f"## search ({time.strftime('%Y-%m-%d', time.gmtime())})", "",
          f"`flock /tmp/firth-heavy.lock python benchmarks/bench_search.py --part {args.part}`", ""]
    if args.part in ("cranfield", "all"):
        md += cranfield(work)
    if args.part in ("latency", "all"):
        md += latency(work)
    print("\n".join(md))


if __name__ == "__main__":
    main()
