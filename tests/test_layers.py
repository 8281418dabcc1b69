"""The module graph of firth/: no import cycles (imports inside functions and under
``if TYPE_CHECKING`` count too), and the layer rules of docs/ARCHITECTURE.md.

Run alone: ``.venv/bin/python -m pytest -q tests/test_layers.py``.

Edges are the modules an ``import`` / ``from ... import`` names: ``from a.b import c`` is an
edge to ``a.b.c`` when that is a module of firth, else to ``a.b``. A submodule's implicit
import of its parent package is not an edge (as in import-linter): every package's
``__init__`` would otherwise form a cycle with the modules it re-exports.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "firth"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py")) if "__pycache__" not in p.parts}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every firth module ``name`` imports, anywhere in its source."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                pkg = name.split(".") if is_pkg else name.split(".")[:-1]
                pkg = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join(pkg + ([base] if base else []))
            targets = []
            for a in node.names:
                sub = f"{base}.{a.name}"
                targets.append(sub if sub in known else base)
        else:
            continue
        for t in targets:
            if t == "firth" or t.startswith("firth."):
                while t not in known and "." in t:  # `import firth.a.b` of a non-module attribute
                    t = t.rsplit(".", 1)[0]
                if t in known and t != name:
                    out.add(t)
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def find_cycle(g: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(g.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(g):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def _in(mod: str, pkg: str) -> bool:
    return mod == pkg or mod.startswith(pkg + ".")


# The benchmark algorithms of firth.evaluate work on any object with index_to_key /
# normalize / get_normed and import no vectors module, so KeyedVectors' gensim-style
# evaluate_word_pairs / evaluate_word_analogies methods can use them (issue 17).
EVALUATE_CORE = ("firth.evaluate.similarity", "firth.evaluate.analogy", "firth.evaluate.datasets",
                 "firth.evaluate.lookup", "firth.evaluate.kernels")


def violations(g: dict[str, set[str]]) -> list[str]:
    bad = []
    rules = [
        (EVALUATE_CORE, ("firth",), "is below firth.vectors: imports only errors and the other EVALUATE_CORE modules"),
        (("firth.errors", "firth.io", "firth.text"), ("firth",), "imports no other firth module but errors"),
        (("firth.vectors",), ("firth.train", "firth.tasks", "firth.search", "firth.rnn", "firth.evaluate",
                              "firth.lm", "firth.explore", "firth.demo"), "is the read side"),
        (("firth.train",), ("firth.tasks", "firth.search", "firth.rnn", "firth.evaluate", "firth.lm",
                            "firth.explore", "firth.demo"), "never imports the areas that use vectors"),
    ]
    for src, e in ((s, e) for s, es in g.items() for e in es):
        for lows, forbidden, why in rules:
            if any(_in(src, low) for low in lows):
                allowed_low = src in ("firth.io", "firth.text", *EVALUATE_CORE) and e == "firth.errors"
                allowed_low = allowed_low or (e in EVALUATE_CORE and (_in(src, "firth.vectors") or src in EVALUATE_CORE))
                if any(_in(e, f) for f in forbidden) and not allowed_low and not any(_in(e, low) for low in lows):
                    bad.append(f"{src} imports {e}: {lows[0]} {why}")
        if e == "firth.cli" and not (src.endswith(".cli") or src in ("firth.demo", "firth.__main__")):
            bad.append(f"{src} imports firth.cli: only the */cli.py modules (and firth.demo, a command; firth.__main__, python -m firth) may")
    return sorted(set(bad))


def test_the_graph_sees_function_level_and_type_checking_imports(tmp_path):
    src = tmp_path / "m.py"
    src.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from firth.a import X\n"
        "def f():\n    import firth.b.c\n    from firth.b import d\n    from . import e\n",
        encoding="utf-8",
    )
    known = {"firth.a", "firth.b", "firth.b.c", "firth.b.d", "firth.e", "firth.m"}
    assert imports_of("firth.m", src, known) == {"firth.a", "firth.b.c", "firth.b.d", "firth.e"}
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    assert violations({"firth.vectors.keyed": {"firth.train.corpus"}}) != []
    assert violations({"firth.vectors.keyed": {"firth.evaluate.similarity"}}) == []
    assert violations({"firth.vectors.keyed": {"firth.evaluate.report"}}) != []
    assert violations({"firth.evaluate.lookup": {"firth.vectors.keyed"}}) != []


def test_no_import_cycle_in_firth():
    g = graph()
    assert len(g) > 50
    cycle = find_cycle(g)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_layer_rules():
    bad = violations(graph())
    assert not bad, "\n".join(bad)
