"""Panel (c) of the vanishing-gradient experiment: one model per cell and length."""

from firth.cli import main
from firth.rnn.vanishing import format_results, per_length_accuracy


def test_per_length_short_span_is_learned_by_srnn():
    res = per_length_accuracy(cells=("srnn", "slstm"), lengths=(5,), steps=40, eval_n=200, log=lambda m: None)
    assert res["srnn"]["accuracy"][5] >= 0.9  # a 5-step span: the S-RNN's gradient still reaches token 1
    assert 0.0 <= res["slstm"]["accuracy"][5] <= 1.0
    # matched parameter budgets (within one hidden unit's worth of the LSTM's 1,698)
    assert abs(res["srnn"]["parameters"] - 1698) < 80 and abs(res["slstm"]["parameters"] - 1698) < 200


def test_cli_per_length_panel(tmp_path, capsys):
    out = tmp_path / "vg.png"
    assert main(["experiment", "vanishing-gradient", "-o", str(out), "--steps", "5", "--max-length", "12",
                 "--eval-n", "20", "--per-length", "4", "--per-length-steps", "5", "--threads", "1"]) == 0
    text = capsys.readouterr().out
    assert "(c) one model per n" in text and out.stat().st_size > 10_000
    assert main(["experiment", "vanishing-gradient", "-o", str(out), "--per-length", "1,x"]) == 1
    assert "--per-length 1,x" in capsys.readouterr().err


def test_format_without_per_length_unchanged():
    res = {"settings": {"forget_bias": 1.0}, "cells": {"srnn": {"parameters": 1, "accuracy": {10: 0.5},
           "grad_init": [1.0] * 3, "decay_init": 1.0, "seconds": 0.1}}}
    assert "(c)" not in format_results(res)
