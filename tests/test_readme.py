"""README.md holds the two commands a newcomer runs; .ci/run must run the test one."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _commands():
    lines = (ROOT / "README.md").read_text().splitlines()
    return [ln for ln in lines if ln.startswith("python3 -m venv .venv &&")]


def test_readme_has_main_and_test_commands():
    cmds = _commands()
    assert len(cmds) == 2, cmds
    assert cmds[0].endswith("firth demo")
    assert "pytest" in cmds[1]


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert _commands()[1] in ci
