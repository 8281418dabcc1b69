"""One LM training step, firth vs pytorch/examples ``word_language_model``, in one process.

Both models are 2×200 LSTMs with a 10,002-word softmax, dropout 0.2, bptt 35, batch 20, SGD
lr 20, clip 0.25. firth's step is :func:`firth.lm.train.train_step` on a
:class:`firth.lm.model.LanguageModel`; the anchor's is the body of ``train()`` in its
``main.py`` on its own ``RNNModel`` (imported from the anchor's directory, unmodified).
Blocks of ``--steps`` steps alternate (firth, firth-plain, anchor, firth, ...) so that all
see the same load; the median ms/batch of each and their ratios are printed, then
(``--profile``) a cProfile of one block of each: where the time goes, and whether any of it
is Python. ``firth`` is the default step (the one-node softmax loss, firth/lm/softmax.py);
``firth-plain`` the same model and step with ``fused_softmax = False`` (``nn.Linear`` +
``F.cross_entropy``, the reference), so the softmax's share of any difference shows.
``--programs`` picks which run.

    flock /tmp/firth-heavy.lock python benchmarks/profile_lm_step.py --blocks 9 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

import torch

ANCHOR = Path(__file__).resolve().parent.parent.parent / "shared" / "anchors" / "pytorch-word-language-model"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--blocks", type=int, default=7, help="blocks of steps per program (median over them)")
    ap.add_argument("--steps", type=int, default=20, help="steps per block")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--vocab", type=int, default=10002)
    ap.add_argument("--profile", action="store_true", help="then cProfile one block of each")
    ap.add_argument("--programs", default="firth,firth-plain,anchor", help="which steps to time, in this order")
    args = ap.parse_args()
    if not (ANCHOR / "model.py").is_file():
        raise SystemExit(f"{ANCHOR}: the anchor is not there; this comparison needs ../shared/anchors")
    sys.path.insert(0, str(ANCHOR))
    import model as anchor_model  # the anchor's RNNModel

    from firth.lm.config import LMConfig
    from firth.lm.model import LanguageModel
    from firth.lm.train import train_step

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    V, T, B, n = args.vocab, 35, 20, args.steps
    data = torch.randint(0, V, (T * n + 1, B))
    fm = LanguageModel(LMConfig(cell="lstm", dropout=0.2), V).train()
    am = anchor_model.RNNModel("LSTM", V, 200, 200, 2, 0.2, False).train()
    params = list(fm.parameters())
    opt = torch.optim.SGD(params, lr=20)
    criterion = torch.nn.NLLLoss()

    def firth_block(fused=True):
        fm.fused_softmax = fused
        state = fm.init_state(B)
        t = time.perf_counter()
        for i in range(n):
            _, state = train_step(fm, opt, params, 0.25, data[i * T:(i + 1) * T], data[i * T + 1:(i + 1) * T + 1],
                                  state)
        return (time.perf_counter() - t) / n * 1000

    def anchor_block():  # main.py's train() body, batch by batch
        hidden = am.init_hidden(B)
        t = time.perf_counter()
        for i in range(n):
            x, y = data[i * T:(i + 1) * T], data[i * T + 1:(i + 1) * T + 1].reshape(-1)
            am.zero_grad()
            hidden = tuple(h.detach() for h in hidden)
            output, hidden = am(x, hidden)
            loss = criterion(output, y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(am.parameters(), 0.25)
            for p in am.parameters():
                p.data.add_(p.grad, alpha=-20)
            loss.item()
        return (time.perf_counter() - t) / n * 1000

    blocks = {"firth": firth_block, "firth-plain": lambda: firth_block(False), "anchor": anchor_block}
    names = args.programs.split(",")
    if not names or any(k not in blocks for k in names):
        raise SystemExit(f"--programs {args.programs}: use names from {', '.join(blocks)}")
    for k in names:  # warm-up
        blocks[k]()
    ms = {k: [] for k in names}
    for _ in range(args.blocks):
        for k in names:
            ms[k].append(blocks[k]())
    med = {k: sorted(v)[len(v) // 2] for k, v in ms.items()}
    for k, v in ms.items():
        print(f"{k}: ms/batch per block {[round(x, 1) for x in v]}, median {med[k]:.1f}, min {min(v):.1f}")
    for k in names:
        if k != "anchor" and "anchor" in ms:
            per = [a / f for a, f in zip(ms["anchor"], ms[k])]
            print(f"speed ratio {k} / anchor (tokens/s): median {med['anchor'] / med[k]:.3f}, "
                  f"best blocks {min(ms['anchor']) / min(ms[k]):.3f}, per block (same round) "
                  f"{[round(r, 3) for r in per]}, median of those {sorted(per)[len(per) // 2]:.3f}")
    if args.profile:
        for name in names:
            fn = blocks[name]
            prof = cProfile.Profile()
            prof.runcall(fn)
            print(f"===== {name}: one block of {n} steps")
            pstats.Stats(prof).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
