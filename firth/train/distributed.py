"""word2vec / fastText training over torch.distributed (gloo, CPU): one model, many processes.

    torchrun --nproc-per-node 2 -m firth train corpus.txt -o v.firth --distributed
    torchrun --nnodes 4 --nproc-per-node 8 --rdzv-backend c10d --rdzv-endpoint HOST:29400 \
        -m firth train corpus/ -o v.firth --distributed --checkpoint ckpt/

How a run goes (docs/distributed.md has the why and the cost model):

1. Every rank reads only its own byte range of the corpus (:mod:`firth.train.shard`),
   encodes it with the single-process encoder, and the ranks all-gather their word counts;
   each builds the same vocabulary, equal to the single-process one.
2. Each rank trains its share with the existing kernels and its threads (``EpochRunner``).
   ``syncs`` times per epoch, at the same fraction of every thread's share, the threads of a
   rank stop at a barrier and one of them runs the sync. From 3 ranks (and with
   ``--no-sync-overlap``) it is :class:`firth.train.sync.DeltaSync`: the rows changed since the
   last sync are all-reduced and every rank holds the same model again. At 1-2 ranks it is
   :class:`firth.train.sync_overlap.OverlappedSync`: the all-reduce of the rows due is posted
   and the ranks train on; its sum is applied at the next sync. The last sync of an epoch is a
   full, blocking one either way.
   Because every rank is at the same fraction of its share at each sync, the learning rate
   each computes from its own progress is the global schedule's.
3. After each epoch the losses and word counts are all-reduced; rank 0 alone writes the
   checkpoint (atomically) and, at the end, the vectors. A restarted job (torchrun
   ``--max-restarts``, or the same command again) resumes: rank 0 reads the checkpoint and
   broadcasts it.

torch is imported here only, inside functions: ``firth train`` without ``--distributed``
never imports it. A rank that loses its peers (killed, machine gone) stops with one line
naming what it was doing; the checkpoint of the last finished epoch stays.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import tempfile
import threading
import time

import numpy as np

from firth.errors import FirthError
from firth.train.runner import JOB_WORDS, EpochRunner, progress_bar, split_shares
from firth.train.sync import MODES, DeltaSync, sync_periods
from firth.train.sync_overlap import OverlappedSync

ENV = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
# words all ranks together train between two syncs; each rank trains this / world size (measured:
# benchmarks/RESULTS.md, docs/distributed.md: summed updates overshoot on the hot rows when each
# rank trains a fixed number of words, so the per-rank interval shrinks as ranks are added)
SYNC_GLOBAL_WORDS = 100_000
# from 3 ranks: a shorter interval, the hot rows averaged at every sync and the rare rows synced
# less often (measured at 4 and 8 ranks on 5M words: Google -0.58 / -0.68, WS353 -0.016 / -0.009
# against the single process; the sum at these intervals or at 100,000 loses 1.3-4 points)
SYNC_GLOBAL_WORDS_MANY = 6_250
SYNC_RARE_MANY = 16.0
SYNC_WIRE = "float32"
# 1-2 ranks: the exchange overlapped with training (firth.train.sync_overlap), the rows on the
# --sync-rare schedule (no flags collective), bfloat16 on the wire: on the full en-mix 2 ranks
# took 69 s (single process 98 s, medians of 3); every touched row in float32 at every sync took
# 237 s (single 126 s in that round), at the same quality (benchmarks/RESULTS.md)
SYNC_RARE_OVERLAP = 64.0
SYNC_WIRE_OVERLAP = "bfloat16"
SYNC_HOT = 16.0  # --sync-mode hot: rows of words expected this often per sync (all ranks' text) are averaged
# fastText from 3 ranks: rows expected 1.5 times per sync averaged. Its n-gram rows are shared by
# many words; summed they overshoot: at 8 ranks on 5M words (seed 1) Google -2.87 / -2.27 / -1.30 /
# -0.18 against the single process with rows expected 16 / 4 / 2 / 1 times averaged, WS353 falling
# towards it (+0.037 ... +0.007; at seed 2 X = 1 -0.023). benchmarks/RESULTS.md has both seeds and 4 ranks
SYNC_HOT_SUBWORDS_MANY = 1.5
SYNC_BOUND = 2.0  # --sync-mode bound: a row's summed move at most this many times the longest one-rank move
SYNC_MODE_MANY = "hot"  # the default from 3 ranks (1-2 ranks: sum)
SYNC_RARE = 0.0  # 1-2 ranks: a word's rows are synced about once per this many of its expected occurrences; 0 = at every sync
TIMEOUT_S = 900
FAULT_ENV = "FIRTH_DIST_FAULT"  # tests: "RANK:EPOCH" -> that rank SIGKILLs itself after that epoch


# ---------------------------------------------------------------------------- process group


def torchrun_env() -> tuple[int, int]:
    """(rank, world size) from torchrun's environment, or a one-line FirthError."""
    missing = [k for k in ENV if not os.environ.get(k)]
    if missing:
        raise FirthError(
            f"--distributed: no torchrun environment ({', '.join(missing)} not set); launch with "
            "`torchrun --nproc-per-node N -m firth train ... --distributed`, or drop --distributed"
        )
    try:
        rank, size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    except ValueError:
        raise FirthError(f"--distributed: RANK={os.environ['RANK']!r} / WORLD_SIZE={os.environ['WORLD_SIZE']!r} are not integers") from None
    if not (size >= 1 and 0 <= rank < size):
        raise FirthError(f"--distributed: RANK={rank} is not in [0, WORLD_SIZE={size})")
    return rank, size


class TorchComm:
    """The collectives firth needs, on numpy arrays (shared with torch, no copies), over gloo.
    A peer that disappears becomes a one-line FirthError naming this rank and the step."""

    def __init__(self, timeout_s: float = TIMEOUT_S):
        import datetime

        import torch.distributed as dist

        self.dist = dist
        rank, size = torchrun_env()
        if not dist.is_initialized():
            try:
                dist.init_process_group("gloo", rank=rank, world_size=size,
                                        timeout=datetime.timedelta(seconds=float(timeout_s)))
            except (RuntimeError, ValueError, OSError) as e:
                raise FirthError(f"--distributed: rank {rank} could not join the process group ({_first_line(e)}); "
                                 "check MASTER_ADDR/MASTER_PORT and that every rank was started") from None
        self.rank = dist.get_rank()
        self.size = dist.get_world_size()
        self.step = "start"  # what the ranks are doing, for error messages
        # torch only carries bytes here; its intra-op threads (bfloat16 conversions) would spin
        # on the cores the training threads use
        import torch

        torch.set_num_threads(1)

    def _run(self, fn, *a, **kw):
        try:
            return fn(*a, **kw)
        except (RuntimeError, OSError) as e:  # gloo: "Connection closed by peer", timeouts
            raise FirthError(
                f"rank {self.rank}: lost contact with another rank during {self.step} ({_first_line(e)}); "
                "the job stops; run the same command again to resume from the last checkpoint"
            ) from None

    def _t(self, arr: np.ndarray):
        import torch

        if not (arr.flags.c_contiguous and arr.flags.writeable):
            raise ValueError("collectives need contiguous writable arrays")
        return torch.from_numpy(arr)

    def all_reduce_sum(self, arr: np.ndarray) -> None:
        self._run(self.dist.all_reduce, self._t(arr), op=self.dist.ReduceOp.SUM)

    def all_reduce_sum_bf16(self, arr: np.ndarray) -> None:
        """Sum of float32 ``arr`` over ranks, sent as bfloat16 (half the bytes; each value
        rounded to 8 significant bits on the wire), written back as float32."""
        import torch

        t = self._t(arr)
        h = t.to(torch.bfloat16)
        self._run(self.dist.all_reduce, h, op=self.dist.ReduceOp.SUM)
        t.copy_(h)

    def all_reduce_sum_start(self, arr: np.ndarray, bf16_bits: bool = False):
        """Post an all-reduce SUM of ``arr`` (float32, or uint16 holding bfloat16 bits if
        ``bf16_bits``) and return at once; the returned function waits for it (the sum is then
        in ``arr``)."""
        import torch

        t = self._t(arr.view(np.int16)).view(torch.bfloat16) if bf16_bits else self._t(arr)
        work = self._run(self.dist.all_reduce, t, op=self.dist.ReduceOp.SUM, async_op=True)

        def finish() -> None:
            self._run(work.wait)

        return finish

    def all_reduce_max(self, arr: np.ndarray) -> None:
        self._run(self.dist.all_reduce, self._t(arr), op=self.dist.ReduceOp.MAX)

    def all_gather(self, arr: np.ndarray) -> np.ndarray:
        """Every rank's ``arr`` (the same shape on every rank), stacked in rank order."""
        import torch

        out = np.empty((self.size, *arr.shape), arr.dtype)
        self._run(self.dist.all_gather, [torch.from_numpy(out[r]) for r in range(self.size)], self._t(arr))
        return out

    def broadcast(self, arr: np.ndarray, src: int = 0) -> None:
        self._run(self.dist.broadcast, self._t(arr), src=src)

    def barrier(self) -> None:
        # a barrier is an all-reduce of nothing; gloo's own barrier cannot time out cleanly
        self.all_reduce_sum(np.zeros(1, np.int64))

    def all_gather_bytes(self, blob: bytes) -> list[bytes]:
        """Every rank's ``blob`` (no pickle: lengths, then the padded bytes)."""
        n = np.zeros(self.size, np.int64)
        n[self.rank] = len(blob)
        self.all_reduce_sum(n)
        if (n < 0).any():
            raise FirthError(f"rank {self.rank}: a peer announced a negative length; the ranks run different firth versions?")
        width = int(n.max())
        buf = np.zeros((self.size, max(width, 1)), np.uint8)
        buf[self.rank, : len(blob)] = np.frombuffer(blob, np.uint8)
        self.all_reduce_sum(buf)  # each row is written by one rank only, so the sum is that row
        return [buf[r, : int(n[r])].tobytes() for r in range(self.size)]

    def close(self) -> None:
        if self.dist.is_initialized():
            self.dist.destroy_process_group()


def _first_line(e: BaseException) -> str:
    s = str(e).strip().splitlines()
    return (s[0] if s else type(e).__name__)[:200]


def agree(comm, fn, step: str):
    """Run ``fn()`` on every rank; if it raises a FirthError/OSError on any rank, every rank
    raises (the failing one its own error, the others a line naming it) instead of the
    others waiting forever in their next collective."""
    comm.step = step
    err = None
    try:
        out = fn()
    except (FirthError, OSError, MemoryError) as e:
        err, out = e, None
    flags = np.zeros(comm.size, np.int64)
    flags[comm.rank] = err is not None
    comm.all_reduce_sum(flags)
    if err is not None:
        raise err
    if flags.any():
        bad = int(np.flatnonzero(flags)[0])
        raise FirthError(f"rank {comm.rank}: rank {bad} failed during {step} (its message says why); the job stops")
    return out


# ---------------------------------------------------------------------------- vocabulary


def build_vocab(trainer, corpus, comm) -> None:
    """Each rank encodes its own share; counts all-gathered; the same vocabulary everywhere."""
    from firth.train.corpus import encode_corpus
    from firth.train.shard import local_mapping, materialize, merge_counts, pack_counts, plan_shares, unpack_counts
    from firth.train.vocab import Vocab

    t0 = time.perf_counter()

    def encode_share():
        pieces = plan_shares(corpus, comm.size)[comm.rank]
        with tempfile.TemporaryDirectory(prefix="firth-share-") as tmp:
            files = materialize(pieces, tmp)
            return encode_corpus(files, normalizer=trainer.normalizer, max_sentence_length=trainer.max_sentence_length)

    enc = agree(comm, encode_share, "reading the corpus")
    try:
        blob, counts = pack_counts(enc.words, enc.counts)
        comm.step = "the vocabulary exchange"
        blobs = comm.all_gather_bytes(blob)
        cblobs = comm.all_gather_bytes(counts.tobytes())
        per_rank = []
        for r, (b, cb) in enumerate(zip(blobs, cblobs)):
            if len(cb) % 8:
                raise FirthError(f"rank {r}: sent {len(cb)} bytes of counts, not a multiple of 8")
            cs = np.frombuffer(cb, np.int64)
            if (cs < 0).any():
                raise FirthError(f"rank {r}: sent negative word counts")
            per_rank.append((unpack_counts(b, cs, r), cs))
        words, total = merge_counts(per_rank)
        source = ", ".join(str(p) for p in (corpus if isinstance(corpus, (list, tuple)) else [corpus])[:3])
        vocab, _ = Vocab.from_counts(words, total, trainer.min_count, trainer.max_vocab, source=source)
        enc.remap(local_mapping(enc.words, vocab.index))
    except BaseException:
        enc.close()
        raise
    enc.words, enc.counts = vocab.words, vocab.counts
    trainer.vocab = vocab
    trainer._set_encoded(enc)
    trainer.vocab_seconds = time.perf_counter() - t0
    trainer._init_weights()


# ---------------------------------------------------------------------------- epochs


class SyncedRunner(EpochRunner):
    """An EpochRunner whose threads meet ``syncs`` times per epoch, each at the same fraction
    of its own share, where one of them runs ``sync()`` (a collective) while the others wait."""

    def __init__(self, offsets, workers, alpha, min_alpha, seed, sync, syncs: int, release=None):
        shares = split_shares(offsets, workers)
        share_words = [int(offsets[b] - offsets[a]) for a, b in shares]
        # threads meet only between jobs: no job longer than one sync interval (else the
        # meetings of a job's intervals all fall at its end, back to back)
        interval = min((-(-w // int(syncs)) for w in share_words if w > 0), default=JOB_WORDS)
        super().__init__(offsets, workers, alpha, min_alpha, seed, job_words=max(1, min(JOB_WORDS, interval)),
                         after_job=self._after_job)
        self.sync = sync
        self.syncs = int(syncs)
        self.release = release
        self.share_words = share_words
        self.owner = {s0: k for k, js in enumerate(self.jobs) for s0, _ in js}
        self.error: BaseException | None = None

    def _threshold(self, k: int, j: int) -> int:
        return -(-j * self.share_words[k] // self.syncs)  # ceil: the j-th meeting point of share k

    def _action(self):
        try:
            self.count += 1
            self.sync(full=self.count >= self.syncs)  # the epoch's last sync carries every row
        except BaseException as e:
            self.error = e
            raise

    def _after_job(self, s0, s1):
        try:
            if self.release is not None:
                self.release(s0, s1)
            k = self.owner[s0]
            self.done_k[k] += int(self.offsets[s1] - self.offsets[s0])
            while self.next_k[k] <= self.syncs and self.done_k[k] >= self._threshold(k, self.next_k[k]):
                self.barrier.wait()
                self.next_k[k] += 1
        except threading.BrokenBarrierError:
            raise
        except BaseException:
            self.barrier.abort()
            raise

    def run_epoch(self, job_fn, epoch, epoch_in_call, total_epochs, bar=None, seed_epoch=None):
        active = [k for k in range(self.workers) if self.share_words[k] > 0]
        self.done_k = [0] * self.workers
        self.next_k = [1] * self.workers
        self.error = None
        self.count = 0
        self.barrier = threading.Barrier(max(len(active), 1), action=self._action)

        def guarded(*a):
            try:
                return job_fn(*a)
            except BaseException:
                self.barrier.abort()
                raise

        try:
            out = super().run_epoch(guarded, epoch, epoch_in_call, total_epochs, bar=bar, seed_epoch=seed_epoch)
        except BaseException:
            if self.error is not None:  # the collective's own error, not a thread's BrokenBarrierError
                raise self.error from None
            raise
        if not active:  # nothing to train here: still take part in every sync
            for j in range(self.syncs):
                self.sync(full=j == self.syncs - 1)
        return out


def _rank_seed(seed: int, rank: int) -> int:
    # distinct generators per rank (rank 0 keeps the user's seed); mixed again per job
    return (int(seed) + rank * 0x9E3779B97F4A7C15) % (1 << 63)


def _matrices(trainer) -> list[np.ndarray]:
    mats = [trainer.syn0]
    if trainer.syn1 is not trainer.syn0:
        mats.append(trainer.syn1)
    return mats


def _resume(trainer, checkpoint, epochs: int, comm) -> tuple[int, int]:
    """Rank 0 reads the checkpoint (if any) and broadcasts it. Returns (start epoch, call base)."""
    info = np.zeros(5, np.int64)  # found, start epoch, call base, epochs trained, words trained

    def read():
        if comm.rank == 0 and checkpoint is not None:
            got = trainer._try_resume(checkpoint, epochs)
            if got is not None:
                info[:] = (1, got[0], got[1], trainer.epochs_trained, trainer.words_trained)

    agree(comm, read, "reading the checkpoint")
    comm.step = "the checkpoint broadcast"
    comm.broadcast(info)
    if info[0]:
        for m in _matrices(trainer):  # rank 0's arrays are the checkpoint's; the others receive them
            comm.broadcast(m)
        trainer.epochs_trained, trainer.words_trained = int(info[3]), int(info[4])
        return int(info[1]), int(info[2])
    # a fresh start: every rank initialised from the same seed; check that they agree
    sums = np.array([float(np.sum(m, dtype=np.float64)) for m in _matrices(trainer)])
    mine = sums.copy()
    comm.broadcast(sums)
    if not np.array_equal(sums, mine):
        raise FirthError(f"rank {comm.rank}: initial weights differ from rank 0's; run the same firth version and options on every rank")
    return 0, trainer.epochs_trained


def _maybe_fault(rank: int, epoch: int) -> None:
    spec = os.environ.get(FAULT_ENV)
    if not spec or os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") not in ("", "0"):
        return  # one-shot: a restarted job runs clean
    r, e = (int(x) for x in spec.split(":"))
    if r == rank and e == epoch:
        os.kill(os.getpid(), signal.SIGKILL)


def _sync_options(size: int, sync_words, mode, sync_rare, sync_hot, sync_bound, overlap=None,
                  wire=None, subwords: bool = False) -> tuple[int, str, float, bool, str, float]:
    """The defaults that depend on the number of ranks and on the model (``subwords``:
    fastText), and one-line errors for bad values.
    Returns (words per rank between syncs, sync mode, sync_rare, overlap, wire, sync_hot)."""
    many = size > 2
    if sync_hot is None:
        sync_hot = SYNC_HOT_SUBWORDS_MANY if many and subwords else SYNC_HOT
    if sync_words is None:
        sync_words = max(1, (SYNC_GLOBAL_WORDS_MANY if many else SYNC_GLOBAL_WORDS) // size)
    if mode is None:  # the sum diverged at 4 and 8 ranks (hot rows overshoot), and lost 1.7 Google
        # points on fastText at 2 ranks (its n-gram rows are shared by many words): benchmarks/RESULTS.md
        mode = SYNC_MODE_MANY if many or subwords else "sum"
    if overlap is None:  # overlapped at 1-2 ranks for word2vec's sum (hot overlapped lost WS353: benchmarks/RESULTS.md)
        overlap = not many and mode == "sum"
    if overlap and mode not in ("sum", "hot"):
        raise FirthError(f"--sync-overlap: sums the updates or averages the hot rows (--sync-mode sum or hot); "
                         f"drop --sync-mode {mode} or add --no-sync-overlap")
    if sync_rare is None:
        sync_rare = SYNC_RARE_MANY if many else SYNC_RARE_OVERLAP if overlap else SYNC_RARE
    if wire is None:
        wire = SYNC_WIRE_OVERLAP if overlap else SYNC_WIRE
    if wire not in ("float32", "bfloat16"):
        raise FirthError(f"--sync-wire: must be float32 or bfloat16, got {wire!r}")
    if mode not in MODES:
        raise FirthError(f"--sync-mode: must be one of {', '.join(MODES)}, got {mode!r}")
    if not (isinstance(sync_words, int) and sync_words >= 1):
        raise FirthError(f"--sync-words: must be an integer >= 1, got {sync_words!r}")
    if not (isinstance(sync_rare, (int, float)) and 0 <= sync_rare < math.inf):
        raise FirthError(f"--sync-rare: must be a number >= 0 (0: every touched row at every sync), got {sync_rare!r}")
    if not (isinstance(sync_hot, (int, float)) and 0 < sync_hot < math.inf):
        raise FirthError(f"--sync-hot: must be a number > 0 (expected occurrences between two syncs), got {sync_hot!r}")
    if not (isinstance(sync_bound, (int, float)) and 0 < sync_bound < math.inf):
        raise FirthError(f"--sync-bound: must be a number > 0 (times the longest one-rank move), got {sync_bound!r}")
    return sync_words, mode, float(sync_rare), bool(overlap), wire, float(sync_hot)


def _row_counts(trainer, n_rows: int) -> np.ndarray:
    """Expected occurrences in the corpus of each row of the input matrix: a word's count for
    its row; for fastText's n-gram rows, the summed counts of the words that contain the
    n-gram (each occurrence of such a word updates the row)."""
    counts = np.asarray(trainer.vocab.counts, np.float64)
    if n_rows <= len(counts) or not hasattr(trainer, "_subword_tables"):
        return counts
    off, sub, _ = trainer._subword_tables()
    out = np.bincount(np.asarray(sub, np.int64), weights=np.repeat(counts, np.diff(off)), minlength=n_rows)[:n_rows]
    out[: len(counts)] = counts
    return out


def _make_sync(trainer, comm, mats, mode, sync_words, global_words, syncs, sync_rare, wire, sync_hot, sync_bound,
               overlap=False):
    """The DeltaSync of this job: its periods (``--sync-rare``) and hot rows (``hot``)."""
    if mode in ("adasum", "bound") and wire != "float32":
        raise FirthError(f"--sync-wire: --sync-mode {mode} sends float32 deltas only; drop --sync-wire {wire}")
    # a rare row waits at most until the epoch's last sync, which carries every row. The
    # overlapped sync has no flags to skip untouched rows: fastText's n-gram rows need their own
    # schedule (the blocking sync keeps them due at every sync, where the flags filter them)
    n_rows = max(len(m) for m in mats)
    rows = _row_counts(trainer, n_rows)
    counts = rows if overlap else trainer.vocab.counts
    periods = sync_periods(counts, n_rows, comm.size * sync_words, global_words, float(sync_rare),
                           1 << (syncs.bit_length() - 1))
    hot = None
    if mode == "hot":  # rows expected >= sync_hot times between two syncs in all ranks' text: a
        # word's rows, and fastText's n-gram rows by the words that hold them (summed, they overshoot)
        hot = rows * float(comm.size * sync_words) / max(global_words, 1) >= float(sync_hot)
    threads = int(trainer.workers)  # the rank's trainer threads wait at the sync's barrier: its rows take their cores
    if overlap:
        return OverlappedSync(mats, comm, periods=periods, wire=wire, mode=mode, hot=hot, threads=threads), periods, hot
    return (DeltaSync(mats, comm, mode=mode, periods=periods, wire=wire, hot=hot, bound=float(sync_bound), threads=threads),
            periods, hot)


def _timed(sync):
    """``sync`` wrapped to add its wall time to ``.seconds[0]`` of the wrapper."""
    def timed_sync(full=False):
        t = time.perf_counter()
        try:
            return sync(full=full)
        finally:
            timed_sync.seconds[0] += time.perf_counter() - t

    timed_sync.seconds = [0.0]
    return timed_sync


def _run_epochs(trainer, comm, runner, sync, syncs, checkpoint, start_epoch, call_base, progress) -> None:
    """The epochs: each trained by every rank, its loss and words all-reduced, rank 0 writes
    the checkpoint."""
    epochs = trainer.epochs
    job = trainer._job_fn()
    show = (trainer.progress if progress is None else progress) and comm.rank == 0
    bar = progress_bar(trainer._encoded.n_tokens * (epochs - start_epoch), bool(show), desc="train (rank 0)")
    try:
        for e in range(start_epoch, epochs):
            epoch = call_base + e
            comm.step = f"epoch {epoch + 1}"
            loss, words, ex, secs = runner.run_epoch(job, epoch, e, epochs, bar=bar)
            tot = np.array([loss, words, ex], np.float64)
            comm.all_reduce_sum(tot)
            trainer.train_seconds += secs
            trainer.words_trained += int(tot[1])
            trainer.epochs_trained = epoch + 1
            mean = tot[0] / tot[2] if tot[2] else float("nan")
            trainer.epoch_losses.append(float(mean))
            trainer.epoch_loss_sums.append(float(tot[0]))
            if bar is not None:
                bar.write(f"epoch {epoch + 1}: loss {mean:.4f} per example, {syncs} syncs, "
                          f"{sync.last_payload / 2**20:.1f} MiB per sync from this rank", file=sys.stderr)
            if checkpoint is not None:
                agree(comm, lambda: trainer.save_checkpoint(checkpoint, call_epochs=epochs, call_base=call_base)
                      if comm.rank == 0 else None, f"writing the checkpoint of epoch {epoch + 1}")
            _maybe_fault(comm.rank, epoch + 1)
    finally:
        if bar is not None:
            bar.close()


def train(trainer, corpus, comm, checkpoint=None, sync_words: int | None = None, mode: str | None = None, progress=None,
          sync_rare: float | None = None, wire: str | None = None, sync_hot: float | None = None,
          sync_bound: float = SYNC_BOUND, overlap: bool | None = None) -> dict:
    """Train ``trainer`` (Word2Vec or FastText, untrained) on ``corpus`` across the ranks of
    ``comm``. Returns the synchronisation figures (syncs, bytes)."""
    if trainer.vocab is not None:
        raise FirthError("--distributed: the trainer already has a vocabulary; start from a new one")
    sync_words, mode, sync_rare, overlap, wire, sync_hot = _sync_options(
        comm.size, sync_words, mode, sync_rare, sync_hot, sync_bound, overlap, wire,
        subwords=hasattr(trainer, "_subword_tables"))
    build_vocab(trainer, corpus, comm)
    enc = trainer._encoded
    tokens = np.array([enc.n_tokens], np.int64)
    comm.step = "counting words"
    comm.all_reduce_sum(tokens)
    global_words = int(tokens[0])
    syncs = max(1, math.ceil(global_words / (comm.size * sync_words)))
    start_epoch, call_base = _resume(trainer, checkpoint, trainer.epochs, comm)
    mats = _matrices(trainer)
    sync, periods, hot = _make_sync(trainer, comm, mats, mode, sync_words, global_words, syncs, sync_rare, wire,
                                    sync_hot, sync_bound, overlap)
    runner = SyncedRunner(enc.offsets, trainer.workers, trainer.alpha, trainer.min_alpha,
                          _rank_seed(trainer.seed, comm.rank), sync, syncs, release=getattr(enc, "release", None))
    runner.sync = _timed(sync)
    _run_epochs(trainer, comm, runner, sync, syncs, checkpoint, start_epoch, call_base, progress)
    return {
        "world_size": comm.size,
        "sync_words": sync_words,
        "syncs_per_epoch": syncs,
        "syncs": sync.syncs,
        "mode": mode,
        "sync_bound": float(sync_bound) if mode == "bound" else None,
        "payload_bytes": sync.payload_bytes,  # this rank's input to the collectives, summed
        "payload_bytes_per_sync": sync.payload_bytes / max(sync.syncs, 1),
        "wire_bytes_per_sync": sync.wire_bytes / max(sync.syncs, 1),  # what ring collectives send from this rank
        "rows_synced": sync.rows_synced,
        "sync_seconds": round(runner.sync.seconds[0], 3),
        "sync_phase_seconds": {k: round(v, 3) for k, v in sync.seconds.items()},
        "sync_rare": sync_rare,
        "sync_wire": wire,
        "sync_overlap": bool(overlap),
        "sync_hot": sync_hot if mode == "hot" else None,
        "hot_rows": None if hot is None else int(hot.sum()),
        "rows_per_period": {str(p): int(n) for p, n in zip(*np.unique(periods, return_counts=True))},
        "global_words_per_epoch": global_words,
    }


def run(trainer, corpus, output, fmt: str = "native", checkpoint=None, sync_words: int | None = None, mode: str | None = None,
        timeout_s: float = TIMEOUT_S, quiet: bool = False, sync_rare: float | None = None,
        wire: str | None = None, sync_hot: float | None = None, sync_bound: float = SYNC_BOUND,
        overlap: bool | None = None) -> int:
    """``firth train --distributed``: join the torchrun job, train, rank 0 writes ``output``."""
    torchrun_env()  # the one-line error before importing torch
    comm = TorchComm(timeout_s)
    t0 = time.perf_counter()
    try:
        stats = train(trainer, corpus, comm, checkpoint=checkpoint, sync_words=sync_words, mode=mode,
                      progress=not quiet, sync_rare=sync_rare, wire=wire, sync_hot=sync_hot,
                      sync_bound=sync_bound, overlap=overlap)
        if not quiet:  # where each rank's time went (benchmarks/bench_distributed.py reads these lines)
            print(f"rank {comm.rank}: vocabulary {trainer.vocab_seconds:.2f} s, training {trainer.train_seconds:.2f} s "
                  f"of which syncs {stats['sync_seconds']:.2f} s "
                  f"({', '.join(f'{k} {v:.2f}' for k, v in stats['sync_phase_seconds'].items())}), "
                  f"since start {time.perf_counter() - t0:.2f} s", file=sys.stderr, flush=True)
        if comm.rank == 0:
            kv = trainer.vectors(copy=False)
            kv.meta["distributed"] = stats
            comm.step = "writing the output"
            kv.save(output, format=fmt)
            if not quiet:
                words = trainer.words_trained
                secs = trainer.train_seconds or 1e-9
                print(f"wrote {output}: {len(kv):,} words x {kv.vector_size} dims; {comm.size} ranks; "
                      f"{words:,} words trained in {secs:.1f} s ({words / secs:,.0f} words/s); "
                      f"{stats['syncs']} syncs, {stats['payload_bytes_per_sync'] / 2**20:.2f} MiB per sync per rank "
                      f"({stats['wire_bytes_per_sync'] / 2**20:.2f} MiB sent), "
                      f"{stats['sync_seconds']:.2f} s in syncs, {stats['rows_synced']} rows synced; "
                      f"loss per epoch: {', '.join(f'{x:.4f}' for x in trainer.epoch_losses)}; "
                      f"total {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        comm.step = "the end of the job"
        comm.barrier()  # nobody exits (and tears down the group) before rank 0 has written
    finally:
        trainer.close()
        comm.close()
    return 0
