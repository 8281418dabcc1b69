"""`classify train` / `tag train` (biLSTM) and `lm train` on several processes: torch's
DistributedDataParallel.

    torchrun --nproc-per-node 2 -m firth classify train train.txt -o model --arch bilstm
    torchrun --nproc-per-node 2 -m firth tag train train.conll -o tagger
    torchrun --nproc-per-node 2 -m firth lm train train.txt --valid valid.txt -o lm

Run under torchrun (RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT set, WORLD_SIZE > 1), the
trainers join a gloo process group and train one model. The language model splits its
parallel text streams between the ranks (firth/lm/ranks.py); the biLSTM trainers:

* **The same batches as one process.** Batches are cut as in a single process (sentences
  sorted by length, ``--batch-size`` each) and visited in the same seeded order on every
  rank; rank ``r`` takes the examples ``r, r+P, r+2P, ...`` of each batch (a distributed
  sampler over each batch). DistributedDataParallel averages the ranks' gradients, so every
  optimiser step sees the gradient of the whole batch -- the single-process algorithm, its
  work split P ways (a last batch smaller than P is shared by repeating examples).
* Word dropout draws from a generator seeded per rank; everything else is seeded alike.
* Early stopping and the time limit are decided together: the dev score is rank 0's
  (broadcast), and the clock has run out when it has on any rank.
* Rank 0 alone writes the model; the other ranks write nothing.

Without torchrun's environment nothing here imports torch.distributed or changes anything.
``--arch avg`` does not run distributed: under torchrun it is refused in one line.
"""

from __future__ import annotations

import os

from firth.errors import FirthError

ENV = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
FAULT_ENV = "FIRTH_DIST_FAULT"  # tests: "RANK:N" -> that rank SIGKILLs itself at step N (firth/lm/ranks.py)

_group = None


def world() -> tuple[int, int] | None:
    """(rank, world size) when running as one of several torchrun ranks, else None."""
    if not all(os.environ.get(k) for k in ENV):
        return None
    try:
        rank, size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    except ValueError:
        raise FirthError(f"torchrun environment: RANK={os.environ['RANK']!r} / WORLD_SIZE={os.environ['WORLD_SIZE']!r} "
                         "are not integers") from None
    if not 0 <= rank < size:
        raise FirthError(f"torchrun environment: RANK={rank} is not in [0, WORLD_SIZE={size})")
    return (rank, size) if size > 1 else None


def is_writer() -> bool:
    """Whether this process writes outputs (the single process, or rank 0)."""
    w = world()
    return w is None or w[0] == 0


def refuse(what: str) -> None:
    """One-line error for a trainer that does not run distributed, when under torchrun."""
    if world() is not None:
        raise FirthError(f"{what} does not train on several processes; under torchrun use --arch bilstm, "
                         "or run it without torchrun")


class Group:
    """This rank's view of the job: sharding batches, wrapping the model, agreeing on decisions."""

    def __init__(self, timeout_s: float = 900.0):
        import datetime

        import torch.distributed as dist

        self.dist = dist
        self.rank, self.size = world()
        if not dist.is_initialized():
            try:
                dist.init_process_group("gloo", rank=self.rank, world_size=self.size,
                                        timeout=datetime.timedelta(seconds=float(timeout_s)))
            except (RuntimeError, ValueError, OSError) as e:
                raise FirthError(f"rank {self.rank} could not join the torchrun process group ({_first_line(e)}); "
                                 "check MASTER_ADDR/MASTER_PORT and that every rank was started") from None

    def run(self, fn, *a, **kw):
        """``fn(...)``, a lost peer (gloo's RuntimeError or OSError) turned into one FirthError line."""
        try:
            return fn(*a, **kw)
        except (RuntimeError, OSError) as e:
            raise FirthError(f"rank {self.rank}: lost contact with another rank ({_first_line(e)}); the job stops") from None

    def shard(self, idx_batches):
        """This rank's part of every batch: examples r, r+P, ... (never empty)."""
        out = []
        for b in idx_batches:
            part = b[self.rank :: self.size]
            if len(part) == 0:
                part = b[self.rank % len(b) :][:1]
            out.append(part)
        return out

    def wrap(self, model):
        """The model under DistributedDataParallel (gradients averaged over the ranks in
        backward). Buffers (the fixed rows of an embedding) are identical on every rank and
        never change, so they are not re-synchronised at every step (torch 2.13's spelling,
        ``forward_sync_buffers``; its older ``broadcast_buffers`` warns)."""
        from torch.nn.parallel import DistributedDataParallel

        return self.run(DistributedDataParallel, model, forward_sync_buffers=False)

    def any(self, flag: bool) -> bool:
        import torch

        t = torch.tensor([1 if flag else 0], dtype=torch.int64)
        self.run(self.dist.all_reduce, t, op=self.dist.ReduceOp.MAX)
        return bool(t.item())

    def sum(self, *values: float) -> list[float]:
        import torch

        t = torch.tensor(values, dtype=torch.float64)
        self.run(self.dist.all_reduce, t, op=self.dist.ReduceOp.SUM)
        return t.tolist()

    def reduce_(self, t):
        """Sum a tensor over the ranks, in place (every rank gets the sum)."""
        self.run(self.dist.all_reduce, t, op=self.dist.ReduceOp.SUM)
        return t

    def rank0(self, value: float) -> float:
        import torch

        t = torch.tensor([value], dtype=torch.float64)
        self.run(self.dist.broadcast, t, src=0)
        return float(t.item())

    def seed(self, seed: int) -> int:
        return int(seed) + 1_000_003 * self.rank


def group() -> Group | None:
    """The process group when running under torchrun with several ranks (joined once), else None."""
    global _group
    if world() is None:
        return None
    if _group is None:
        _group = Group()
    return _group


def close(ok: bool) -> None:
    """Leave the process group, if this process joined one. Why: a rank that exits with gloo's
    threads still running can abort at interpreter exit ("terminate called without an active
    exception", exit -6) -- more likely when it finishes first, as ranks > 0 do while rank 0
    writes the model. After a job that succeeded every rank first waits for the others (so rank
    0 has written), then the group is destroyed explicitly; after an error it is destroyed at
    once (a peer may never reach the barrier)."""
    global _group
    g, _group = _group, None
    if g is None or not g.dist.is_initialized():
        return
    try:
        if ok:
            g.any(False)  # a barrier that times out with the group (gloo's own barrier cannot)
    finally:
        try:
            g.dist.destroy_process_group()
        except (RuntimeError, ValueError):  # already torn down by a failed collective
            pass
        import gc

        gc.collect()  # DDP wrappers in reference cycles hold the group: free it while Python runs


def _first_line(e: BaseException) -> str:
    s = str(e).strip().splitlines()
    return (s[0] if s else type(e).__name__)[:200]


def shard(idx_batches):
    """This rank's part of each batch under torchrun, else the batches as they are."""
    g = group()
    return g.shard(idx_batches) if g is not None else idx_batches
