"""What one synchronisation costs at 2 ranks on this machine, without training: gloo's
all-reduce latency by size, and OverlappedSync / DeltaSync on a model the size of the full
en-mix (85,637 x 100, two matrices) with the --sync-rare 64 schedule, phase by phase.

    python benchmarks/sync_cost.py              # starts torchrun with 2 ranks on itself

Output: one line per all-reduce size and wire type (rank 0), then one line per rank and sync.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def latency(d, torch) -> None:
    for n in (1, 1000, 100_000, 275_000, 1_000_000):
        for dt in (torch.float32, torch.bfloat16):
            t = torch.ones(n, dtype=dt)
            d.all_reduce(t)
            k = 200
            s = time.perf_counter()
            for _ in range(k):
                d.all_reduce(t)
            e = (time.perf_counter() - s) / k
            if d.get_rank() == 0:
                print(f"all-reduce of {n:>9,} {str(dt)[6:]:8}: {e * 1e3:.3f} ms, {n * t.element_size() / e / 1e9:.2f} GB/s",
                      flush=True)


def syncs(overlap: bool, wire: str, k: int = 1000) -> None:
    import numpy as np

    from firth.train.distributed import TorchComm
    from firth.train.sync import DeltaSync, sync_periods
    from firth.train.sync_overlap import OverlappedSync

    comm = TorchComm(60)
    V, d = 85_637, 100
    counts = (1e7 / np.arange(1, V + 1)).astype(np.int64) + 5  # Zipf, like a corpus's counts
    periods = sync_periods(counts, V, 100_000, int(counts.sum()), 64.0, 256)
    mats = [np.full((V, d), 0.5, np.float32), np.full((V, d), 0.5, np.float32)]
    s = (OverlappedSync(mats, comm, periods=periods, wire=wire) if overlap
         else DeltaSync(mats, comm, periods=periods, wire=wire))
    t = time.perf_counter()
    for j in range(k):
        mats[0][j % 3000] += 1e-4  # a row changed per sync
        s()
    per = (time.perf_counter() - t) / k
    s(full=True)
    phases = ", ".join(f"{p} {v / k * 1e3:.2f}" for p, v in s.seconds.items())
    print(f"rank {comm.rank}: {'overlapped' if overlap else 'blocking'} {wire}: {per * 1e3:.2f} ms per sync "
          f"({phases} ms); {s.rows_synced / max(s.syncs, 1):,.0f} rows per sync", flush=True)


def main() -> None:
    if "RANK" not in os.environ:  # the launcher: torchrun on this file
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", __file__]
        raise SystemExit(subprocess.call(cmd, cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS="1")))
    sys.path.insert(0, str(ROOT))
    import torch
    import torch.distributed as d

    torch.set_num_threads(1)
    d.init_process_group("gloo")
    latency(d, torch)
    for overlap, wire in ((True, "bfloat16"), (True, "float32"), (False, "bfloat16")):
        syncs(overlap, wire)
    d.destroy_process_group()


if __name__ == "__main__":
    main()
