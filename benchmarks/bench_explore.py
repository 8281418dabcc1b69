"""firth explore on a 1,000,000 x 300 model: server start, neighbour query latency, page load.

Side by side on the same matrix, machine and run: gensim's KeyedVectors.most_similar (exact,
over its normalised matrix) and faiss (exact IndexFlatIP over the normalised rows; HNSW, an
approximate index, on a subset: build time, speed and recall@10). firth's answers are
checked against gensim's (identical top-10 words).

    flock /tmp/firth-heavy.lock .venv/bin/python benchmarks/bench_explore.py
    ... --words 200000 --queries 50 --no-browser      # a quick run

The model is random N(0, 1) float32, written once as a native (memory-mapped) firth file
under --dir; times are for a warm page cache (the file was just written or read).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pct(ts, q):
    return float(np.percentile(np.asarray(ts) * 1000, q))


def line(name, ts):
    print(f"  {name:<44} p50 {pct(ts, 50):8.1f} ms   p95 {pct(ts, 95):8.1f} ms   (n={len(ts)})", flush=True)
    return pct(ts, 95)


def make_model(path: Path, n: int, dim: int, seed: int):
    from firth.vectors import KeyedVectors

    meta = path.with_suffix(".json")
    want = {"words": n, "dim": dim, "seed": seed}
    if path.exists() and meta.exists() and json.loads(meta.read_text()) == want:
        return
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    vecs = np.empty((n, dim), dtype=np.float32)
    for s in range(0, n, 100_000):
        vecs[s : s + 100_000] = rng.standard_normal((min(100_000, n - s), dim), dtype=np.float32)
    KeyedVectors([f"w{i}" for i in range(n)], vecs).save(path)
    meta.write_text(json.dumps(want))
    print(f"model: {n:,} x {dim} written to {path} in {time.perf_counter() - t0:.1f} s", flush=True)


def start_server(path: Path):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    t0 = time.perf_counter()
    p = subprocess.Popen([str(ROOT / ".venv/bin/python"), "-m", "firth.cli", "explore", str(path), "--port", "0",
                          "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    msg = p.stdout.readline()
    if " at http://" not in msg:
        p.kill()
        raise SystemExit(f"server did not start: {msg} {p.stderr.read()}")
    port = int(msg.split(" at http://")[1].split("/")[0].rsplit(":", 1)[1])
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("GET", "/api/info")
            info = json.loads(c.getresponse().read())
            c.close()
            break
        except OSError:
            time.sleep(0.01)
    return p, port, time.perf_counter() - t0, info


def wait_index(port: int, timeout: float = 300) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/api/info")
        info = json.loads(c.getresponse().read())
        c.close()
        if info["models"][0]["index_ready"]:
            return time.perf_counter() - t0
        time.sleep(0.05)
    raise SystemExit("index not ready")


def http_queries(port: int, words, topn=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    ts, answers = [], []
    for w in words:
        t0 = time.perf_counter()
        c.request("GET", f"/api/neighbours?word={w}&topn={topn}")
        r = c.getresponse()
        body = r.read()
        ts.append(time.perf_counter() - t0)
        answers.append([x[0] for x in json.loads(body)["models"][0]["neighbours"]])
    c.close()
    return ts, answers


def page_loads(port: int, runs: int):
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    ts = []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        for _ in range(runs + 1):
            ctx = b.new_context()
            page = ctx.new_page()
            t0 = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("body[data-ready='1']", state="attached")
            ts.append(time.perf_counter() - t0)
            ctx.close()
        b.close()
    return ts[1:]  # the first load also starts the browser's own caches


def screenshot(out: str, vectors, word: str) -> None:
    """docs/explore.png: the page with two models' neighbours of ``word`` side by side."""
    from playwright.sync_api import sync_playwright

    from firth.explore.app import create_app
    from firth.explore.server import _bind
    from firth.explore.session import Explorer
    import threading

    import uvicorn

    ex = Explorer.open(vectors)
    ex.start()
    ex.wait()
    sock = _bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(ex), log_level="warning", lifespan="off"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = b.new_page(viewport={"width": 1200, "height": 520})
        page.goto(f"http://127.0.0.1:{sock.getsockname()[1]}/")
        page.wait_for_selector("body[data-ready='1']", state="attached")
        page.fill("#nb-word", word)
        page.click("#nb-go")
        page.wait_for_selector(".nb-words li", state="attached")
        page.screenshot(path=out, full_page=True)
        b.close()
    server.should_exit = True
    print(f"screenshot written to {out}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--screenshot", metavar="PNG", help="only write a screenshot of the page with --vectors")
    ap.add_argument("--vectors", nargs="+", help="for --screenshot: one or two vectors files")
    ap.add_argument("--word", default="france", help="for --screenshot: the word whose neighbours to show")
    ap.add_argument("--words", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--queries", type=int, default=200, help="neighbour queries per measurement")
    ap.add_argument("--runs", type=int, default=5, help="server starts / page loads")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of --queries HTTP queries (medians of their p50/p95)")
    ap.add_argument("--hnsw-words", type=int, default=100_000, help="subset for the approximate (HNSW) index")
    ap.add_argument("--dir", default="/tmp/firth-bench-explore")
    ap.add_argument("--no-browser", action="store_true", help="skip the page-load measurement")
    ap.add_argument("--no-faiss", action="store_true", help="skip the faiss rows (flat and HNSW; HNSW takes minutes)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if a.screenshot:
        return screenshot(a.screenshot, a.vectors, a.word)
    os.makedirs(a.dir, exist_ok=True)
    path = Path(a.dir) / f"random-{a.words}x{a.dim}.firth"
    make_model(path, a.words, a.dim, a.seed)
    rng = np.random.default_rng(1)
    qwords = [f"w{i}" for i in rng.integers(0, a.words, a.queries)]
    print(f"\n== firth explore, {a.words:,} x {a.dim} float32 (native file, memory-mapped), {os.cpu_count()} cores")

    starts = []
    for _ in range(a.runs):
        p, port, t, _ = start_server(path)
        starts.append(t)
        p.terminate()
        p.communicate(timeout=30)
    print(f"  server start (process launch -> /api/info answered): median {np.median(starts):.2f} s "
          f"(runs: {', '.join(f'{x:.2f}' for x in starts)})")

    p, port, _, _ = start_server(path)
    try:
        t_early, _ = http_queries(port, qwords[:5])
        line("query before the index is built (exact, blocked)", t_early)
        build = wait_index(port)
        print(f"  background index (norms + int8 screen) ready {build:.1f} s after that")
        http_queries(port, qwords[:5])  # warm: Numba kernels loaded from cache
        p50s, p95s = [], []
        for r in range(a.rounds):
            t_http, firth_answers = http_queries(port, qwords)
            p50s.append(pct(t_http, 50))
            p95s.append(line(f"firth explore: GET /api/neighbours (HTTP), round {r + 1}", t_http))
        firth_p95 = float(np.median(p95s))  # ms, as line() gives
        print(f"  HTTP neighbour query, median of {a.rounds} rounds: p50 {np.median(p50s):.1f} ms, "
              f"p95 {np.median(p95s):.1f} ms (target p95 <= 50 ms)")
        if not a.no_browser:
            loads = page_loads(port, a.runs)
            print(f"  page first load (goto -> page ready, /api/info included): median {np.median(loads) * 1000:.0f} ms, "
                  f"max {max(loads) * 1000:.0f} ms")
    finally:
        p.terminate()
        p.communicate(timeout=30)

    # in-process: the index alone
    from firth.explore.session import Model

    m = Model.open(path)
    m.index.build()
    m.neighbours(qwords[0])
    ts = []
    for w in qwords:
        t0 = time.perf_counter()
        m.neighbours(w, 10)
        ts.append(time.perf_counter() - t0)
    line("firth explore: Model.neighbours (in process)", ts)
    ts = []
    for w in qwords:  # the search alone: int8 screen + exact re-scoring
        q, i = m.unit(w)
        t0 = time.perf_counter()
        m.index.search(q, 10, exclude=[i])
        ts.append(time.perf_counter() - t0)
    line("firth explore: NeighbourIndex.search (in process)", ts)
    del m

    # anchors on the same matrix
    from firth.vectors import load_vectors

    V = np.ascontiguousarray(load_vectors(path).vectors)
    words = [f"w{i}" for i in range(a.words)]
    try:
        import gensim

        g = gensim.models.KeyedVectors(a.dim)
        g.add_vectors(words, V)
        g.most_similar(qwords[0], topn=10)  # computes its norms once
        ts, same = [], 0
        for w, fa in zip(qwords, firth_answers):
            t0 = time.perf_counter()
            ans = g.most_similar(w, topn=10)
            ts.append(time.perf_counter() - t0)
            same += [x for x, _ in ans] == fa
        gensim_p95 = line(f"gensim {gensim.__version__}: KeyedVectors.most_similar", ts)
        print(f"  firth's top-10 identical to gensim's for {same} of {len(qwords)} queries")
        print(f"  p95 ratio firth HTTP / gensim in-process: {firth_p95 / gensim_p95:.2f}")
        del g
    except ImportError:
        print("  gensim not installed: no gensim row")
    try:
        if a.no_faiss:
            raise ImportError
        import faiss

        U = V / np.linalg.norm(V, axis=1, keepdims=True)
        flat = faiss.IndexFlatIP(a.dim)
        flat.add(U)
        ids = [int(w[1:]) for w in qwords]
        ts = []
        for i in ids:
            t0 = time.perf_counter()
            flat.search(U[i : i + 1], 11)
            ts.append(time.perf_counter() - t0)
        flat_p95 = line(f"faiss {faiss.__version__}: IndexFlatIP (exact)", ts)
        print(f"  p95 ratio firth HTTP / faiss flat: {firth_p95 / flat_p95:.2f}")
        del flat
        n = min(a.hnsw_words, a.words)
        sub = np.ascontiguousarray(U[:n])
        t0 = time.perf_counter()
        hnsw = faiss.IndexHNSWFlat(a.dim, 32, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 80
        hnsw.add(sub)
        built = time.perf_counter() - t0
        hnsw.hnsw.efSearch = 64
        qs = [i % n for i in ids]
        exact = faiss.IndexFlatIP(a.dim)
        exact.add(sub)
        ts, rec = [], []
        for i in qs:
            t0 = time.perf_counter()
            _, I = hnsw.search(sub[i : i + 1], 11)
            ts.append(time.perf_counter() - t0)
            _, E = exact.search(sub[i : i + 1], 11)
            rec.append(len(set(I[0][1:]) & set(E[0][1:])) / 10)
        line(f"faiss HNSW32 efSearch 64 on {n:,} words", ts)
        print(f"  HNSW on {n:,} words: built in {built:.1f} s, recall@10 {np.mean(rec):.3f} "
              f"(firth's search is exact: recall 1)")
    except ImportError:
        print("  faiss not installed (pip install faiss-cpu) or --no-faiss: no faiss rows")


if __name__ == "__main__":
    main()
