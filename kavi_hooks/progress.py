"""A progress line on stderr for scans longer than a second, through the engine's observer
hooks (``kavi_gate_started`` / ``kavi_gate_finished``).

It draws only on a terminal, only after the run has taken a second (a quick check prints
nothing extra), and erases itself when the run ends, so reports on stdout stay clean.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

import pluggy

from kavi_gates import hookimpl

if TYPE_CHECKING:
    from kavi_gates.gate import GateContext
    from kavi_gates.models import GateResult

DELAY = 1.0
"""Seconds before anything is drawn."""
INTERVAL = 0.1


class GateProgress:
    """Observes gates starting and finishing; a thread redraws one status line."""

    def __init__(self, total: int, stream: TextIO, delay: float = DELAY) -> None:
        self.total = total
        self.stream = stream
        self.delay = delay
        self.done = 0
        self.current = ""
        self.started = time.monotonic()
        self.drawn = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="kavi-progress", daemon=True)

    @hookimpl
    def kavi_gate_started(self, gate: str, context: GateContext) -> None:
        """A gate started: it becomes the one the line names."""
        self.current = gate
        if not self._thread.is_alive() and not self._stop.is_set():
            self._thread.start()

    @hookimpl
    def kavi_gate_finished(self, result: GateResult, context: GateContext) -> None:
        """A gate finished: count it."""
        self.done += 1

    def line(self) -> str:
        """The status line as drawn now."""
        elapsed = time.monotonic() - self.started
        return f"kavi: [{self.done}/{self.total}] {self.current} … {elapsed:.1f}s"

    def _loop(self) -> None:
        if self._stop.wait(self.delay):
            return
        while not self._stop.is_set():
            self.stream.write("\r\x1b[2K" + self.line())
            self.stream.flush()
            self.drawn = True
            self._stop.wait(INTERVAL)

    def close(self) -> None:
        """Stop drawing and erase the line."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        if self.drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()


@contextmanager
def progress(
    pm: pluggy.PluginManager, total: int, enabled: bool, stream: TextIO | None = None
) -> Iterator[GateProgress | None]:
    """Register a ``GateProgress`` on ``pm`` for the duration of a run (when ``enabled``)."""
    stream = stream or sys.stderr
    if not enabled:
        yield None
        return
    observer = GateProgress(total, stream)
    name = f"kavi-progress-{id(observer)}"
    pm.register(observer, name=name)
    try:
        yield observer
    finally:
        observer.close()
        pm.unregister(name=name)


def wants_progress(stream: TextIO | None = None) -> bool:
    """Draw only for a person at a terminal."""
    stream = stream or sys.stderr
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
