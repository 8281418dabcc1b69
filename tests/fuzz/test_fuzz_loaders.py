"""Property-based fuzzing of every loader (issue 13): mutated real files either load as
valid data or raise a one-line FirthError -- no other exception, no crash, no runaway memory.

Seeds are small real files written by firth (and Facebook's layout for ``.bin``). Hypothesis
mutates them: truncation, flipped bytes, inserted/deleted bytes, header numbers replaced by
hostile ones (0, -1, 2**31, 10**12, 2**62), ``.npy`` shapes changed, zip members' declared
sizes changed. Each loader runs in a long-lived worker process (tests/fuzz/worker.py), so a
segfault is caught as a crash of that example, and many examples share one process.

CI runs ``FIRTH_FUZZ_EXAMPLES`` (default 150) derandomised examples per loader; the long run
is ``FIRTH_FUZZ_EXAMPLES=300 FIRTH_FUZZ_SECONDS=600 FIRTH_FUZZ_RANDOM=1 pytest tests/fuzz``
(batches of 300 random examples until 600 s have passed, per loader).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

EXAMPLES = int(os.environ.get("FIRTH_FUZZ_EXAMPLES", 150))
SECONDS = float(os.environ.get("FIRTH_FUZZ_SECONDS", 0))  # > 0: stop a loader's run after this long
STATS = os.environ.get("FIRTH_FUZZ_STATS")  # append per-loader counts (JSON lines) to this file
HOSTILE = [0, 1, 2, 3, 7, 255, 65535, -1, -2**31, 2**31 - 1, 2**32, 10**12, 2**62, 2**63 - 1]
WORKER = Path(__file__).with_name("worker.py")
ROOT = Path(__file__).resolve().parents[2]


class Worker:
    """One loader process, restarted after a crash or a hang."""

    def __init__(self):
        self.proc = None

    def _start(self):
        env = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
        env.pop("FIRTH_FAULT", None)
        self.proc = subprocess.Popen([sys.executable, str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, env=env, cwd=str(ROOT))

    def call(self, loader: str, path: Path, timeout: float = 60.0) -> str:
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        self.proc.stdin.write(json.dumps({"loader": loader, "path": str(path)}) + "\n")
        self.proc.stdin.flush()
        import selectors

        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            self.close()
            return f"hang: no answer in {timeout:.0f} s"
        line = self.proc.stdout.readline()
        if not line:
            rc = self.proc.wait()
            self.proc = None
            return f"crash: worker exited with {rc}" + (" (signal %d)" % -rc if rc < 0 else "")
        return json.loads(line)

    def close(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@pytest.fixture(scope="module")
def worker():
    w = Worker()
    yield w
    w.close()


# ------------------------------------------------------------------ seeds

WORDS = ["the", "film", "good", "bad", "cat", "sat", "on", "mat", "caf\u00e9", "na\u00efve", "flow", "wing"]


def _vector_seeds(d: Path):
    from firth.vectors import FastTextVectors, KeyedVectors
    from firth.vectors.formats.fasttext_bin import write_fasttext_bin

    rng = np.random.RandomState(0)
    kv = KeyedVectors(WORDS, rng.randn(len(WORDS), 4).astype(np.float32), counts=np.arange(50, 50 - len(WORDS), -1))
    out = []
    for fmt, name in (("native", "v.firth"), ("word2vec-text", "v.txt"), ("word2vec-binary", "v.bin"), ("vec", "v.vec")):
        kv.save(d / name, format=fmt)
        out.append(d / name)
    ft = FastTextVectors(WORDS, rng.randn(len(WORDS), 4).astype(np.float32), rng.randn(64, 4).astype(np.float32),
                         minn=2, maxn=3, counts=np.arange(50, 50 - len(WORDS), -1))
    ft.save(d / "ft.firth", format="native")
    write_fasttext_bin(d / "ft.bin", WORDS, np.arange(50, 50 - len(WORDS), -1), ft.vectors_vocab, ft.vectors_ngrams,
                       2, 3)
    return out + [d / "ft.firth", d / "ft.bin"]


def _classifier_seeds(d: Path):
    from firth.tasks.avg import AvgClassifier, AvgConfig

    docs = [["a", "good", "film"], ["a", "bad", "film"], ["good"], ["bad", "bad"]] * 3
    labels = ["pos", "neg", "pos", "neg"] * 3
    m = AvgClassifier(AvgConfig(dim=4, epochs=2, bucket=1000, threads=1)).fit(docs, labels, progress=False)
    m.save(d / "avg")
    return [d / "avg"]


def _tagger_seeds(d: Path):
    from firth.tasks.neural import RNNTagger

    m = RNNTagger(seed=0, dim=4, hidden=3, epochs=1, threads=1)
    m.fit([["the", "cat"], ["a", "dog", "sat"]], [["DT", "NN"], ["DT", "NN", "VB"]], progress=False)
    m.save(d / "tagger")
    return [d / "tagger"]


def _index_seeds(d: Path):
    from firth.search.index import Index

    idx = Index.build([("1", "boundary layer flow over a wing", "t1"), ("2", "wing flow", ""), ("3", "layer", "x")])
    idx.save(d / "index")
    return [d / "index"]


def _rnn_seeds(d: Path):
    from tests.rnn.test_rnn_serialize import make_models
    from firth.rnn import save_model

    acc, tag = make_models()
    save_model(d / "acc", acc)
    save_model(d / "tag", tag)
    return [d / "acc", d / "tag"]


def _checkpoint_seeds(d: Path):
    """Checkpoints of epochs 1 and 2 of a 3-epoch run (the loader resumes and trains epoch 3)."""
    from tests.fuzz.worker import CHECKPOINT_CORPUS, CHECKPOINT_RUNS, checkpoint_trainer

    corpus = d / "corpus.txt"
    corpus.write_text(CHECKPOINT_CORPUS)

    out = []
    for name, (_, _, saved) in CHECKPOINT_RUNS.items():
        def stop(model, epoch, loss, saved=saved):
            if epoch + 1 == saved:
                raise KeyboardInterrupt

        m = checkpoint_trainer(name)
        with pytest.raises(KeyboardInterrupt):
            m.train(str(corpus), checkpoint=d / name, callbacks=[stop])
        m.close()
        out.append(d / name)
    return out


SEEDS = {"vectors": _vector_seeds, "classifier": _classifier_seeds, "tagger": _tagger_seeds, "index": _index_seeds,
         "rnn": _rnn_seeds, "checkpoint": _checkpoint_seeds}


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    cache = {}

    def get(loader):
        if loader not in cache:
            cache[loader] = SEEDS[loader](tmp_path_factory.mktemp(f"seed-{loader}"))
        return cache[loader]
    return get


# ------------------------------------------------------------------ mutations

_NUM = re.compile(rb"-?\d+")
_SHAPE = re.compile(rb"'shape': \(([^)]*)\)")


def _mutate_numbers(data: bytes, draw, window: int) -> bytes:
    """Replace one number in the first ``window`` bytes (text headers, .npy shapes, JSON)."""
    spots = [m for m in _NUM.finditer(data[:window])]
    if not spots:
        return data
    m = spots[draw(st.integers(0, len(spots) - 1))]
    new = str(draw(st.sampled_from(HOSTILE) | st.integers(-5, 5000))).encode()
    return data[: m.start()] + new + data[m.end():]


def _mutate_npy_shape(data: bytes, draw) -> bytes:
    spots = list(_SHAPE.finditer(data))
    if not spots:
        return data
    m = spots[draw(st.integers(0, len(spots) - 1))]
    dims = draw(st.lists(st.sampled_from(HOSTILE[:12]) | st.integers(0, 100), min_size=0, max_size=3))
    text = ", ".join(str(x) for x in dims) + ("," if len(dims) == 1 else "")
    return data[: m.start(1)] + text.encode() + data[m.end(1):]


def _mutate_binary_ints(data: bytes, draw) -> bytes:
    """Overwrite a little-endian int32/int64 at some offset with a hostile value (binary headers)."""
    if len(data) < 8:
        return data
    width = draw(st.sampled_from([4, 8]))
    pos = draw(st.integers(0, min(len(data) - width, 400)))
    value = draw(st.sampled_from(HOSTILE))
    return data[:pos] + (value % (1 << (8 * width))).to_bytes(width, "little") + data[pos + width:]


def _mutate_zip_sizes(data: bytes, draw) -> bytes:
    """Change a declared size in a zip local/central header (zip bomb-ish, inconsistent)."""
    spots = [m.start() for m in re.finditer(rb"PK\x01\x02|PK\x03\x04", data)]
    if not spots:
        return data
    at = spots[draw(st.integers(0, len(spots) - 1))]
    field = draw(st.sampled_from([18, 22, 20, 24]))  # sizes in local (18, 22) or central (20, 24) headers
    value = draw(st.sampled_from([0, 1, 2**31 - 1, 2**32 - 1, 1 << 30]))
    pos = at + field
    return data[:pos] + value.to_bytes(4, "little") + data[pos + 4:] if pos + 4 <= len(data) else data


@st.composite
def mutated(draw, data: bytes):
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "number", "shape", "binint", "zip",
                                     "bytes"]))
        n = len(data)
        if kind == "truncate" and n:
            data = data[: draw(st.integers(0, n - 1))]
        elif kind == "flip" and n:
            pos = draw(st.integers(0, n - 1))
            data = data[:pos] + bytes([data[pos] ^ (1 << draw(st.integers(0, 7)))]) + data[pos + 1:]
        elif kind == "bytes" and n:
            pos = draw(st.integers(0, n - 1))
            data = data[:pos] + draw(st.binary(min_size=1, max_size=16)) + data[pos + 16:]
        elif kind == "insert":
            pos = draw(st.integers(0, n))
            data = data[:pos] + draw(st.binary(min_size=1, max_size=8)) + data[pos:]
        elif kind == "delete" and n:
            pos = draw(st.integers(0, n - 1))
            data = data[:pos] + data[pos + draw(st.integers(1, 16)):]
        elif kind == "number":
            data = _mutate_numbers(data, draw, 4096)
        elif kind == "shape":
            data = _mutate_npy_shape(data, draw)
        elif kind == "binint":
            data = _mutate_binary_ints(data, draw)
        elif kind == "zip":
            data = _mutate_zip_sizes(data, draw)
    return data


def _resign(epoch_dir: Path) -> None:
    """Recompute a checkpoint epoch's checksums after a mutation (when its JSON still parses)."""
    from firth.train.checkpoint import _file_digest, _state_digest

    try:
        state = json.loads((epoch_dir / "checkpoint.json").read_text(encoding="utf-8"))
        files = state["files"]
        for name in list(files):
            if (epoch_dir / f"{name}.npy").is_file():
                n, h = _file_digest(epoch_dir / f"{name}.npy")
                files[name] = {"bytes": n, "sha256": h}
        state["state_sha256"] = _state_digest(state)
    except (ValueError, KeyError, TypeError, AttributeError, OSError):
        return
    (epoch_dir / "checkpoint.json").write_text(json.dumps(state), encoding="utf-8")


# ------------------------------------------------------------------ the property

LOADERS = ["vectors", "classifier", "index", "rnn", "tagger", "checkpoint"]


@pytest.mark.parametrize("loader", LOADERS)
def test_mutated_files_load_or_fail_in_one_line(loader, seeds, worker, tmp_path):
    sources = seeds(loader)
    counts = {"ok": 0, "firth": 0, "bad": 0, "crash": 0, "hang": 0}
    failures = []
    start = time.monotonic()
    box = {"n": 0}

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("FIRTH_FUZZ_RANDOM"),
              suppress_health_check=list(HealthCheck), database=None)
    @given(data=st.data())
    def run(data):
        src = sources[data.draw(st.integers(0, len(sources) - 1))]
        box["n"] += 1
        target = tmp_path / f"case{box['n'] % 2}" / src.name
        if target.parent.exists():
            shutil.rmtree(target.parent)
        target.parent.mkdir()
        if src.is_dir():
            shutil.copytree(src, target)
            files = sorted(p for p in target.rglob("*") if p.is_file() and p.name != "firth-output.json")
            victim = files[data.draw(st.integers(0, len(files) - 1))]
        else:
            shutil.copy(src, target)
            victim = target
        victim.write_bytes(data.draw(mutated(victim.read_bytes())))
        if loader == "checkpoint" and data.draw(st.booleans()):
            _resign(victim.parent)  # as a crafted file would be: checksums that match the damage
        res = worker.call(loader, target)
        key = res if res in ("ok", "firth") else "bad"
        counts[key] += 1
        if key == "bad":
            for k in ("crash", "hang"):
                counts[k] += res.startswith(k)
            kept = tmp_path.parent / f"fuzz-failure-{loader}-{len(failures)}"
            if not kept.exists():
                shutil.copytree(target.parent, kept)
            failures.append(f"{victim.relative_to(target.parent)}: {res} (kept in {kept})")

    run()
    while SECONDS and time.monotonic() - start < SECONDS:  # the long run: batches of fresh random examples
        run()  # (stopping inside a batch would make Hypothesis' replay inconsistent)
    counts["examples"] = counts["ok"] + counts["firth"] + counts["bad"]
    if STATS:
        with open(STATS, "a") as f:
            f.write(json.dumps({"loader": loader, **counts, "seconds": round(time.monotonic() - start, 1)}) + "\n")
    assert not failures, f"{len(failures)} of {counts['examples']} mutated {loader} files:\n" + "\n".join(failures[:20])
    assert counts["firth"] > 0  # the mutations do reach the checks
