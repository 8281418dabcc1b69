"""Training a language model: truncated BPTT with the state carried across chunks.

The training text is cut into ``batch`` contiguous streams read side by side, ``bptt``
tokens at a time; the state at the end of a chunk starts the next one, detached, so
gradients flow back at most ``bptt`` steps while the model still sees the whole text as
one sequence. Gradients are clipped; the learning rate is divided by ``lr_decay`` when
validation perplexity does not improve; the best model on validation is what is kept and
written (at every improvement, atomically). A checkpoint directory, when given, is
rewritten at every validation and training resumes from it.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from firth.errors import FirthError
from firth.io import atomic_dir
from firth.lm.config import LMConfig
from firth.lm.data import Vocab, read_ids, train_streams
from firth.lm.evaluate import evaluate
from firth.lm.model import LanguageModel
from firth.lm.store import finite, load_tensors, read_model_files, save_lm, write_model_files

__all__ = ["train", "init_from_vectors"]

CHECKPOINT_KIND = "lm-checkpoint"


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


def _save_checkpoint(path, model, vocab, optim, progress: dict, state: torch.Tensor, history):
    with atomic_dir(path, CHECKPOINT_KIND) as tmp:
        write_model_files(tmp, model, vocab, history)
        torch.save({"optimizer": optim.state_dict(), "torch_rng": torch.get_rng_state(), "state": state.detach()},
                   tmp / "state.pt")
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
    keys = {"epoch": int, "position": int, "lr": float, "best": (float, type(None)), "seconds": float,
            "tokens": int, "since_valid": int}
    if not isinstance(progress, dict) or any(not isinstance(progress.get(k), t) for k, t in keys.items()):
        raise FirthError(f"{path}/progress.json: damaged checkpoint; remove it to start afresh")
    return model, vocab, meta.get("history", []), extra, progress


def train(cfg: LMConfig, train_path, valid_path=None, output=None, vectors=None, checkpoint=None,
          progress: bool = True, log=None, max_vocab: int = 0):
    """Train a language model; returns ``(model, vocab, history)`` with the best weights on validation.

    ``output``: model directory written at every validation improvement (and at the end).
    ``vectors``: firth vectors (KeyedVectors) to initialise the input embedding.
    ``checkpoint``: a directory to resume from and rewrite at every validation.
    """
    say = log or (lambda msg: None)
    torch.set_num_threads(cfg.workers)
    torch.manual_seed(cfg.seed)
    resumed = None
    if checkpoint and (Path(checkpoint) / "progress.json").is_file():
        resumed = _load_checkpoint(checkpoint, cfg)
        model, vocab, history, extra, prog = resumed
        say(f"resuming from {checkpoint}: epoch {prog['epoch'] + 1}, {prog['tokens']} tokens trained")
    else:
        vocab = Vocab.build(train_path, max_vocab)
        model = LanguageModel(cfg, len(vocab))
        history = []
        if vectors is not None:
            found = init_from_vectors(model, vocab, vectors)
            say(f"vectors: {found} of {len(vocab)} vocabulary words initialised from --vectors")
    train_ids, train_oov = read_ids(train_path, vocab)
    data = train_streams(train_ids, cfg.batch, train_path)
    valid_ids = read_ids(valid_path, vocab)[0] if valid_path else None
    say(f"vocabulary {len(vocab)}; training tokens {train_ids.numel()} ({train_oov} out of vocabulary); "
        f"parameters {sum(p.numel() for p in model.parameters())}")
    params = [p for p in model.parameters()]
    optim = _optimizer(cfg, params)
    chunks = list(range(0, data.shape[0] - 1, cfg.bptt))
    per_epoch = (data.shape[0] - 1) * cfg.batch
    valid_every = cfg.valid_every or per_epoch
    if resumed:
        optim.load_state_dict(extra["optimizer"])
        state = extra["state"]
        epoch, position, lr, best = prog["epoch"], prog["position"], prog["lr"], prog["best"]
        seconds0, tokens, since_valid = prog["seconds"], prog["tokens"], prog["since_valid"]
        best = math.inf if best is None else best
        if output and (Path(output) / "weights.pt").is_file():
            best_state = read_model_files(output)[0].state_dict()
        else:
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
    else:
        state = model.init_state(cfg.batch)
        epoch, position, lr, best, seconds0, tokens, since_valid = 0, 0, cfg.lr, math.inf, 0.0, 0, 0
        best_state = None
    for g in optim.param_groups:
        g["lr"] = lr
    if resumed:  # last: building models above draws random numbers
        torch.set_rng_state(extra["torch_rng"])
    budget = cfg.time_budget * 60.0
    t_start = time.perf_counter() - seconds0
    bar = None
    if progress:
        from firth.progress import progress

        bar = progress(total=cfg.epochs * len(chunks), initial=epoch * len(chunks) + position, unit="chunk",
                       desc="lm train", leave=False)
    run_nll, run_n, t_rate, tok_rate = 0.0, 0, time.perf_counter(), 0

    def validate():
        nonlocal best, best_state, lr
        rec = {"epoch": epoch + 1, "tokens": tokens, "seconds": round(time.perf_counter() - t_start, 1),
               "lr": lr, "train_ppl": finite(math.exp(min(run_nll / max(run_n, 1), 700)))}
        if valid_ids is not None:
            res = evaluate(model, valid_ids, vocab.eos, cfg.eval_batch, cfg.bptt)
            ppl = res["perplexity"]
            rec["valid_ppl"] = finite(ppl)
            if not math.isfinite(ppl):
                raise FirthError(f"training diverged (validation perplexity {ppl}); lower --lr "
                                 f"(now {cfg.lr}) or --clip, or use --optimizer adam")
            if ppl < best:
                best, rec["best"] = ppl, True
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                if output:
                    save_lm(output, model, vocab, history + [rec], inputs=[train_path, valid_path])
            elif cfg.lr_decay > 1:
                lr /= cfg.lr_decay
                for g in optim.param_groups:
                    g["lr"] = lr
        history.append(rec)
        say(json.dumps(rec))
        model.train()
        return rec

    stopped = False
    model.train()
    while epoch < cfg.epochs and not stopped:
        for ci in range(position, len(chunks)):
            t0 = chunks[ci]
            t1 = min(t0 + cfg.bptt, data.shape[0] - 1)
            x, y = data[t0:t1], data[t0 + 1 : t1 + 1]
            state = state.detach()
            out, state = model(x, state)
            loss = model.nll(out, y).mean()
            optim.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, cfg.clip)
            optim.step()
            lv = float(loss.detach())
            if not math.isfinite(lv):
                raise FirthError(f"training diverged (loss {lv} at epoch {epoch + 1}); lower --lr (now {cfg.lr}) "
                                 "or --clip, or use --optimizer adam")
            n = y.numel()
            run_nll, run_n, tokens, since_valid, tok_rate = run_nll + lv * n, run_n + n, tokens + n, since_valid + n, tok_rate + n
            position = ci + 1
            if bar is not None:
                bar.update(1)
                if ci % 20 == 0:
                    now = time.perf_counter()
                    bar.set_postfix(epoch=epoch + 1, ppl=f"{math.exp(min(run_nll / run_n, 700)):.1f}",
                                    tok_s=f"{tok_rate / max(now - t_rate, 1e-9):.0f}", lr=f"{lr:.3g}")
                    t_rate, tok_rate = now, 0
            out_of_time = (budget and time.perf_counter() - t_start > budget) or (
                cfg.token_budget and tokens >= cfg.token_budget)
            if since_valid >= valid_every or out_of_time:
                validate()
                run_nll, run_n, since_valid = 0.0, 0, 0
                if checkpoint:
                    _save_checkpoint(checkpoint, model, vocab, optim,
                                     {"epoch": epoch, "position": position, "lr": float(lr),
                                      "best": finite(best), "seconds": time.perf_counter() - t_start,
                                      "tokens": tokens, "since_valid": 0}, state, history)
            if out_of_time:
                stopped = True
                say(f"budget reached after {tokens} training tokens, {time.perf_counter() - t_start:.0f} s")
                break
        if not stopped:
            epoch, position = epoch + 1, 0
            state = model.init_state(cfg.batch)  # a new pass starts each stream afresh
    if bar is not None:
        bar.close()
    if run_n:
        validate()
    if best_state is not None:
        model.load_state_dict(best_state)
    elif output:  # no validation text: the last weights are the model
        save_lm(output, model, vocab, history, inputs=[train_path])
    model.eval()
    return model, vocab, history
