"""Vanishing gradients, shown: an S-RNN and an LSTM with the same parameter budget on a
long-range dependency.

The task (the "latch" problem of Bengio et al. 1994): a sequence of n tokens, n from 10 to
200, whose *first* token is one of two class markers (symbols 0 and 1) and whose other
n − 1 tokens are distractors drawn uniformly from the remaining V − 2 symbols. The class is
the first token, so the network has to carry one bit across n − 1 steps of noise and read
it from its final state (an acceptor). Inputs are one-hot vectors.

Why an S-RNN should fail: the gradient of the loss with respect to an early input is a
product of per-step Jacobians, ``∂sₙ/∂sᵢ = ∏ⱼ diag(g'(·)) Wˢᵀ``; with ‖·‖ < 1 per step it
shrinks exponentially in the distance n − i, and the signal from x₁ is lost under the
gradients from the distractors. The LSTM's memory passes ``∂cⱼ/∂cⱼ₋₁ = diag(f)`` back
instead: with the forget gate near 1 the error is preserved. What we measure:

(a) test accuracy against sequence length for each cell, after the same training budget
    (one model per cell trained on lengths sampled log-uniformly in [10, 200], so that
    short sequences are common enough to start learning from). Each point averages test
    lengths in a window ``[n − n/10, n]`` holding both parities: a failing S-RNN can settle
    into an oscillating state whose readout flips sign with the parity of n, which at
    exact even lengths shows up as accuracy far *below* chance rather than at it;
(b) ``‖∂loss/∂xₜ‖`` against t for length-200 sequences at initialisation (mean over a
    batch, log scale), with the per-step decay factor fitted on the last 50 positions. Thin
    lines: the LSTM at initialisation with other forget-gate biases, to show that the gate
    sets the rate. (Profiles after training are in the JSON output but not drawn: once the
    loss is near zero and the gates saturate, local gradients are small for reasons that
    have nothing to do with vanishing.)

The parameter budget is matched by choosing the S-RNN's hidden size so that its parameter
count (RNN + output layer) is closest to the LSTM's. The LSTM's forget-gate bias starts at
``forget_bias`` (1 by default, after Jozefowicz et al. 2015). Everything is seeded.
"""

from __future__ import annotations

import copy
import io
import math
import time

import torch
import torch.nn.functional as F

from firth.rnn.heads import sequence_loss
from firth.rnn.models import RNNAcceptor
from firth.rnn.runner import RNN

__all__ = ["make_batch", "matched_hidden", "count_parameters", "run_experiment", "plot_results", "format_results",
           "load_results"]

EVAL_LENGTHS = (10, 20, 35, 50, 75, 100, 150, 200)


def make_batch(lengths, vocab: int, generator: torch.Generator, device="cpu"):
    """One batch of the task: one-hot inputs (B, T, V), lengths (B,), labels (B,)."""
    lengths = torch.as_tensor(lengths, dtype=torch.int64)
    B, T = len(lengths), int(lengths.max())
    tokens = torch.randint(2, vocab, (B, T), generator=generator)  # distractors: symbols 2…V−1
    labels = torch.randint(0, 2, (B,), generator=generator)
    tokens[:, 0] = labels  # the first token is the class marker (0 or 1)
    x = F.one_hot(tokens, vocab).float()
    return x.to(device), lengths, labels.to(device)


def sample_lengths(batch: int, lo: int, hi: int, generator: torch.Generator) -> torch.Tensor:
    """Log-uniform lengths in [lo, hi]: as many sequences in 10–20 as in 100–200."""
    u = torch.rand(batch, generator=generator)
    return torch.exp(math.log(lo) + u * (math.log(hi + 1) - math.log(lo))).long().clamp(lo, hi)


def count_parameters(module) -> int:
    return sum(p.numel() for p in module.parameters())


def build(cell: str, vocab: int, hidden: int, forget_bias: float) -> RNNAcceptor:
    opts = {"forget_bias": forget_bias} if cell in ("lstm", "slstm") else {}
    return RNNAcceptor(RNN(cell, vocab, hidden, **opts), num_classes=2)


def matched_hidden(cell: str, vocab: int, budget: int) -> int:
    """The hidden size of ``cell`` whose acceptor has the parameter count closest to ``budget``."""
    best, best_gap = 1, None
    for h in range(1, 4096):  # parameter counts grow with h: stop once past the budget
        gap = count_parameters(build(cell, vocab, h, 0.0)) - budget
        if best_gap is None or abs(gap) < best_gap:
            best, best_gap = h, abs(gap)
        if gap > 0:
            break
    return best


def train(model, steps, batch, lo, hi, vocab, lr, seed, device, log=None):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    model.train()
    losses = []
    for step in range(steps):
        x, lengths, y = make_batch(sample_lengths(batch, lo, hi, g), vocab, g, device)
        loss = sequence_loss(model(x, lengths), y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # the usual guard against explosions
        opt.step()
        losses.append(loss.item())
        if log and (step + 1) % max(1, steps // 5) == 0:
            log(f"  step {step + 1}/{steps}: loss {sum(losses[-50:]) / len(losses[-50:]):.3f}")
    return losses


@torch.no_grad()
def accuracy_by_length(model, lengths, n, vocab, seed, device) -> dict[int, float]:
    model.eval()
    g = torch.Generator().manual_seed(seed)
    out = {}
    for length in lengths:
        # an even number of consecutive lengths ending at n, about n/10 of them, so that
        # both parities are equally represented (see the module docstring)
        lo = max(1, length - 2 * math.ceil(length / 20) + 1)
        x, L, y = make_batch(torch.randint(lo, length + 1, (n,), generator=g), vocab, g, device)
        out[int(length)] = float((model(x, L).argmax(dim=1) == y).float().mean())
    return out


def gradient_profile(model, length, n, vocab, seed, device) -> list[float]:
    """Mean over a batch of ‖∂loss/∂xₜ‖ for t = 1…length (the loss is on the final state).

    Computed in float64 on a copy of the model: the S-RNN's gradient falls below float32's
    smallest number (~1e-45) about 100 steps back and would read as exactly zero.
    """
    model = copy.deepcopy(model).double().eval()
    g = torch.Generator().manual_seed(seed)
    x, L, y = make_batch([length] * n, vocab, g, device)
    x = x.double().requires_grad_(True)
    # summed (not averaged) loss, so each sequence's gradient is its own, not divided by n
    sequence_loss(model(x, L), y, reduction="sum").backward()
    return x.grad.norm(dim=2).mean(dim=0).double().cpu().tolist()


def decay_rate(profile: list[float], lo: int, hi: int) -> float:
    """Per-step factor of the gradient going back in time, fitted on positions lo…hi (1-based)
    as exp(slope of log‖∂L/∂xₜ‖ against t); 1 means no decay. NaN when it underflows to 0."""
    ts = [t for t in range(lo, hi + 1) if profile[t - 1] > 0]
    if len(ts) < 2:
        return float("nan")
    ys = [math.log(profile[t - 1]) for t in ts]
    mt, my = sum(ts) / len(ts), sum(ys) / len(ys)
    slope = sum((t - mt) * (v - my) for t, v in zip(ts, ys)) / sum((t - mt) ** 2 for t in ts)
    return math.exp(-slope)


def run_experiment(steps=1000, lstm_hidden=16, vocab=8, batch=32, min_length=10, max_length=200,
                   forget_bias=1.0, lr=3e-3, seed=0, eval_n=1000, device="cpu", log=print,
                   other_forget_biases=(0.0, 3.0)) -> dict:
    """Train both cells and measure (a) accuracy by length, (b) gradient profiles. Returns numbers."""
    results = {"settings": dict(steps=steps, vocab=vocab, batch=batch, min_length=min_length, max_length=max_length,
                                forget_bias=forget_bias, lr=lr, seed=seed, eval_n=eval_n, device=str(device)),
               "cells": {}}
    budget = count_parameters(build("lstm", vocab, lstm_hidden, forget_bias))
    sizes = {"srnn": matched_hidden("srnn", vocab, budget), "lstm": lstm_hidden}
    eval_lengths = [n for n in EVAL_LENGTHS if min_length <= n <= max_length] or [min_length, max_length]
    for cell in ("srnn", "lstm"):
        t0 = time.perf_counter()
        torch.manual_seed(seed)
        model = build(cell, vocab, sizes[cell], forget_bias).to(device)
        n_params = count_parameters(model)
        log(f"{cell}: hidden {sizes[cell]}, {n_params} parameters")
        grad_init = gradient_profile(model, max_length, 256, vocab, seed + 1, device)
        losses = train(model, steps, batch, min_length, max_length, vocab, lr, seed + 2, device, log)
        acc = accuracy_by_length(model, eval_lengths, eval_n, vocab, seed + 3, device)
        grad_trained = gradient_profile(model, max_length, 256, vocab, seed + 1, device)
        results["cells"][cell] = {
            "hidden": sizes[cell], "parameters": n_params, "accuracy": acc,
            "grad_init": grad_init, "grad_trained": grad_trained,
            "decay_init": decay_rate(grad_init, max(1, max_length - 50), max_length),
            "final_loss": sum(losses[-100:]) / len(losses[-100:]), "seconds": time.perf_counter() - t0,
        }
    results["lstm_forget_bias_init"] = {}
    for fb in other_forget_biases:
        torch.manual_seed(seed)
        profile = gradient_profile(build("lstm", vocab, lstm_hidden, fb).to(device), max_length, 256, vocab, seed + 1, device)
        results["lstm_forget_bias_init"][str(fb)] = {
            "grad_init": profile, "decay_init": decay_rate(profile, max(1, max_length - 50), max_length)}
    return results


PER_LENGTH_CELLS = (("srnn", 1.0), ("lstm", 1.0), ("lstm", 3.0), ("slstm", 1.0))


def _per_length_job(cell, forget_bias, hidden, n, steps, batch, vocab, lr, seed, eval_n, device):
    """One (cell, n, seed) model of panel (c), in a worker process: trained on sequences of
    exactly n tokens, tested at n. Returns its test accuracy."""
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    model = build(cell, vocab, hidden, forget_bias).to(device)
    train(model, steps, batch, n, n, vocab, lr, seed + 2, device)
    return accuracy_by_length(model, [n], eval_n, vocab, seed + 3, device)[int(n)]


def per_length_accuracy(cells=PER_LENGTH_CELLS, lengths=(5, 10, 20, 40, 80, 160), steps=600, lstm_hidden=16,
                        vocab=8, batch=32, lr=3e-3, seed=0, seeds=3, eval_n=1000, device="cpu", workers=1,
                        log=print) -> dict:
    """(c) Where each cell breaks: one fresh model per (cell, forget-gate bias), span n and
    seed, trained on sequences of **exactly** n tokens (so the only training signal for the
    first token has to travel back n − 1 steps) and tested at n (both parities, as in (a)).
    ``cells`` are (cell, initial forget-gate bias) pairs; the bias only matters for the
    gated cells. Same parameter budget as (a). Every model is independent and seeded, so they
    run in ``workers`` processes (one thread each) with the same results as in one.

    Returns ``{label: {cell, forget_bias, hidden, parameters, accuracy: {n: mean over seeds},
    runs: {n: [accuracy per seed]}}}``."""
    budget = count_parameters(build("lstm", vocab, lstm_hidden, 1.0))
    jobs, out = [], {}
    for cell, fb in cells:
        hidden = lstm_hidden if cell == "lstm" else matched_hidden(cell, vocab, budget)
        label = cell if cell == "srnn" else f"{cell} b_f={fb:g}"
        out[label] = {"cell": cell, "forget_bias": fb, "hidden": hidden,
                      "parameters": count_parameters(build(cell, vocab, hidden, fb)), "accuracy": {}, "runs": {}}
        for n in lengths:
            for s in range(seed, seed + seeds):
                jobs.append((label, int(n), (cell, fb, hidden, int(n), steps, batch, vocab, lr, s, eval_n, device)))
    if workers > 1:
        import concurrent.futures as cf
        import multiprocessing as mp

        # spawn, not fork: the parent's OpenMP pool may already be running
        with cf.ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
            accs = list(pool.map(_per_length_job, *zip(*[j[2] for j in jobs])))
    else:
        threads = torch.get_num_threads()
        accs = [_per_length_job(*j[2]) for j in jobs]
        torch.set_num_threads(threads)
    for (label, n, _), a in zip(jobs, accs):
        out[label]["runs"].setdefault(n, []).append(a)
    for label, r in out.items():
        r["accuracy"] = {n: sum(v) / len(v) for n, v in r["runs"].items()}
        log(f"{label} trained at exactly n: " + ", ".join(
            f"n={n}: " + "/".join(f"{a:.2f}" for a in v) for n, v in r["runs"].items()))
    return out


def load_results(paths) -> dict:
    """Results saved with ``--json`` (lengths come back as JSON strings: made ints again).
    Several files merge: the first gives panels (a) and (b), later ones add panel-(c) lines,
    so the figure can be computed in pieces (each seeded, so the numbers are those of one run)."""
    import json

    from firth.errors import FirthError

    def ints(d):
        return {int(k): v for k, v in d.items()}

    merged: dict = {}
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                res = json.load(f)
        except (OSError, ValueError) as e:
            raise FirthError(f"--from-json {path}: cannot read it ({e}); give a file written with --json") from None
        if not isinstance(res, dict) or not ({"cells", "per_length"} & set(res)):
            raise FirthError(f"--from-json {path}: not vanishing-gradient results; give a file written with --json")
        for c, r in res.get("cells", {}).items():
            r["accuracy"] = ints(r["accuracy"])
        for c, r in res.get("per_length", {}).items():
            r["accuracy"], r["runs"] = ints(r["accuracy"]), ints(r.get("runs", {}))
        if "cells" in res and "cells" not in merged:
            merged.update({k: v for k, v in res.items() if k != "per_length"})
        merged.setdefault("per_length", {}).update(res.get("per_length", {}))
        if "per_length_steps" in res.get("settings", {}) and "settings" in merged:
            merged["settings"]["per_length_steps"] = res["settings"]["per_length_steps"]
    if "cells" not in merged:
        raise FirthError(f"--from-json {' '.join(map(str, paths))}: none holds panels (a) and (b); "
                         "include a file from a full run")
    return merged


def format_results(results: dict) -> str:
    """The printed numbers: accuracy per length, gradient norms at chosen t, decay rates."""
    cells = results["cells"]
    names = {"srnn": "S-RNN", "lstm": "LSTM"}
    lengths = list(next(iter(cells.values()))["accuracy"])
    T = len(next(iter(cells.values()))["grad_init"])
    lines = ["(a) test accuracy by sequence length (chance = 0.5)"]
    lines.append("cell    params  " + "".join(f"{n:>7}" for n in lengths))
    for c, r in cells.items():
        lines.append(f"{names[c]:<7} {r['parameters']:>6}  " + "".join(f"{r['accuracy'][n]:>7.3f}" for n in lengths))
    ts = [t for t in (1, 50, 100, 150, 190, T) if t <= T]
    lines.append(f"(b) mean ||dloss/dx_t|| for length-{T} sequences (t = 1 is the deciding token)")
    lines.append("cell                 " + "".join(f"{'t=' + str(t):>10}" for t in ts) + "   decay/step")
    rows = [(f"{names[c]} (init)", r["grad_init"], r["decay_init"]) for c, r in cells.items()]
    fb = results["settings"]["forget_bias"]
    rows[-1] = (f"LSTM b_f={fb:g} (init)", *rows[-1][1:])
    rows += [(f"LSTM b_f={float(k):g} (init)", v["grad_init"], v["decay_init"])
             for k, v in results.get("lstm_forget_bias_init", {}).items()]
    for label, profile, rate in rows:
        lines.append(f"{label:<21}" + "".join(f"{profile[t - 1]:>10.2e}" for t in ts) + f"   {rate:.3f}")
    for c, r in results.get("per_length", {}).items():
        if c == next(iter(results["per_length"])):
            lines.append("(c) one model per n and seed, trained on sequences of exactly n: test accuracy at n, "
                         "mean over seeds (successes: accuracy > 0.9)")
            lines.append("cell           params  " + "".join(f"{n:>11}" for n in r["accuracy"]))
        lines.append(f"{c:<14} {r['parameters']:>6}  " + "".join(
            f"{a:>6.3f} ({sum(x > 0.9 for x in r['runs'][n])}/{len(r['runs'][n])})" for n, a in r["accuracy"].items()))
    lines.append("decay/step: factor by which the gradient shrinks per step back in time, fitted on the last 50 positions")
    lines.append("time: " + ", ".join(f"{names[c]} {r['seconds']:.1f}s" for c, r in cells.items()))
    return "\n".join(lines)


def plot_results(results: dict, path) -> None:
    """Write the two-panel PNG atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from firth.io import atomic_write

    cells = results["cells"]
    s = results["settings"]
    style = {"srnn": ("S-RNN", "tab:red"), "lstm": ("LSTM", "tab:blue")}
    per = results.get("per_length") or {}
    if per:
        fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(18, 4.8))
        colors = {"srnn": "tab:red", "lstm": "tab:blue", "slstm": "tab:green", "mlstm": "tab:purple", "gru": "tab:orange"}
        for c, r in per.items():
            ls = [int(n) for n in r["accuracy"]]
            color = colors.get(r.get("cell", c), "black")
            style_ = "o-" if r.get("forget_bias", 1.0) == 1.0 or r.get("cell") == "srnn" else "s--"
            name = "S-RNN" if r.get("cell") == "srnn" else c.replace("lstm", "LSTM").replace("sLSTM", "sLSTM")
            ax3.plot(ls, list(r["accuracy"].values()), style_, color=color,
                     label=f"{name} ({r['parameters']} params)")
            for n, v in r.get("runs", {}).items():  # each seed, faint
                ax3.plot([int(n)] * len(v), v, ".", color=color, alpha=0.35)
        ax3.axhline(0.5, color="gray", lw=0.8, ls=":")
        ax3.set_xscale("log")
        ax3.set_ylim(0.0, 1.02)
        ax3.set_xlabel("span n: trained on sequences of exactly n tokens, tested at n")
        ax3.set_ylabel("test accuracy")
        ax3.set_title(f"(c) where each cell breaks: one model per n and seed, {s['per_length_steps']} steps"
                      if "per_length_steps" in s else "(c) where each cell breaks: one model per n and seed")
        ax3.legend(loc="lower left", fontsize=8)
    else:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.6))
    for c, r in cells.items():
        name, color = style[c]
        ls = list(r["accuracy"])
        ax1.plot(ls, [r["accuracy"][n] for n in ls], "o-", color=color, label=f"{name} (d_h={r['hidden']}, {r['parameters']} params)")
        T = len(r["grad_init"])
        t = list(range(1, T + 1))
        floor = 1e-300  # log scale: a gradient that is exactly 0 is drawn at the floor
        extra = f", b_f={s['forget_bias']:g}" if c == "lstm" else ""
        ax2.semilogy(t, [max(v, floor) for v in r["grad_init"]], "-", color=color, lw=2,
                     label=f"{name}{extra}: x{r['decay_init']:.2f} per step back")
    for (fb, v), ls in zip(results.get("lstm_forget_bias_init", {}).items(), (":", "-.", "--")):
        ax2.semilogy(range(1, len(v["grad_init"]) + 1), [max(u, 1e-300) for u in v["grad_init"]], ls,
                     color="tab:blue", lw=1, label=f"LSTM, b_f={float(fb):g}: x{v['decay_init']:.2f} per step back")
    ax1.axhline(0.5, color="gray", lw=0.8, ls=":")
    ax1.set_ylim(0.0, 1.02)
    ax1.set_xlabel("sequence length n (the class is decided by token 1)")
    ax1.set_ylabel("test accuracy")
    ax1.set_title(f"(a) accuracy vs length after {s['steps']} steps (chance 0.5)")
    ax1.legend(loc="lower left", fontsize=8)
    ax2.set_xlabel(f"position t in a length-{s['max_length']} sequence (loss on the final state)")
    ax2.set_ylabel("mean ||dloss/dx_t||  (log scale)")
    ax2.set_title("(b) gradient reaching input x_t, at initialisation")
    ax2.legend(loc="lower right", fontsize=8)
    ax2.grid(True, which="major", alpha=0.3)
    fig.suptitle("Vanishing gradients: S-RNN vs LSTM, same parameter budget, first-token task", fontsize=11)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    with atomic_write(path, "wb") as f:
        f.write(buf.getvalue())
