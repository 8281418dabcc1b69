"""``firth experiment ...``: experiments that illustrate the lecture (recurrent networks).

Only argparse-level code at import time; torch and matplotlib are imported in the handler.
"""

from __future__ import annotations

from firth.errors import check


def register(sub) -> None:
    from firth.cli import add_parser

    p = add_parser(sub, "experiment", "run an experiment from the lecture (writes a figure, prints its numbers)")
    esub = p.add_subparsers(dest="experiment", metavar="EXPERIMENT")
    esub.required = True
    v = add_parser(
        esub,
        "vanishing-gradient",
        "S-RNN vs LSTM (same parameter budget) on a long-range dependency: accuracy by length, "
        "gradient norm by position",
        description=(
            "Trains an S-RNN and an LSTM with the same number of parameters to classify sequences "
            "(lengths 10..200) whose class is their first token, then plots (a) test accuracy "
            "against sequence length and (b) ||dloss/dx_t|| against t at initialisation (log scale). "
            "About 40 seconds on 2 CPU cores with the defaults."
        ),
    )
    v.add_argument("-o", "--output", default="vanishing-gradient.png", help="PNG file to write")
    v.add_argument("--json", default=None, metavar="PATH", help="also write all the numbers as JSON")
    v.add_argument("--steps", type=int, default=1000, help="training steps per cell")
    v.add_argument("--batch", type=int, default=32, help="sequences per training step")
    v.add_argument("--lstm-hidden", type=int, default=16,
                   help="LSTM hidden size; the S-RNN's is chosen to match its parameter count")
    v.add_argument("--vocab", type=int, default=8, help="symbols: 2 class markers + distractors")
    v.add_argument("--min-length", type=int, default=10, help="shortest training sequence")
    v.add_argument("--max-length", type=int, default=200, help="longest sequence (and the gradient plot's length)")
    v.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate (both cells)")
    v.add_argument("--forget-bias", type=float, default=1.0, help="initial LSTM forget-gate bias")
    v.add_argument("--eval-n", type=int, default=1000, help="test sequences per length")
    v.add_argument("--seed", type=int, default=0, help="random seed (data and initialisation)")
    v.add_argument("--threads", type=int, default=None, help="torch CPU threads (None: torch's own choice)")
    v.add_argument("--device", default=None, help="cpu or cuda (None: cuda when available, else cpu)")
    v.add_argument("--per-length", default="", metavar="N,N,...",
                   help="also train one model per cell (S-RNN, LSTM with forget bias 1 and 3, sLSTM), span n and "
                        "seed on sequences of exactly n tokens, tested at n (panel c)")
    v.add_argument("--per-length-steps", type=int, default=600, help="training steps per (cell, n, seed) model")
    v.add_argument("--per-length-seeds", type=int, default=3, help="seeds per (cell, n) in panel c")
    v.add_argument("--from-json", nargs="+", default=None, metavar="PATH",
                   help="draw the figure from numbers saved with --json (no training); several files are merged, "
                        "later ones adding cells and panel-c lines")
    v.add_argument("--per-length-workers", type=int, default=1,
                   help="processes for panel c (one thread each; the same numbers as with 1)")
    v.set_defaults(func=_vanishing_gradient)


def _vanishing_gradient(args) -> int:
    check(args.steps >= 1, f"--steps {args.steps}: need at least 1")
    check(args.batch >= 1, f"--batch {args.batch}: need at least 1")
    check(args.lstm_hidden >= 1, f"--lstm-hidden {args.lstm_hidden}: need at least 1")
    check(args.vocab >= 3, f"--vocab {args.vocab}: need at least 3 (2 class markers + distractors)")
    check(2 <= args.min_length <= args.max_length,
          f"--min-length {args.min_length} / --max-length {args.max_length}: need 2 <= min <= max")
    check(args.eval_n >= 1, f"--eval-n {args.eval_n}: need at least 1")
    check(args.lr > 0, f"--lr {args.lr}: must be positive")
    try:
        per_length = [int(n) for n in args.per_length.split(",") if n.strip()]
    except ValueError:
        per_length = [0]
    check(all(n >= 2 for n in per_length), f"--per-length {args.per_length}: give lengths >= 2, comma-separated")
    check(args.per_length_steps >= 1, f"--per-length-steps {args.per_length_steps}: need at least 1")
    check(args.per_length_seeds >= 1, f"--per-length-seeds {args.per_length_seeds}: need at least 1")
    check(args.per_length_workers >= 1, f"--per-length-workers {args.per_length_workers}: need at least 1")
    check(str(args.output).lower().endswith(".png"), f"--output {args.output}: the figure is a PNG; name it *.png")
    from pathlib import Path

    for opt, path in (("--output", args.output), ("--json", args.json)):
        if path is not None:  # fail now, not after the training
            parent = Path(path).parent
            check(parent.is_dir(), f"{opt} {path}: directory {parent} does not exist")
    import json
    import time

    import torch

    from firth.io import atomic_write
    from firth.rnn.vanishing import format_results, load_results, per_length_accuracy, plot_results, run_experiment

    if args.from_json:
        results = load_results(args.from_json)
        plot_results(results, args.output)
        print(format_results(results))
        print(f"wrote {args.output}")
        return 0

    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    check(device == "cpu" or torch.cuda.is_available(), f"--device {device}: CUDA is not available here")
    t0 = time.perf_counter()
    results = run_experiment(
        steps=args.steps, lstm_hidden=args.lstm_hidden, vocab=args.vocab, batch=args.batch,
        min_length=args.min_length, max_length=args.max_length, forget_bias=args.forget_bias, lr=args.lr,
        seed=args.seed, eval_n=args.eval_n, device=device, log=print,
    )
    if per_length:
        results["per_length"] = per_length_accuracy(
            lengths=per_length, steps=args.per_length_steps, lstm_hidden=args.lstm_hidden, vocab=args.vocab,
            batch=args.batch, lr=args.lr, seed=args.seed, seeds=args.per_length_seeds, eval_n=args.eval_n,
            device=device, workers=args.per_length_workers, log=print)
        results["settings"]["per_length_steps"] = args.per_length_steps
    plot_results(results, args.output)
    results["seconds"] = time.perf_counter() - t0
    print(format_results(results))
    if args.json:
        with atomic_write(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print(f"total {results['seconds']:.1f}s; wrote {args.output}" + (f" and {args.json}" if args.json else ""))
    return 0
