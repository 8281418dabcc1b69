"""Progress output: a tqdm bar on a terminal, plain lines in a log.

tqdm redraws its bar with carriage returns several times a second, which is right on a
terminal and wrong in a log file, CI output or ``nohup.out`` (a 5-epoch run left thousands of
``\\r`` frames on one "line"). When standard error is not a terminal, :func:`progress`
returns a :class:`LineProgress` instead: the same small interface (``update``,
``set_postfix``, ``close``), writing one complete line every ``interval`` seconds (default
10; ``FIRTH_PROGRESS_INTERVAL`` overrides it) and one when it closes.
"""

from __future__ import annotations

import os
import sys
import time

DEFAULT_INTERVAL = 10.0


def _interval() -> float:
    try:
        v = float(os.environ.get("FIRTH_PROGRESS_INTERVAL", DEFAULT_INTERVAL))
    except ValueError:
        return DEFAULT_INTERVAL
    return v if v >= 0 else DEFAULT_INTERVAL


def _si(x: float) -> str:
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.2f}{suffix}"
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.2f}"


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class LineProgress:
    """tqdm's interface, printing ``desc: n/total unit (pct%), rate, elapsed<eta, postfix``
    as one line at most every ``interval`` seconds, and a last line on ``close``."""

    def __init__(self, total=None, desc: str = "", unit: str = "it", initial: int = 0,
                 interval: float | None = None, file=None, **_ignored):
        self.total = total
        self.desc = desc
        self.unit = unit
        self.n = initial
        self.interval = _interval() if interval is None else interval
        self.file = file if file is not None else sys.stderr
        self.postfix = ""
        self._start_n = initial
        self._t0 = self._last = time.monotonic()
        self._closed = False
        self._printed_n = None

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._print(now)

    def set_postfix(self, ordered_dict=None, refresh: bool = True, **kwargs) -> None:
        items = dict(ordered_dict or {}, **kwargs)
        self.postfix = ", ".join(f"{k}={v}" for k, v in items.items())

    def set_description(self, desc: str = "", refresh: bool = True) -> None:
        self.desc = desc

    def refresh(self) -> None:
        pass

    def write(self, s: str, file=None, end: str = "\n", nolock: bool = False) -> None:
        """A message between progress lines (tqdm.write's signature)."""
        print(s, file=file if file is not None else self.file, end=end, flush=True)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._printed_n != self.n:
                self._print(time.monotonic())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _print(self, now: float) -> None:
        elapsed = now - self._t0
        done = self.n - self._start_n
        rate = done / elapsed if elapsed > 0 else 0.0
        parts = [f"{self.desc}: " if self.desc else ""]
        if self.total:
            parts.append(f"{_si(self.n)}/{_si(self.total)} {self.unit} ({100.0 * self.n / self.total:.0f}%)")
        else:
            parts.append(f"{_si(self.n)} {self.unit}")
        parts.append(f", {_si(rate)} {self.unit}/s, {_clock(elapsed)}")
        if self.total and rate > 0:
            parts.append(f"<{_clock(max(self.total - self.n, 0) / rate)}")
        if self.postfix:
            parts.append(f", {self.postfix}")
        print("".join(parts), file=self.file, flush=True)
        self._printed_n = self.n


def progress(total=None, desc: str = "", unit: str = "it", file=None, **tqdm_options):
    """A progress bar on ``file`` (standard error): tqdm on a terminal, plain lines otherwise."""
    stream = file if file is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit=unit, file=stream, **tqdm_options)
    return LineProgress(total=total, desc=desc, unit=unit, file=stream, initial=tqdm_options.get("initial", 0))
