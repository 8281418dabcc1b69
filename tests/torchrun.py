"""Real multi-process jobs on localhost for the tests, as torchrun would start them: one
``python ARGS`` process per rank with RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT set."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

# the environment of a single process: no torchrun variables inherited from the caller
ENV = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK")}
ENV["OMP_NUM_THREADS"] = "1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_ranks(args, cwd, ranks: int = 2, timeout: float = 180, env=None) -> list[tuple[int, str]]:
    """Start ``python *args`` as ``ranks`` ranks of one job; [(exit status, stderr)] per rank."""
    port = str(free_port())
    procs = []
    for r in range(ranks):
        e = dict(ENV, RANK=str(r), WORLD_SIZE=str(ranks), LOCAL_RANK=str(r), MASTER_ADDR="127.0.0.1",
                 MASTER_PORT=port, **(env or {}))
        procs.append(subprocess.Popen([sys.executable, *args], cwd=cwd, env=e, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    return [(p.wait(timeout=timeout), p.stderr.read()) for p in procs]
