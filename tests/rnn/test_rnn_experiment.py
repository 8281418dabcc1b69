"""The vanishing-gradient experiment at toy size (the real one takes minutes: not a test)."""

import subprocess
import sys

import torch

from firth.cli import main
from firth.rnn.vanishing import count_parameters, decay_rate, gradient_profile, make_batch, matched_hidden, build, run_experiment


def test_task_first_token_decides_class():
    g = torch.Generator().manual_seed(0)
    x, lengths, y = make_batch([5, 3, 7, 4], 6, g)
    assert x.shape == (4, 7, 6) and lengths.tolist() == [5, 3, 7, 4]
    assert torch.equal(x[:, 0].argmax(-1), y)  # class marker 0/1 first
    assert bool((x[:, 1:].argmax(-1) >= 2).all())  # distractors are other symbols


def test_budget_is_matched():
    lstm = count_parameters(build("lstm", 8, 16, 1.0))
    h = matched_hidden("srnn", 8, lstm)
    srnn = count_parameters(build("srnn", 8, h, 0.0))
    assert lstm == 4 * (16 * 8 + 16 * 16 + 2 * 16) + 16 * 2 + 2 == 1698
    assert h == 36 and abs(srnn - lstm) / lstm < 0.02


def test_srnn_gradient_decays_exponentially_at_init():
    torch.manual_seed(0)
    prof = gradient_profile(build("srnn", 8, 36, 0.0), 60, 16, 8, 0, "cpu")
    rate = decay_rate(prof, 10, 60)
    assert 0.4 < rate < 0.8  # shrinks by roughly a half per step back
    assert prof[0] < 1e-8 * prof[-1]
    torch.manual_seed(0)
    lstm = gradient_profile(build("lstm", 8, 16, 3.0), 60, 16, 8, 0, "cpu")
    assert decay_rate(lstm, 10, 60) > 0.9 and lstm[0] > 1e-3 * lstm[-1]  # forget gate near 1: held


def test_tiny_run_and_cli(tmp_path, capsys):
    r = run_experiment(steps=3, lstm_hidden=3, vocab=4, batch=4, min_length=5, max_length=12, eval_n=8, log=lambda m: None)
    for cell in ("srnn", "lstm"):
        c = r["cells"][cell]
        assert len(c["grad_init"]) == 12 and set(c["accuracy"]) == {10}
        assert 0.0 <= c["accuracy"][10] <= 1.0
    out = tmp_path / "vg.png"
    assert main(["experiment", "vanishing-gradient", "-o", str(out), "--steps", "2", "--lstm-hidden", "3",
                 "--batch", "4", "--max-length", "12", "--min-length", "5", "--eval-n", "8",
                 "--json", str(tmp_path / "vg.json")]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = capsys.readouterr().out
    assert "(a) test accuracy by sequence length" in text and "S-RNN (init)" in text
    assert main(["experiment", "vanishing-gradient", "-o", str(tmp_path / "x.txt")]) == 1
    assert "name it *.png" in capsys.readouterr().err
    assert main(["experiment", "vanishing-gradient", "-o", str(tmp_path / "no" / "x.png")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_cli_module_does_not_import_torch():
    code = "import sys, firth.cli; firth.cli.build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_both_cells_learn_the_short_range_version():
    """At length 10 the S-RNN learns the task too: its failure over 10…200 is about distance."""
    from firth.rnn import sequence_loss

    for cell, h in (("srnn", 36), ("lstm", 16)):
        torch.manual_seed(0)
        m = build(cell, 8, h, 1.0)
        opt = torch.optim.Adam(m.parameters(), lr=1e-2)
        g = torch.Generator().manual_seed(1)
        for _ in range(60):
            x, L, y = make_batch([10] * 32, 8, g)
            loss = sequence_loss(m(x, L), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            x, L, y = make_batch([10] * 300, 8, g)
            assert float((m(x, L).argmax(1) == y).float().mean()) > 0.95, cell
