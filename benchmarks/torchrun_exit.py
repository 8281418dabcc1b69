"""How often a torchrun rank dies at exit: N two-rank `firth tag train` jobs on a tiny task,
each rank's exit status counted (a rank aborting in torch's C++ teardown exits -6,
"terminate called without an active exception").

    python benchmarks/torchrun_exit.py --jobs 100

Measured (benchmarks/RESULTS.md, "Distributed training"): 2 of 40 jobs on d9fe7e6, 2 of 40
with destroy_process_group alone, 0 of 100 with the rank's os._exit after flushing
(firth/cli.py, ``entry``). Runs ``python -m firth`` from this checkout.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.torchrun import run_ranks  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=40)
    a = ap.parse_args(argv)
    rng = np.random.default_rng(1)
    lines = []
    for _ in range(40):
        for _ in range(int(rng.integers(2, 7))):
            w = int(rng.integers(12))
            lines.append(f"w{w}\t{'N' if w < 6 else 'V'}")
        lines.append("")
    d = Path(tempfile.mkdtemp(prefix="firth-exit-"))
    (d / "train.conll").write_text("\n".join(lines) + "\n")
    bad = 0
    for i in range(a.jobs):
        args = ["-m", "firth", "tag", "train", str(d / "train.conll"), "-o", str(d / f"tagger-{i}"), "--epochs", "2",
                "--dim", "8", "--threads", "1", "--seed", "2", "--quiet"]
        res = run_ranks(args, ROOT, timeout=120)
        if [rc for rc, _ in res] != [0, 0]:
            bad += 1
            print(f"job {i}: exit statuses {[rc for rc, _ in res]}: {[err.strip()[-120:] for _, err in res]}", flush=True)
    print(f"{bad} of {a.jobs} two-rank jobs had a rank fail", flush=True)


if __name__ == "__main__":
    main()
