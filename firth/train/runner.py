"""Running epochs of a training kernel over an encoded corpus with Hogwild threads.

Each epoch, the sentences are split by token ranges into one share per worker
(``split_shares``); each worker thread walks its share in *jobs* of ~``JOB_WORDS`` tokens
(``make_jobs``) and calls a job function that releases the GIL (a ``nogil`` Numba kernel).
A job's random generator is seeded from (seed, epoch, job index), so results never depend
on timing with one worker, and are bit-identical across runs and processes. The learning
rate decays linearly from ``alpha`` to ``min_alpha`` over all the words of all epochs of
one ``train`` call, computed from the words processed so far by all threads (as word2vec.c
does). Used by every trainer (word2vec, fastText): give it a job function
``job(s0, s1, alpha0, alpha1, seed) -> (loss, words, examples)``.
"""

from __future__ import annotations

import sys
import threading
import time

import numpy as np

from firth.train.kernels import job_seed

JOB_WORDS = 20_000


def split_shares(offsets: np.ndarray, n: int) -> list[tuple[int, int]]:
    """Split sentences into ``n`` contiguous shares of about equal token counts."""
    ns = len(offsets) - 1
    total = int(offsets[-1])
    cuts = [0]
    for k in range(1, n):
        s = int(np.searchsorted(offsets, total * k // n, side="left"))
        cuts.append(min(max(s, cuts[-1]), ns))
    cuts.append(ns)
    return [(cuts[k], cuts[k + 1]) for k in range(n)]


def make_jobs(offsets: np.ndarray, s0: int, s1: int, job_words: int = JOB_WORDS) -> list[tuple[int, int]]:
    """Cut sentences [s0, s1) into jobs of about ``job_words`` tokens (whole sentences)."""
    jobs = []
    s = s0
    while s < s1:
        target = offsets[s] + job_words
        e = int(np.searchsorted(offsets, target, side="left"))
        e = min(max(e, s + 1), s1)
        jobs.append((s, e))
        s = e
    return jobs


class EpochRunner:
    """Runs epochs of a job function over an encoded corpus with Hogwild threads.

    ``job_fn(s0, s1, alpha0, alpha1, seed) -> (loss, words, examples)`` must release the
    GIL (a ``nogil`` Numba kernel). The learning rate decays linearly from ``alpha`` to
    ``min_alpha`` over ``total_epochs`` epochs of ``offsets[-1]`` words each.
    """

    def __init__(self, offsets, workers: int, alpha: float, min_alpha: float, seed: int, job_words: int = JOB_WORDS,
                 after_job=None):
        self.offsets = offsets
        self.after_job = after_job  # called with (s0, s1) after each job (e.g. to release its pages)
        self.workers = workers
        self.alpha = float(alpha)
        self.min_alpha = float(min_alpha)
        self.seed = int(seed)
        self.words_per_epoch = int(offsets[-1])
        shares = split_shares(offsets, workers)
        self.jobs = [make_jobs(offsets, a, b, job_words) for a, b in shares]
        # global job numbering (independent of threads): share k's j-th job
        self.job_ids = []
        n = 0
        for js in self.jobs:
            self.job_ids.append(list(range(n, n + len(js))))
            n += len(js)

    def lr_at(self, words_done: float, total_words: float) -> float:
        p = min(max(words_done / max(total_words, 1), 0.0), 1.0)
        return self.alpha - (self.alpha - self.min_alpha) * p

    def run_epoch(self, job_fn, epoch: int, epoch_in_call: int, total_epochs: int, bar=None, seed_epoch: int | None = None):
        """Train one epoch; returns (loss sum, words, examples, seconds)."""
        T = self.words_per_epoch
        total_words = T * total_epochs
        base = epoch_in_call * T
        done = [0] * self.workers
        losses = [0.0] * self.workers
        examples = [0] * self.workers
        errors: list[BaseException] = []
        se = epoch if seed_epoch is None else seed_epoch

        def worker(k):
            try:
                for (s0, s1), jid in zip(self.jobs[k], self.job_ids[k]):
                    if errors:
                        return
                    nw = int(self.offsets[s1] - self.offsets[s0])
                    g = base + sum(done)  # words done by all threads (approximate with >1)
                    a0 = self.lr_at(g, total_words)
                    a1 = self.lr_at(g + nw * self.workers, total_words) if self.workers > 1 else self.lr_at(g + nw, total_words)
                    loss, words, ex = job_fn(s0, s1, a0, a1, np.uint64(job_seed(self.seed, se, jid)))
                    if self.after_job is not None:
                        self.after_job(s0, s1)
                    losses[k] += loss
                    examples[k] += ex
                    done[k] += words
            except BaseException as e:  # surfaced in the main thread
                errors.append(e)

        t0 = time.perf_counter()
        if self.workers == 1 and bar is None:
            worker(0)
        else:
            threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(self.workers)]
            for t in threads:
                t.start()
            last = 0
            while any(t.is_alive() for t in threads):
                threads[0].join(0.25) if threads[0].is_alive() else time.sleep(0.05)
                if bar is not None:
                    d = sum(done)
                    bar.update(d - last)
                    last = d
                    ex = sum(examples)
                    bar.set_postfix(
                        lr=f"{self.lr_at(base + d, total_words):.5f}",
                        loss=f"{sum(losses) / ex:.4f}" if ex else "-",
                        refresh=False,
                    )
            for t in threads:
                t.join()
            if bar is not None:
                bar.update(sum(done) - last)
        if errors:
            raise errors[0]
        return float(sum(losses)), int(sum(done)), int(sum(examples)), time.perf_counter() - t0


def progress_bar(total_words: int, enabled: bool, desc: str = "train"):
    if not enabled:
        return None
    from firth.progress import progress  # tqdm on a terminal, plain lines in a log

    return progress(total=total_words, unit="w", desc=desc, file=sys.stderr, unit_scale=True, dynamic_ncols=True,
                    smoothing=0.1)
