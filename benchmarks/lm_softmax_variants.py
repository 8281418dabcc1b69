"""Variants of firth's softmax loss in the LM training step, interleaved with the anchor's step.

Programs, each a block of ``--steps`` training steps (2×200 LSTM, 10,002 words, bptt 35,
batch 20, SGD 20, clip 0.25), run in turn for ``--rounds`` rounds: ``anchor`` (main.py's
``train()`` body on its own ``RNNModel``), ``plain`` (firth's step with ``nn.Linear`` +
``F.cross_entropy``), ``rows`` (firth's one-node loss, firth/lm/softmax.py, logits (N, V)),
``cols`` (the same node with the logits laid out (V, N): the product as ``W hᵀ``,
``log_softmax`` over dim 0) and ``reuse`` (``rows`` writing into one buffer kept across
steps). Prints ms per step and minor page faults per step (median over rounds);
``--torch-profile`` then prints torch.profiler tables of one block of ``anchor`` and ``rows``.

    flock /tmp/firth-heavy.lock python benchmarks/lm_softmax_variants.py --rounds 10
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import torch

ANCHOR = Path(__file__).resolve().parent.parent.parent / "shared" / "anchors" / "pytorch-word-language-model"


class ColsNLL(torch.autograd.Function):
    """linear_nll with the logits stored (V, N)."""

    @staticmethod
    def forward(ctx, h, weight, bias, target):
        z = torch.addmm(bias.unsqueeze(1), weight, h.t())
        torch._log_softmax(z, 0, False, out=z)
        loss = z.gather(0, target.unsqueeze(0)).sum().neg_().div_(h.shape[0])
        ctx.save_for_backward(h, weight, z, target)
        return loss

    @staticmethod
    def backward(ctx, grad):
        h, weight, lp, target = ctx.saved_tensors
        g = lp.exp_()
        g.scatter_add_(0, target.unsqueeze(0), g.new_full((1, g.shape[1]), -1.0))
        s = grad / h.shape[0]
        return g.t().mm(weight).mul_(s), g.mm(h).mul_(s), g.sum(1).mul_(s), None


class ReuseNLL(torch.autograd.Function):
    """linear_nll writing into one (N, V) buffer kept across steps."""

    buf = None

    @staticmethod
    def forward(ctx, h, weight, bias, target):
        shape = (h.shape[0], weight.shape[0])
        if ReuseNLL.buf is None or ReuseNLL.buf.shape != shape:
            ReuseNLL.buf = torch.empty(shape, dtype=h.dtype)
        z = torch.addmm(bias, h, weight.t(), out=ReuseNLL.buf)
        torch._log_softmax(z, 1, False, out=z)
        loss = z.gather(1, target.unsqueeze(1)).sum().neg_().div_(h.shape[0])
        ctx.save_for_backward(h, weight, z, target)
        return loss

    @staticmethod
    def backward(ctx, grad):
        h, weight, lp, target = ctx.saved_tensors
        g = lp.exp_()
        g.scatter_add_(1, target.unsqueeze(1), g.new_full((g.shape[0], 1), -1.0))
        s = grad / h.shape[0]
        return g.mm(weight).mul_(s), g.t().mm(h).mul_(s), g.sum(0).mul_(s), None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--torch-profile", action="store_true")
    args = ap.parse_args()
    sys.path.insert(0, str(ANCHOR))
    import model as anchor_model

    import firth.lm.model as flm
    from firth.lm.config import LMConfig
    from firth.lm.softmax import linear_nll
    from firth.lm.train import train_step

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    V, T, B, n = 10002, 35, 20, args.steps
    data = torch.randint(0, V, (T * n + 1, B))
    fm = flm.LanguageModel(LMConfig(cell="lstm", dropout=0.2), V).train()
    am = anchor_model.RNNModel("LSTM", V, 200, 200, 2, 0.2, False).train()
    params = list(fm.parameters())
    opt = torch.optim.SGD(params, lr=20)
    crit = torch.nn.NLLLoss()

    def firth(fn):
        def block():
            fm.fused_softmax = fn is not None
            flm.linear_nll = fn or linear_nll  # the name LanguageModel.loss calls
            state = fm.init_state(B)
            for i in range(n):
                _, state = train_step(fm, opt, params, 0.25, data[i * T:(i + 1) * T],
                                      data[i * T + 1:(i + 1) * T + 1], state)
        return block

    def anchor():
        hidden = am.init_hidden(B)
        for i in range(n):
            x, y = data[i * T:(i + 1) * T], data[i * T + 1:(i + 1) * T + 1].reshape(-1)
            am.zero_grad()
            hidden = tuple(h.detach() for h in hidden)
            out, hidden = am(x, hidden)
            loss = crit(out, y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(am.parameters(), 0.25)
            for p in am.parameters():
                p.data.add_(p.grad, alpha=-20)
            loss.item()

    progs = {"anchor": anchor, "plain": firth(None), "rows": firth(linear_nll), "cols": firth(ColsNLL.apply),
             "reuse": firth(ReuseNLL.apply)}
    try:
        for f in progs.values():
            f()  # warm-up
        ms = {k: [] for k in progs}
        faults = {k: [] for k in progs}
        for _ in range(args.rounds):
            for k, f in progs.items():
                f0, t0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.perf_counter()
                f()
                ms[k].append((time.perf_counter() - t0) / n * 1000)
                faults[k].append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / n)
        for k in progs:
            med = sorted(ms[k])[len(ms[k]) // 2]
            print(f"{k:7s} median {med:6.1f} ms/step, min {min(ms[k]):6.1f}, page faults/step "
                  f"{sorted(faults[k])[len(ms[k]) // 2]:.0f}; per round {[round(x, 1) for x in ms[k]]}")
        if args.torch_profile:
            from torch.profiler import profile

            for k in ("anchor", "rows"):
                with profile() as prof:
                    progs[k]()
                print(f"===== {k}: one block of {n} steps")
                print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))
    finally:
        flm.linear_nll = linear_nll


if __name__ == "__main__":
    main()
