"""Issue 13's cases run through the `firth` command: tried / OK / still failing.

    .venv/bin/python benchmarks/issue13_cases.py [--keep DIR] [--only SUBSTRING]

Each case builds its input in a scratch directory, runs `python -m firth ...` (a fresh process,
so a segfault shows as a negative exit status) and checks what the issue asks: a one-line
error (``firth: error: ...``, exit 1, no traceback), nothing of the user's lost, nothing
left behind, bounded memory; or, where the input is valid, success. Prints one line per case
and a table per group; exits 1 if any case fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CASES = []


def case(group: str, name: str):
    def deco(f):
        CASES.append((group, name, f))
        return f
    return deco


class R:
    def __init__(self, rc, out, err, rss_mb, secs):
        self.rc, self.out, self.err, self.rss_mb, self.secs = rc, out, err, rss_mb, secs


def firth(d: Path, *args, env=None, timeout=300, mem_gb: float | None = None) -> R:
    """Run `python -m firth ARGS` in ``d``; peak RSS of the child in MB."""
    e = dict(os.environ, **(env or {}))
    e.setdefault("TMPDIR", str(d / "tmp"))
    (d / "tmp").mkdir(exist_ok=True)
    t0 = time.perf_counter()

    def limit():
        if mem_gb:
            n = int(mem_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (n, n))

    timer = ["/usr/bin/time", "-f", "MAXRSS %M %x"] if os.path.exists("/usr/bin/time") else []
    p = subprocess.run([*timer, sys.executable, "-m", "firth", *map(str, args)], cwd=d, env=e, capture_output=True,
                       timeout=timeout, preexec_fn=limit)
    err = p.stderr.decode("utf-8", "replace")
    rss, rc = -1.0, p.returncode
    lines = err.rstrip("\n").split("\n")
    if timer and lines and lines[-1].startswith("MAXRSS "):
        rss = int(lines[-1].split()[1]) / 1024
        lines.pop()
        if lines and lines[-1].startswith("Command terminated by signal"):
            rc = -int(lines.pop().split()[-1])
        elif lines and lines[-1].startswith("Command exited with non-zero status"):
            lines.pop()
        err = "\n".join(lines) + ("\n" if lines else "")
    return R(rc, p.stdout, err, rss, time.perf_counter() - t0)


def one_line(r: R, *needles) -> tuple[bool, str]:
    """Exit 1 with exactly one line `firth: error: ...` containing every needle."""
    lines = [ln for ln in r.err.splitlines() if ln.strip()]
    errs = [ln for ln in lines if ln.startswith("firth: error: ")]
    if r.rc < 0:
        return False, f"killed by signal {-r.rc}"
    if "Traceback" in r.err:
        return False, "traceback: " + lines[-1][:150]
    if r.rc != 1 or len(errs) != 1 or not lines[-1].startswith("firth: error: "):
        return False, f"exit {r.rc}: {r.err.strip()[-200:]!r}"
    missing = [n for n in needles if n not in errs[0]]
    if missing:
        return False, f"message lacks {missing}: {errs[0][:200]}"
    return True, errs[0][len("firth: error: "):][:150]


def succeeds(r: R) -> tuple[bool, str]:
    if r.rc != 0:
        return False, f"exit {r.rc}: {r.err.strip()[-200:]!r}"
    return True, "exit 0"


def both(*checks) -> tuple[bool, str]:
    notes = []
    for ok, note in checks:
        if not ok:
            return False, note
        notes.append(note)
    return True, "; ".join(notes)


def same(path: Path, content: bytes) -> tuple[bool, str]:
    return (path.read_bytes() == content, "input intact") if path.exists() else (False, f"{path.name} is gone")


def clean(d: Path) -> tuple[bool, str]:
    left = [p.name for p in d.iterdir() if p.name.startswith(".") or p.name.startswith("firth-corpus")]
    left += [p.name for p in (d / "tmp").iterdir()] if (d / "tmp").exists() else []
    return (not left, "nothing left behind" if not left else f"left behind: {left}")


# ------------------------------------------------------------------ shared inputs

def make_inputs(base: Path) -> dict:
    rng = random.Random(0)
    words = [f"w{i}" for i in range(300)]
    corpus = base / "c.txt"
    corpus.write_text("".join(" ".join(rng.choice(words[: rng.randint(5, 300)]) for _ in range(12)) + "\n"
                              for _ in range(3000)))
    tsv = base / "train.tsv"
    tsv.write_text("pos\tgood film great fun\nneg\tbad film awful boring\n" * 100)
    docs = base / "docs.jsonl"
    docs.write_text("".join(json.dumps({"id": str(i), "title": "t", "text": f"wing flow layer {i}"}) + "\n"
                            for i in range(20)))
    r = firth(base, "train", corpus, "-o", base / "v.firth", "--dim", "10", "--epochs", "1", "-q", "--workers", "1")
    assert r.rc == 0, r.err
    r = firth(base, "classify", "train", tsv, "-o", base / "avg", "--epochs", "2", "--dim", "8", "--quiet")
    assert r.rc == 0, r.err
    return {"corpus": corpus, "tsv": tsv, "docs": docs, "vectors": base / "v.firth", "avg": base / "avg"}


def scratch(inputs: dict, d: Path, *names) -> dict:
    out = {}
    for n in names:
        src = inputs[n]
        dst = d / src.name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)
        out[n] = dst
    return out


def user_dir(d: Path) -> tuple[Path, bytes]:
    u = d / "mine"
    u.mkdir()
    (u / "thesis.txt").write_bytes(b"four years of work")
    return u, b"four years of work"


# ------------------------------------------------------------------ 1. data loss

G1 = "1 data loss"


@case(G1, "classify train -o DIR-with-user-files")
def _(i, d):
    x = scratch(i, d, "tsv")
    u, c = user_dir(d)
    r = firth(d, "classify", "train", x["tsv"], "-o", u, "--epochs", "1", "--quiet")
    return both(one_line(r, "not a firth output"), same(u / "thesis.txt", c))


@case(G1, "search index -o DIR-with-user-files")
def _(i, d):
    x = scratch(i, d, "docs")
    u, c = user_dir(d)
    return both(one_line(firth(d, "search", "index", x["docs"], "-o", u), "not a firth output"),
                same(u / "thesis.txt", c))


@case(G1, "train --checkpoint DIR-with-user-files")
def _(i, d):
    x = scratch(i, d, "corpus")
    u, c = user_dir(d)
    r = firth(d, "train", x["corpus"], "-o", "v.firth", "--checkpoint", u, "-q", "--epochs", "1")
    return both(one_line(r, "not a firth output"), same(u / "thesis.txt", c))


@case(G1, "classify train -o TRAIN.tsv (the input)")
def _(i, d):
    x = scratch(i, d, "tsv")
    c = x["tsv"].read_bytes()
    return both(one_line(firth(d, "classify", "train", x["tsv"], "-o", x["tsv"], "--quiet"), "also an input"),
                same(x["tsv"], c))


@case(G1, "classify train -o an existing user file")
def _(i, d):
    x = scratch(i, d, "tsv")
    (d / "notes.txt").write_bytes(b"notes")
    return both(one_line(firth(d, "classify", "train", x["tsv"], "-o", "notes.txt", "--quiet"), "is a file"),
                same(d / "notes.txt", b"notes"))


@case(G1, "classify train -o .")
def _(i, d):
    x = scratch(i, d, "tsv")
    return one_line(firth(d, "classify", "train", x["tsv"], "-o", ".", "--quiet"))


@case(G1, "train -o CORPUS (the input)")
def _(i, d):
    x = scratch(i, d, "corpus")
    c = x["corpus"].read_bytes()
    return both(one_line(firth(d, "train", x["corpus"], "-o", x["corpus"], "-q"), "also an input"),
                same(x["corpus"], c))


@case(G1, "train -o an existing user file")
def _(i, d):
    x = scratch(i, d, "corpus")
    (d / "notes.txt").write_bytes(b"notes")
    return both(one_line(firth(d, "train", x["corpus"], "-o", "notes.txt", "-q"), "not a vectors file"),
                same(d / "notes.txt", b"notes"))


@case(G1, "train -o inside the corpus directory")
def _(i, d):
    (d / "corpus").mkdir()
    shutil.copy(i["corpus"], d / "corpus")
    return one_line(firth(d, "train", "corpus", "-o", "corpus/v.firth", "-q"), "inside the input directory")


@case(G1, "convert V an-existing-user-file")
def _(i, d):
    x = scratch(i, d, "vectors")
    (d / "notes.txt").write_bytes(b"notes")
    return both(one_line(firth(d, "convert", x["vectors"], "notes.txt"), "not a vectors file"),
                same(d / "notes.txt", b"notes"))


# ------------------------------------------------------------------ 2. arrays from files

G2 = "2 crafted arrays"


def _checkpoint(i, d, shape):
    from firth.train.checkpoint import _file_digest, _state_digest

    x = scratch(i, d, "corpus")
    opts = ["--dim", "10", "--epochs", "1", "-q", "--workers", "1"]
    r = firth(d, "train", x["corpus"], "-o", "v.firth", "--checkpoint", "ck", *opts)
    assert r.rc == 0, r.err
    ep = d / "ck" / "epoch-000001"
    np.save(ep / "syn0.npy", np.zeros(shape, np.float32))
    st = json.loads((ep / "checkpoint.json").read_text())
    n, h = _file_digest(ep / "syn0.npy")
    st["files"]["syn0"] = {"bytes": n, "sha256": h}
    st["state_sha256"] = _state_digest(st)  # crafted: the checksums match
    (ep / "checkpoint.json").write_text(json.dumps(st))
    return one_line(firth(d, "train", x["corpus"], "-o", "v2.firth", "--checkpoint", "ck", *opts),
                    "syn0.npy: shape")


@case(G2, "train --checkpoint with syn0 (2, 10)")
def _(i, d):
    return _checkpoint(i, d, (2, 10))


@case(G2, "train --checkpoint with syn0 (1, 10**6)")
def _(i, d):
    return _checkpoint(i, d, (1, 10**6))


def _avg(i, d, name, arr, *needles, pickled=False):
    x = scratch(i, d, "avg", "tsv")
    if arr is None:
        (x["avg"] / name).unlink()
    else:
        np.save(x["avg"] / name, arr, allow_pickle=pickled)
    return one_line(firth(d, "classify", "test", x["avg"], x["tsv"]), *needles)


@case(G2, "classify test, W_in.npy (1, 100000)")
def _(i, d):
    return _avg(i, d, "W_in.npy", np.zeros((1, 100000), np.float32), "W_in")


@case(G2, "classify test, W_out.npy wrong shape")
def _(i, d):
    return _avg(i, d, "W_out.npy", np.zeros((3, 8), np.float32), "W_out")


@case(G2, "classify test, W_in.npy missing")
def _(i, d):
    return _avg(i, d, "W_in.npy", None, "W_in")


@case(G2, "classify test, W_in.npy pickled")
def _(i, d):
    return _avg(i, d, "W_in.npy", np.array([{"x": 1}], dtype=object), "W_in", pickled=True)


@case(G2, "classify test, config.json a JSON list")
def _(i, d):
    x = scratch(i, d, "avg", "tsv")
    (x["avg"] / "config.json").write_text("[1, 2]")
    return one_line(firth(d, "classify", "test", x["avg"], x["tsv"]), "config.json")


def _native_with(i, d, member, data: bytes | None = None, writer=None):
    src = zipfile.ZipFile(i["vectors"])
    out = d / "v.firth"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            if info.filename != member:
                z.writestr(info.filename, src.read(info.filename), compress_type=info.compress_type)
            elif writer is not None:
                with z.open(member, "w", force_zip64=True) as f:
                    writer(f)
            else:
                z.writestr(member, data, compress_type=info.compress_type)
    return out


@case(G2, "info, native firth.json a JSON list")
def _(i, d):
    v = _native_with(i, d, "firth.json", b"[1, 2]")
    return one_line(firth(d, "info", v), "firth.json")


@case(G2, "similar, native vectors.npy shape (2**62, 4)")
def _(i, d):
    raw = zipfile.ZipFile(i["vectors"]).read("vectors.npy")
    head_end = raw.index(b"\n") + 1
    header = raw[:head_end].replace(b"(292, 10)", b"(4611686018427387904, 4)")
    v = _native_with(i, d, "vectors.npy", header + raw[head_end:])
    return one_line(firth(d, "similar", v, "w1"))


def _rnn_model(i, d):
    x = scratch(i, d, "tsv")
    r = firth(d, "classify", "train", x["tsv"], "-o", "rnn", "--arch", "bilstm", "--epochs", "1", "--dim", "8",
              "--quiet")
    assert r.rc == 0, r.err
    cfgs = list((d / "rnn").rglob("config.json"))
    weights = [p for p in (d / "rnn").rglob("*") if p.suffix in (".pt", ".safetensors", ".bin", ".pth")]
    return x, cfgs, weights


@case(G2, "classify test, RNN config hidden_size 10**7")
def _(i, d):
    x, cfgs, _ = _rnn_model(i, d)
    def huge(o):
        if isinstance(o, dict):
            return {k: (10**7 if k == "hidden_size" else huge(v)) for k, v in o.items()}
        return [huge(v) for v in o] if isinstance(o, list) else o

    for c in cfgs:
        t = c.read_text()
        if '"hidden_size"' in t:
            c.write_text(json.dumps(huge(json.loads(t))))
    r = firth(d, "classify", "test", "rnn", x["tsv"], mem_gb=4)
    return both(one_line(r), (r.rss_mb < 2000, f"peak {r.rss_mb:.0f} MB"))


@case(G2, "classify test, RNN weights pickled")
def _(i, d):
    import torch

    x, _, weights = _rnn_model(i, d)
    w = weights[0]

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"x": Evil()}, w)
    r = firth(d, "classify", "test", "rnn", x["tsv"])
    return both(one_line(r, "refused"), (b"pwned" not in r.out, "payload not run"))


# ------------------------------------------------------------------ 3. bombs

G3 = "3 bombs"


@case(G3, "info, words.txt member expanding to 1 GiB")
def _(i, d):
    chunk = b"w\n" * (1 << 20)

    def write(f):
        for _ in range(512):
            f.write(chunk)

    v = _native_with(i, d, "words.txt", writer=write)
    r = firth(d, "info", v, mem_gb=3)
    return both(one_line(r, "words.txt"), (r.rss_mb < 600, f"peak {r.rss_mb:.0f} MB, file {v.stat().st_size >> 10} KB"))


@case(G3, "similar, word2vec binary header 10**12 rows")
def _(i, d):
    (d / "v.bin").write_bytes(b"1000000000000 10\n" + b"w " + b"\0" * 40 + b"\n")
    r = firth(d, "similar", "v.bin", "w", mem_gb=3)
    return both(one_line(r), (r.rss_mb < 600, f"peak {r.rss_mb:.0f} MB"))


@case(G3, "info, .npy-in-archive shape (2**62, 4)")
def _(i, d):
    raw = zipfile.ZipFile(i["vectors"]).read("vectors.npy")
    head_end = raw.index(b"\n") + 1
    header = raw[:head_end].replace(b"(292, 10)", b"(4611686018427387904, 4)")
    v = _native_with(i, d, "vectors.npy", header + raw[head_end:])
    return one_line(firth(d, "info", v, mem_gb=3))


# ------------------------------------------------------------------ 4. atomic replacement

G4 = "4 kill while replacing"


@case(G4, "classify train over its own output, SIGKILL at rename 1..3")
def _(i, d):
    x = scratch(i, d, "avg", "tsv")
    notes = []
    for n in (1, 2, 3):
        r = firth(d, "classify", "train", x["tsv"], "-o", x["avg"], "--epochs", "1", "--dim", "8", "--quiet",
                  env={"FIRTH_FAULT": f"rename:{n}"})
        t = firth(d, "classify", "test", x["avg"], x["tsv"])
        if t.rc != 0:
            return False, f"kill at rename {n} (exit {r.rc}): model unusable: {t.err.strip()[-150:]}"
        notes.append(str(r.rc))
    for env in ({"FIRTH_NO_EXCHANGE": "1", "FIRTH_FAULT": "rename:2"},):
        firth(d, "classify", "train", x["tsv"], "-o", x["avg"], "--epochs", "1", "--quiet", env=env)
        t = firth(d, "classify", "test", x["avg"], x["tsv"])
        if t.rc != 0:
            return False, "backup scheme: model unusable after a kill between the renames"
    return True, f"model loads after each kill (exits {', '.join(notes)})"


@case(G4, "train --checkpoint, SIGKILL at each save's renames")
def _(i, d):
    x = scratch(i, d, "corpus")
    opts = [x["corpus"], "-o", "v.firth", "--dim", "10", "--epochs", "3", "--workers", "1", "--checkpoint", "ck"]
    for n in (2, 3, 4, 5):
        shutil.rmtree(d / "ck", ignore_errors=True)
        r = firth(d, "train", *opts, env={"FIRTH_FAULT": f"rename:{n}"})
        if r.rc != -9:
            return False, f"rename {n}: exit {r.rc}"
        saved = sorted(p.name for p in (d / "ck").glob("epoch-*")) if (d / "ck").exists() else []
        r = firth(d, "train", *opts)
        if r.rc != 0 or (saved and f"resuming from ck/{saved[-1]}" not in r.err):
            return False, f"rename {n}: saved {saved}, next run: {r.err.strip()[-150:]!r}"
    return True, "each next run resumed from the newest complete epoch"


@case(G4, "train --checkpoint, newest epoch damaged")
def _(i, d):
    x = scratch(i, d, "corpus")
    opts = [x["corpus"], "-o", "v.firth", "--dim", "10", "--epochs", "2", "--workers", "1", "--checkpoint", "ck", "-q"]
    assert firth(d, "train", *opts).rc == 0
    p = d / "ck" / "epoch-000002" / "syn0.npy"
    b = bytearray(p.read_bytes())
    b[300] ^= 1
    p.write_bytes(bytes(b))
    r = firth(d, "train", *opts)
    ok = r.rc == 0 and "falling back to ck/epoch-000001" in r.err and "resuming from ck/epoch-000001" in r.err
    return ok, r.err.strip().splitlines()[0][:150] if ok else f"exit {r.rc}: {r.err[-200:]!r}"


# ------------------------------------------------------------------ 5. NaN

G5 = "5 non-finite numbers"


@case(G5, "train --alpha 1 (diverges)")
def _(i, d):
    x = scratch(i, d, "corpus")
    r = firth(d, "train", x["corpus"], "-o", "v.firth", "--dim", "10", "--epochs", "2", "--alpha", "1", "-q")
    return both(one_line(r, "diverged", "--alpha"), (not (d / "v.firth").exists(), "no output"))


def _nan_vectors(d):
    rows = ["3 2", "a 0.1 0.2", "b nan 0.3", "c 0.5 inf"]
    (d / "v.txt").write_text("\n".join(rows) + "\n")
    return d / "v.txt"


@case(G5, "similar on vectors with NaN/inf rows")
def _(i, d):
    return one_line(firth(d, "similar", _nan_vectors(d), "a"), "'b'")


@case(G5, "evaluate on vectors with NaN/inf rows")
def _(i, d):
    return one_line(firth(d, "evaluate", _nan_vectors(d)), "'b'")


# ------------------------------------------------------------------ 6. fastText bytes

G6 = "6 fastText non-UTF-8 words"


def _ftbin(d):
    from firth.vectors.formats.fasttext_bin import write_fasttext_bin

    rng = np.random.RandomState(0)
    words = ["the", b"caf\xe9".decode("utf-8", "surrogateescape"), "cat"]
    write_fasttext_bin(d / "m.bin", words, [5, 4, 3], rng.randn(3, 4).astype(np.float32),
                       rng.randn(20, 4).astype(np.float32), 2, 3)
    return d / "m.bin"


@case(G6, "info")
def _(i, d):
    return succeeds(firth(d, "info", _ftbin(d)))


@case(G6, "similar")
def _(i, d):
    r = firth(d, "similar", _ftbin(d), "the")
    return both(succeeds(r), (b"caf\xe9" in r.out, "raw bytes printed"))


@case(G6, "convert to native, .vec, word2vec binary")
def _(i, d):
    m = _ftbin(d)
    for fmt, name in (("native", "c.firth"), ("vec", "c.vec"), ("word2vec-binary", "c.w2v")):
        r = firth(d, "convert", m, name, "--format", fmt)
        if r.rc != 0:
            return False, f"{fmt}: exit {r.rc}: {r.err[-150:]!r}"
    return True, "all three written"


# ------------------------------------------------------------------ 7. one line, early

G7 = "7 one line, before the work"


@case(G7, "classify train -o /proc/x (before training)")
def _(i, d):
    x = scratch(i, d, "tsv")
    r = firth(d, "classify", "train", x["tsv"], "-o", "/proc/firth-x", "--epochs", "1")
    return both(one_line(r, "cannot write"), ("epoch" not in r.err.lower(), "refused before training"))


@case(G7, "train -o /proc/x (before training)")
def _(i, d):
    x = scratch(i, d, "corpus")
    r = firth(d, "train", x["corpus"], "-o", "/proc/v.firth", "--epochs", "1")
    return both(one_line(r, "cannot write"), ("epoch" not in r.err.lower(), "refused before training"))


@case(G7, "convert to a directory")
def _(i, d):
    x = scratch(i, d, "vectors")
    (d / "out").mkdir()
    return one_line(firth(d, "convert", x["vectors"], "out"), "is a directory")


@case(G7, "convert to /proc")
def _(i, d):
    x = scratch(i, d, "vectors")
    return one_line(firth(d, "convert", x["vectors"], "/proc/x.vec", "--format", "vec"), "cannot write")


@case(G7, "convert into a missing directory")
def _(i, d):
    x = scratch(i, d, "vectors")
    return one_line(firth(d, "convert", x["vectors"], "no/x.firth"), "does not exist")


class _TinyDisk:
    """A 96 KB tmpfs (needs the right to mount; the case is skipped elsewhere)."""

    def __init__(self, d: Path):
        self.path = d / "tiny"
        self.path.mkdir()
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(self.path)], capture_output=True)
        self.ok = r.returncode == 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.ok:
            subprocess.run(["umount", str(self.path)], capture_output=True)


def _full_disk(i, d, make_old, run_new):
    with _TinyDisk(d) as tiny:
        if not tiny.ok:
            return None, "cannot mount a small tmpfs here (not root): skipped"
        old = make_old(tiny.path)
        st = os.statvfs(tiny.path)
        (tiny.path / "filler").write_bytes(b"\0" * max(st.f_bavail * st.f_frsize - 8192, 0))  # 8 KB left
        before = {p.name: p.read_bytes() for p in old.rglob("*") if p.is_file()} if old.is_dir() else old.read_bytes()
        r = run_new(tiny.path)
        after = {p.name: p.read_bytes() for p in old.rglob("*") if p.is_file()} if old.is_dir() else old.read_bytes()
        left = [p.name for p in tiny.path.iterdir() if p.name not in (old.name, "filler")]
        return both(one_line(r, "No space left"), (after == before, "old output intact"),
                    (not left, "no temporary files" if not left else f"left: {left}"))


@case(G7, "train -o on a full disk (old output kept)")
def _(i, d):
    x = scratch(i, d, "corpus")

    def old(t):
        shutil.copy(i["vectors"], t / "v.firth")
        return t / "v.firth"

    return _full_disk(i, d, old, lambda t: firth(d, "train", x["corpus"], "-o", t / "v.firth", "--dim", "100",
                                                   "--epochs", "1", "-q"))


@case(G7, "classify train -o on a full disk (old model kept)")
def _(i, d):
    x = scratch(i, d, "tsv")

    def old(t):
        shutil.copytree(i["avg"], t / "avg")
        return t / "avg"

    return _full_disk(i, d, old, lambda t: firth(d, "classify", "train", x["tsv"], "-o", t / "avg", "--dim", "400",
                                                   "--epochs", "1", "--quiet"))


@case(G7, "convert on a full disk (old output kept)")
def _(i, d):
    x = scratch(i, d, "vectors")

    def old(t):
        (t / "v.txt").write_text("1 2\na 0.5 0.25\n")
        return t / "v.txt"

    return _full_disk(i, d, old, lambda t: firth(d, "convert", x["vectors"], t / "v.txt", "--format", "word2vec-text"))


# ------------------------------------------------------------------ 8. text headers

G8 = "8 word2vec text headers"


def _w2v_text(i, d):
    from firth.vectors import load_vectors

    kv = load_vectors(i["vectors"])
    kv.save(d / "v.txt", format="word2vec-text")
    return (d / "v.txt").read_text().split("\n", 1)


@case(G8, "header says 5 rows over 292")
def _(i, d):
    head, body = _w2v_text(i, d)
    (d / "v.txt").write_text("5 10\n" + body)
    return one_line(firth(d, "info", "v.txt"), "v.txt")


@case(G8, "header dimension disagrees with the rows")
def _(i, d):
    head, body = _w2v_text(i, d)
    (d / "v.txt").write_text(head.split()[0] + " 12\n" + body)
    r = firth(d, "info", "v.txt")
    return both(one_line(r, "v.txt"), ("appears twice" not in r.err, "not misread as binary"))


@case(G8, "short first row")
def _(i, d):
    head, body = _w2v_text(i, d)
    first, rest = body.split("\n", 1)
    (d / "v.txt").write_text(head + "\n" + " ".join(first.split()[:5]) + "\n" + rest)
    r = firth(d, "info", "v.txt")
    return both(one_line(r, "v.txt"), ("appears twice" not in r.err, "not misread as binary"))


# ------------------------------------------------------------------ 9. signals

G9 = "9 SIGTERM / SIGKILL"


def _signal(i, d, sig):
    x = scratch(i, d, "corpus")
    (d / "tmp").mkdir(exist_ok=True)
    env = dict(os.environ, TMPDIR=str(d / "tmp"))
    p = subprocess.Popen([sys.executable, "-m", "firth", "train", str(x["corpus"]), "-o", "v.firth", "--epochs", "300",
                          "--workers", "1", "-q"], cwd=d, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and p.poll() is None:
        try:
            if any("ids.i32" in os.readlink(f"/proc/{p.pid}/fd/{f}") for f in os.listdir(f"/proc/{p.pid}/fd")):
                break
        except OSError:
            pass
        time.sleep(0.02)
    time.sleep(0.3)
    p.send_signal(sig)
    err = p.communicate(timeout=60)[1]
    return both((p.returncode in (130, -2, -9), f"exit {p.returncode}"), clean(d),
                (not (d / "v.firth").exists(), "no output"))


@case(G9, "SIGTERM during training")
def _(i, d):
    return _signal(i, d, signal.SIGTERM)


@case(G9, "SIGKILL during training")
def _(i, d):
    return _signal(i, d, signal.SIGKILL)


# ------------------------------------------------------------------ 10. usage errors

G10 = "10 usage errors vs README"


@case(G10, "unknown option: exit 2 with usage, as README says")
def _(i, d):
    r = firth(d, "train", "--no-such-option")
    readme = (ROOT / "README.md").read_text()
    return both((r.rc == 2 and r.err.startswith("usage:"), f"exit {r.rc}"),
                ("exit status 2" in readme or "status 2" in readme, "README documents exit status 2"))


# ------------------------------------------------------------------ main

def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", default=None, help="keep the scratch directories here")
    ap.add_argument("--only", default=None, help="run the cases whose name contains this")
    args = ap.parse_args()
    base = Path(args.keep or tempfile.mkdtemp(prefix="issue13-"))
    base.mkdir(parents=True, exist_ok=True)
    (base / "inputs").mkdir(exist_ok=True)
    inputs = make_inputs(base / "inputs")
    results = []
    for k, (group, name, f) in enumerate(CASES):
        if args.only and args.only not in name:
            continue
        d = base / f"case{k:02d}"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir()
        t0 = time.perf_counter()
        try:
            ok, note = f(inputs, d)
        except Exception as e:  # noqa: BLE001 -- a broken case is a failing case
            ok, note = False, f"case error {type(e).__name__}: {e}"[:200]
        tag = "SKIP" if ok is None else "OK  " if ok else "FAIL"
        print(f"{tag} [{group}] {name}: {note} ({time.perf_counter() - t0:.1f} s)", flush=True)
        if ok is not None:
            results.append((group, name, ok, note))
    print()
    print(f"| group | tried | OK | still failing |\n|---|---|---|---|")
    groups = list(dict.fromkeys(g for g, *_ in results))
    for g in groups:
        rs = [r for r in results if r[0] == g]
        print(f"| {g} | {len(rs)} | {sum(r[2] for r in rs)} | {sum(not r[2] for r in rs)} |")
    n_ok = sum(r[2] for r in results)
    print(f"| **all** | {len(results)} | {n_ok} | {len(results) - n_ok} |")
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return 0 if n_ok == len(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
