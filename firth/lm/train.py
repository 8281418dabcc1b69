"""Training a language model: truncated BPTT with the state carried across chunks.

The training text is cut into ``batch`` contiguous streams read side by side, ``bptt``
tokens at a time; the state at the end of a chunk starts the next one, detached, so
gradients flow back at most ``bptt`` steps while the model still sees the whole text as
one sequence. Gradients are clipped; the learning rate is divided by ``lr_decay`` when
validation perplexity does not improve; the best model on validation is what is kept and
written (at every improvement, atomically). A checkpoint directory, when given, is
rewritten at every validation and training resumes from it.

The pieces, as in pytorch/examples' ``word_language_model`` (``train()`` one epoch,
``evaluate()`` apart): :func:`train` sets up (:func:`_setup`) and runs epochs
(:meth:`_Run.run_epoch`), each a loop of :func:`train_step` over the chunks;
:meth:`_Run.validate` measures validation perplexity (:func:`firth.lm.evaluate.evaluate`),
keeps the best weights and adjusts the learning rate. Under torchrun the ranks split the
streams and DistributedDataParallel averages the gradients (:mod:`firth.lm.ranks`); in one
process that module is the identity.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from firth.errors import FirthError
from firth.io import atomic_dir
from firth.lm.config import LMConfig
from firth.lm.data import Vocab, read_ids, train_streams
from firth.lm.model import LanguageModel
from firth.lm.ranks import Objective, Ranks
from firth.lm.store import finite, load_tensors, read_model_files, save_lm, write_model_files

__all__ = ["train", "train_step", "init_from_vectors"]

CHECKPOINT_KIND = "lm-checkpoint"
# what progress.json holds, and the type of each field
PROGRESS = {"epoch": int, "position": int, "lr": float, "best": (float, type(None)), "seconds": float,
            "tokens": int, "since_valid": int}


def init_from_vectors(model: LanguageModel, vocab: Vocab, kv) -> int:
    """Copy the vectors of vocabulary words into the input embedding; returns how many were found."""
    if kv.vector_size != model.cfg.emb:
        raise FirthError(f"--vectors: dimension {kv.vector_size} but --emb is {model.cfg.emb}; "
                         f"pass --emb {kv.vector_size}")
    found = 0
    with torch.no_grad():
        w = model.encoder.weight
        for i, word in enumerate(vocab.itos):
            j = kv.get_index(word, None)
            if j is not None:
                v = torch.tensor(np.asarray(kv.vectors[j]), dtype=w.dtype)
                if not torch.isfinite(v).all():
                    raise FirthError(f"--vectors: the vector of {word!r} contains NaN or infinite values")
                w[i] = v
                found += 1
    return found


def _optimizer(cfg: LMConfig, params):
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr)
    return torch.optim.SGD(params, lr=cfg.lr)


def _save_checkpoint(path, model, vocab, optim, progress: dict, state: torch.Tensor, history, rank_rngs):
    """``state``: the whole (L, batch, S) state; ``rank_rngs``: every rank's RNG state (P, n)."""
    with atomic_dir(path, CHECKPOINT_KIND) as tmp:
        write_model_files(tmp, model, vocab, history)
        torch.save({"optimizer": optim.state_dict(), "torch_rng": rank_rngs[0].clone(), "rank_rngs": rank_rngs,
                    "state": state.detach()}, tmp / "state.pt")
        (tmp / "progress.json").write_text(json.dumps(progress) + "\n", encoding="utf-8")


def _load_checkpoint(path, cfg: LMConfig):
    path = Path(path)
    model, vocab, meta = read_model_files(path)
    # how long to train and on how many threads may change on resume; nothing else may
    same = {"epochs": cfg.epochs, "time_budget": cfg.time_budget, "token_budget": cfg.token_budget,
            "workers": cfg.workers}
    if model.cfg.replace(**same) != cfg:
        theirs, ours = model.cfg.to_dict(), cfg.to_dict()
        diff = ", ".join(f"--{k.replace('_', '-')} {theirs[k]!r} (now {ours[k]!r})" for k in ours
                         if k not in same and theirs[k] != ours[k])
        raise FirthError(f"{path}: the checkpoint was made with {diff}; use the same options or another "
                         "--checkpoint directory")
    model.cfg = cfg
    try:
        extra = load_tensors(path / "state.pt")
        progress = json.loads((path / "progress.json").read_text(encoding="utf-8"))
    except Exception as e:
        raise FirthError(f"{path}: cannot read the checkpoint ({type(e).__name__}); remove it to start afresh") from None
    if not isinstance(extra, dict) or not {"optimizer", "torch_rng", "state"} <= set(extra):
        raise FirthError(f"{path}/state.pt: damaged checkpoint (optimizer, random-number or carried state missing); "
                         "remove it to start afresh")
    if not isinstance(progress, dict) or any(not isinstance(progress.get(k), t) for k, t in PROGRESS.items()):
        raise FirthError(f"{path}/progress.json: damaged checkpoint; remove it to start afresh")
    return model, vocab, meta.get("history", []), extra, progress


def train_step(model: LanguageModel, optim, params, clip: float, x, y, state, net=None):
    """One chunk of truncated BPTT: forward from the carried (detached) ``state``, the mean
    −log-likelihood of ``y``, backward, clip, update. Returns ``(loss, new state)``.
    ``net``: the loss as a module (:class:`firth.lm.ranks.Objective`) under
    DistributedDataParallel, whose backward averages the ranks' gradients."""
    state = state.detach()
    if net is None:
        out, state = model(x, state)
        loss = model.loss(out, y)
    else:
        loss, state = net(x, state, y)
    optim.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, clip)
    optim.step()
    return float(loss.detach()), state


@dataclass
class _Run:
    """One training run: the model, its data and optimizer, and where it stands (what a
    checkpoint saves). ``run_nll``/``run_n``: training loss since the last validation."""

    cfg: LMConfig
    model: LanguageModel
    vocab: Vocab
    history: list
    data: torch.Tensor  # (S, batch) training streams
    valid_ids: torch.Tensor | None
    optim: torch.optim.Optimizer
    state: torch.Tensor
    paths: dict  # train, valid, output, checkpoint
    epoch: int = 0
    position: int = 0
    lr: float = 0.0
    best: float = math.inf
    best_state: dict | None = None
    seconds0: float = 0.0
    tokens: int = 0
    since_valid: int = 0
    run_nll: float = 0.0
    run_n: int = 0
    t_start: float = 0.0
    say: object = print
    bar: object = None
    params: list = field(default_factory=list)
    ranks: Ranks | None = None
    net: object = None  # the DDP-wrapped Objective under torchrun, else None

    def elapsed(self) -> float:
        return time.perf_counter() - self.t_start

    def out_of_time(self) -> bool:
        return bool(self.cfg.time_budget and self.elapsed() > self.cfg.time_budget * 60.0)

    def set_lr(self, lr: float):
        self.lr = lr
        for g in self.optim.param_groups:
            g["lr"] = lr

    def validate(self) -> dict:
        """Record the training perplexity since the last validation and the validation
        perplexity; keep (and write) the best weights, or divide the learning rate."""
        cfg, model = self.cfg, self.model
        rec = {"epoch": self.epoch + 1, "tokens": self.tokens, "seconds": round(self.elapsed(), 1), "lr": self.lr,
               "train_ppl": finite(math.exp(min(self.run_nll / max(self.run_n, 1), 700)))}
        if self.valid_ids is not None:
            mean = self.ranks.perplexity_nll(model, self.valid_ids, self.vocab.eos, cfg.eval_batch, cfg.bptt)
            ppl = math.exp(mean) if mean < 700 else math.inf
            rec["valid_ppl"] = finite(ppl)
            if not math.isfinite(ppl):
                raise FirthError(f"training diverged (validation perplexity {ppl}); lower --lr "
                                 f"(now {cfg.lr}) or --clip, or use --optimizer adam")
            if ppl < self.best:
                self.best, rec["best"] = ppl, True
                self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                if self.paths["output"] and self.ranks.writer:
                    save_lm(self.paths["output"], model, self.vocab, self.history + [rec],
                            inputs=[self.paths["train"], self.paths["valid"]])
            elif cfg.lr_decay > 1:
                self.set_lr(self.lr / cfg.lr_decay)
        self.history.append(rec)
        self.say(json.dumps(rec))
        model.train()
        self.run_nll, self.run_n, self.since_valid = 0.0, 0, 0
        return rec

    def save_checkpoint(self):
        progress = {"epoch": self.epoch, "position": self.position, "lr": float(self.lr), "best": finite(self.best),
                    "seconds": self.elapsed(), "tokens": self.tokens, "since_valid": 0}
        state = self.ranks.whole(self.state.detach(), 1, self.cfg.batch)  # collectives: every rank takes part
        rngs = self.ranks.rng_states()
        if self.ranks.writer:
            _save_checkpoint(self.paths["checkpoint"], self.model, self.vocab, self.optim, progress, state,
                             self.history, rngs)

    def run_epoch(self, chunks, valid_every: int) -> bool:
        """Train from ``position`` to the end of the epoch (or the budget); True when the budget stopped it."""
        cfg, data = self.cfg, self.data
        t_rate, tok_rate = time.perf_counter(), 0
        for ci in range(self.position, len(chunks)):
            t0 = chunks[ci]
            t1 = min(t0 + cfg.bptt, data.shape[0] - 1)
            y = data[t0 + 1 : t1 + 1]
            lv, self.state = self.ranks.call(train_step, self.model, self.optim, self.params, cfg.clip, data[t0:t1], y,
                                             self.state, self.net)
            # the whole batch's loss and tokens (every rank's, under torchrun), and the clock
            nll, n, out_of_time = self.ranks.agree(lv * y.numel(), y.numel(), self.out_of_time())
            if not math.isfinite(nll):
                raise FirthError(f"training diverged (loss {nll / n} at epoch {self.epoch + 1}); lower --lr "
                                 f"(now {cfg.lr}) or --clip, or use --optimizer adam")
            self.run_nll, self.run_n, self.tokens, self.since_valid = (self.run_nll + nll, self.run_n + n,
                                                                       self.tokens + n, self.since_valid + n)
            tok_rate += n
            self.position = ci + 1
            if self.bar is not None:
                self.bar.update(1)
                if ci % 20 == 0:
                    now = time.perf_counter()
                    ppl = math.exp(min(self.run_nll / self.run_n, 700))
                    self.bar.set_postfix(epoch=self.epoch + 1, ppl=f"{ppl:.1f}",
                                         tok_s=f"{tok_rate / max(now - t_rate, 1e-9):.0f}", lr=f"{self.lr:.3g}")
                    t_rate, tok_rate = now, 0
            out_of_budget = out_of_time or bool(cfg.token_budget and self.tokens >= cfg.token_budget)
            if self.since_valid >= valid_every or out_of_budget:
                self.validate()
                if self.paths["checkpoint"]:
                    self.save_checkpoint()
            if out_of_budget:
                self.say(f"budget reached after {self.tokens} training tokens, {self.elapsed():.0f} s")
                return True
        return False


def _setup(cfg: LMConfig, paths: dict, vectors, max_vocab: int, say) -> _Run:
    """Build (or resume) the model, read the data, make the optimizer; the run at its start."""
    ranks = Ranks()
    ranks.check(cfg.batch)
    if not ranks.writer:
        say = _quiet
    torch.set_num_threads(cfg.workers)
    torch.manual_seed(cfg.seed)  # the same on every rank: one initialisation
    checkpoint = paths["checkpoint"]
    resumed = bool(checkpoint and (Path(checkpoint) / "progress.json").is_file())
    if resumed:
        model, vocab, history, extra, prog = _load_checkpoint(checkpoint, cfg)
        say(f"resuming from {checkpoint}: epoch {prog['epoch'] + 1}, {prog['tokens']} tokens trained")
    else:
        vocab = Vocab.build(paths["train"], max_vocab)
        model = LanguageModel(cfg, len(vocab))
        history = []
        if vectors is not None:
            found = init_from_vectors(model, vocab, vectors)
            say(f"vectors: {found} of {len(vocab)} vocabulary words initialised from --vectors")
    ranks.same_everywhere(prog["tokens"] if resumed else -1,
                          "the resumed position (is --checkpoint on a disk every rank sees?)")
    train_ids, train_oov = read_ids(paths["train"], vocab)
    data = ranks.streams(train_streams(train_ids, cfg.batch, paths["train"]), 1)
    valid_ids = read_ids(paths["valid"], vocab)[0] if paths["valid"] else None
    say(f"vocabulary {len(vocab)}; training tokens {train_ids.numel()} ({train_oov} out of vocabulary); "
        f"parameters {sum(p.numel() for p in model.parameters())}"
        + (f"; {ranks.size} ranks" if ranks.size > 1 else ""))
    params = [p for p in model.parameters()]
    optim = _optimizer(cfg, params)
    run = _Run(cfg, model, vocab, history, data, valid_ids, optim, state=model.init_state(cfg.batch // ranks.size),
               paths=paths, lr=cfg.lr, say=say, params=params, ranks=ranks,
               net=ranks.wrap(Objective(model)) if ranks.size > 1 else None)
    ranks.seed_dropout(cfg.seed)
    if resumed:
        _resume(run, extra, prog)
    run.set_lr(run.lr)
    return run


def _quiet(msg):
    pass


def _resume(run: _Run, extra: dict, prog: dict) -> None:
    """Put a checkpoint's optimizer, carried state, position and random-number state into ``run``."""
    cfg, ranks, model = run.cfg, run.ranks, run.model
    run.optim.load_state_dict(extra["optimizer"])
    state = extra.get("state")
    want = (cfg.layers, cfg.batch, model.rnn.state_size)
    if not isinstance(state, torch.Tensor) or tuple(state.shape) != want:
        raise FirthError(f"{run.paths['checkpoint']}/state.pt: the carried state is not {want}; "
                         "the checkpoint is damaged, remove it to start afresh")
    run.state = ranks.streams(state, 1)
    for k in ("epoch", "position", "lr", "tokens", "since_valid"):
        setattr(run, k, prog[k])
    run.best = math.inf if prog["best"] is None else prog["best"]
    run.seconds0 = prog["seconds"]
    output = run.paths["output"]
    if output and (Path(output) / "weights.pt").is_file():
        run.best_state = read_model_files(output)[0].state_dict()
    else:
        run.best_state = {k: v.clone() for k, v in model.state_dict().items()}
    # last: building models above draws random numbers. Each rank continues its own dropout
    # stream when the checkpoint was written by as many ranks; otherwise rank 0 continues the
    # writer's rank 0 and the others start theirs afresh (said in the log).
    rngs = extra.get("rank_rngs")
    if isinstance(rngs, torch.Tensor) and rngs.dim() == 2 and rngs.shape[0] == ranks.size:
        _set_rng(rngs[ranks.rank].clone(), run.paths["checkpoint"])
        return
    if ranks.rank == 0:
        _set_rng(extra["torch_rng"], run.paths["checkpoint"])
    if ranks.size > 1:
        run.say(f"the checkpoint was written by another number of processes: ranks 1-{ranks.size - 1} "
                "draw dropout afresh")


def _set_rng(state, checkpoint) -> None:
    try:
        torch.set_rng_state(state)
    except (TypeError, RuntimeError):
        raise FirthError(f"{checkpoint}/state.pt: damaged random-number state; remove the checkpoint to start "
                         "afresh") from None


def train(cfg: LMConfig, train_path, valid_path=None, output=None, vectors=None, checkpoint=None,
          progress: bool = True, log=None, max_vocab: int = 0):
    """Train a language model; returns ``(model, vocab, history)`` with the best weights on validation.

    ``output``: model directory written at every validation improvement (and at the end).
    ``vectors``: firth vectors (KeyedVectors) to initialise the input embedding.
    ``checkpoint``: a directory to resume from and rewrite at every validation.
    """
    paths = {"train": train_path, "valid": valid_path, "output": output, "checkpoint": checkpoint}
    run = _setup(cfg, paths, vectors, max_vocab, log or (lambda msg: None))
    chunks = list(range(0, run.data.shape[0] - 1, cfg.bptt))
    valid_every = cfg.valid_every or (run.data.shape[0] - 1) * cfg.batch
    run.t_start = time.perf_counter() - run.seconds0
    if progress and run.ranks.writer:
        from firth.progress import progress as bar

        run.bar = bar(total=cfg.epochs * len(chunks), initial=run.epoch * len(chunks) + run.position, unit="chunk",
                      desc="lm train", leave=False)
    run.model.train()
    while run.epoch < cfg.epochs:
        if run.run_epoch(chunks, valid_every):
            break
        run.epoch, run.position = run.epoch + 1, 0
        run.state = run.model.init_state(cfg.batch // run.ranks.size)  # a new pass starts each stream afresh
    if run.bar is not None:
        run.bar.close()
    if run.run_n:  # tokens since the last validation: validate, and checkpoint the finished job
        run.validate()
        if checkpoint:
            run.save_checkpoint()
    model = run.model
    if run.best_state is not None:
        model.load_state_dict(run.best_state)
    elif output and run.ranks.writer:  # no validation text: the last weights are the model
        save_lm(output, model, run.vocab, run.history, inputs=[train_path])
    model.eval()
    return model, run.vocab, run.history
