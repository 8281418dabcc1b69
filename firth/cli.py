"""The ``firth`` command line.

Each area registers its own sub-commands from ``firth/<area>/cli.py`` via a function
``register(subparsers)``. Those modules import only argparse-level code at import time;
heavy imports (numba kernels, torch) happen inside the command handlers, so that e.g.
``firth train`` never imports torch.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import signal
import sys

from firth.errors import FirthError

# (module, what it adds) — each module defines register(subparsers).
COMMAND_MODULES = [
    "firth.train.cli",  # train
    "firth.vectors.cli",  # similar, analogy, convert, info, ngrams
    "firth.evaluate.cli",  # evaluate
    "firth.search.cli",  # search, expand
    "firth.tasks.cli",  # classify, tag
    "firth.rnn.cli",  # experiment
    "firth.lm.cli",  # lm (language models)
    "firth.explore.cli",  # explore, plot (web page, static maps)
    "firth.demo",  # demo (the README's main job)
]


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    def _get_help_string(self, action):
        help = action.help or ""
        if "default" in help.lower() or action.default in (None, False, argparse.SUPPRESS):
            return help  # says its default itself, or has none worth showing
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="firth",
        description="Word embeddings and recurrent networks: train, use and evaluate them.",
        formatter_class=_Formatter,
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:  # an area not built yet
            if e.name == name:
                continue
            raise
        module.register(sub)
    return parser


def add_parser(sub, name: str, help: str, description: str | None = None):
    """Create a sub-command parser with firth's help formatting (defaults shown)."""
    return sub.add_parser(name, help=help, description=description or help, formatter_class=_Formatter)


def add_group(sub, name: str, help: str, dest: str, metavar: str = "ACTION"):
    """A command with actions of its own (``firth lm train``): returns its subparsers."""
    group = add_parser(sub, name, help).add_subparsers(dest=dest, metavar=metavar)
    group.required = True
    return group


def _terminate(signum, frame):
    # SIGTERM (kill, systemd, a batch scheduler) unwinds like Ctrl-C, so every temporary
    # file and half-built output is removed by the same `finally`/`except` blocks.
    raise KeyboardInterrupt


def _one_line(e: BaseException) -> str:
    """A one-line message for an error firth did not anticipate as a FirthError."""
    if isinstance(e, MemoryError):
        return "out of memory; use a smaller input, --limit, or a machine with more memory"
    if isinstance(e, OSError):
        name = e.filename if e.filename is not None else ""
        why = e.strerror or str(e)
        return f"{name}: {why}" if name else why
    return f"{type(e).__name__}: {e}".splitlines()[0]


def main(argv=None) -> int:
    parser = build_parser()
    # Usage mistakes (unknown option, missing argument) are argparse's: a usage line, then
    # one error line, exit status 2 -- the common convention; every other error is one line,
    # exit status 1 (README, "Command line").
    args = parser.parse_args(argv)
    debug = args.debug or os.environ.get("FIRTH_DEBUG")
    # Words that are not UTF-8 (a fastText .bin holds raw bytes; firth keeps them as
    # surrogate escapes) are printed back as the same bytes, as fastText prints them.
    errors = getattr(sys.stdout, "errors", None)
    if errors == "strict" and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="surrogateescape")
    previous = None
    if hasattr(signal, "SIGTERM"):
        try:
            previous = signal.signal(signal.SIGTERM, _terminate)
        except ValueError:  # not the main thread (embedded use): leave signals alone
            previous = None
    try:
        rc = args.func(args)
        _leave_process_group(ok=True)
        return int(rc or 0)
    except FirthError as e:
        if debug:
            raise
        print(f"firth: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("firth: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `firth similar ... | head`
        return 0
    except (OSError, MemoryError) as e:
        if debug:
            raise
        print(f"firth: error: {_one_line(e)}", file=sys.stderr)
        return 1
    finally:
        _leave_process_group(ok=False)  # a no-op once left
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if errors == "strict" and hasattr(sys.stdout, "reconfigure"):
            sys.stdout.reconfigure(errors=errors)


def _leave_process_group(ok: bool) -> None:
    """A torchrun rank of `classify/tag train` leaves its group before exiting (firth/rnn/ddp.py,
    ``close``). Looked up in sys.modules so that no other command imports it (or torch)."""
    ddp = sys.modules.get("firth.rnn.ddp")
    if ddp is not None:
        ddp.close(ok)


def entry() -> int:
    """The process entry point (console script, ``python -m firth``): ``main`` and then a
    fast exit. Why: at interpreter exit the cyclic collector walks every object still alive
    (Numba's and NumPy's module state, the vocabulary's strings): 0.3 s of a 3 s training
    run. Freezing them first skips that walk; outputs are already closed and renamed by
    then. Not done inside ``main``, which tests and embedders call in-process, nor once torch
    is loaded (a DDP rank then aborted at exit in a test).

    A torchrun rank (torch loaded, WORLD_SIZE > 1) ends with ``os._exit`` once its streams are
    flushed: it has left its process group (``_leave_process_group``) and its outputs are
    renamed into place, but torch's C++ objects (the store's and gloo's threads) can still
    abort the interpreter's teardown ("terminate called without an active exception", exit
    -6: 2 of 40 runs of `tag train` on 2 ranks, with or without destroy_process_group)."""
    rc = main()
    sys.stdout.flush()
    if "torch" in sys.modules:
        from firth.rnn.ddp import world

        if world() is not None:
            sys.stderr.flush()
            os._exit(rc)
    else:
        gc.freeze()
    return rc


if __name__ == "__main__":
    sys.exit(entry())
