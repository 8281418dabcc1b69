"""Panel (c) of the vanishing-gradient experiment: one model per cell, span and seed."""

import json

from firth.cli import main
from firth.rnn.vanishing import format_results, per_length_accuracy


def test_per_length_short_span_is_learned_by_srnn():
    res = per_length_accuracy(cells=(("srnn", 1.0), ("slstm", 1.0)), lengths=(5,), steps=40, seeds=1, eval_n=200,
                              log=lambda m: None)
    assert res["srnn"]["accuracy"][5] >= 0.9  # a 5-step span: the S-RNN's gradient still reaches token 1
    assert 0.0 <= res["slstm b_f=1"]["accuracy"][5] <= 1.0
    assert res["srnn"]["runs"][5] == [res["srnn"]["accuracy"][5]]
    # matched parameter budgets (within one hidden unit's worth of the LSTM's 1,698)
    assert abs(res["srnn"]["parameters"] - 1698) < 80 and abs(res["slstm b_f=1"]["parameters"] - 1698) < 200


def test_per_length_workers_give_the_same_numbers():
    kw = dict(cells=(("srnn", 1.0), ("lstm", 3.0)), lengths=(4, 6), steps=5, seeds=2, eval_n=50, log=lambda m: None)
    one, two = per_length_accuracy(workers=1, **kw), per_length_accuracy(workers=2, **kw)
    assert one == two
    assert one["lstm b_f=3"]["forget_bias"] == 3.0 and len(one["lstm b_f=3"]["runs"][6]) == 2


def test_cli_per_length_panel(tmp_path, capsys):
    out = tmp_path / "vg.png"
    assert main(["experiment", "vanishing-gradient", "-o", str(out), "--steps", "5", "--max-length", "12",
                 "--eval-n", "20", "--per-length", "4", "--per-length-steps", "5", "--per-length-seeds", "1", "--threads", "1"]) == 0
    text = capsys.readouterr().out
    assert "(c) one model per n and seed" in text and out.stat().st_size > 10_000
    # the figure redrawn from saved numbers, panel (c) merged from a second file
    js = tmp_path / "vg.json"
    assert main(["experiment", "vanishing-gradient", "-o", str(out), "--steps", "3", "--max-length", "12",
                 "--eval-n", "20", "--threads", "1", "--json", str(js)]) == 0
    extra = tmp_path / "c.json"
    extra.write_text(json.dumps({"per_length": per_length_accuracy(cells=(("srnn", 1.0),), lengths=(4,), steps=3,
                                                                    seeds=1, eval_n=20, log=lambda m: None)}))
    capsys.readouterr()
    out.unlink()
    assert main(["experiment", "vanishing-gradient", "-o", str(out), "--from-json", str(js), str(extra)]) == 0
    assert "(c) one model per n and seed" in capsys.readouterr().out and out.stat().st_size > 10_000
    assert main(["experiment", "vanishing-gradient", "-o", str(out), "--from-json", str(extra)]) == 1
    assert "none holds panels (a) and (b)" in capsys.readouterr().err
    assert main(["experiment", "vanishing-gradient", "-o", str(out), "--per-length", "1,x"]) == 1
    assert "--per-length 1,x" in capsys.readouterr().err


def test_format_without_per_length_unchanged():
    res = {"settings": {"forget_bias": 1.0}, "cells": {"srnn": {"parameters": 1, "accuracy": {10: 0.5},
           "grad_init": [1.0] * 3, "decay_init": 1.0, "seconds": 0.1}}}
    assert "(c)" not in format_results(res)
