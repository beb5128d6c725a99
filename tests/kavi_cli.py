"""Run the ``kavi`` command in-process, through its real entry point ``main([...])``.

``KaviRunner`` has the shape of ``typer.testing.CliRunner`` (``invoke(app, args, input=)``
returning ``exit_code``, ``stdout``, ``stderr``, ``output``), but it goes through
``kavi_hooks.cli.main``: the one error boundary, the exit-code contract and the on-demand
command registration a user gets. The ``app`` argument is accepted and ignored.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kavi_hooks.cli import main


@dataclass(frozen=True)
class KaviResult:
    """What one in-process ``kavi`` run printed and returned."""

    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None = None
    """Always None: ``main`` turns every exception into an exit code."""

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_kavi(
    args: Sequence[str], *, input: str | None = None, cwd: Path | None = None
) -> KaviResult:
    """``kavi ARGS`` in this process: stdin from ``input`` (never a terminal)."""
    out, err = io.StringIO(), io.StringIO()
    stdin = io.StringIO(input or "")
    saved = sys.stdin
    sys.stdin = stdin
    try:
        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext(),
        ):
            code = main([str(a) for a in args])
    finally:
        sys.stdin = saved
    return KaviResult(code, out.getvalue(), err.getvalue())


class KaviRunner:
    """A drop-in for ``typer.testing.CliRunner`` that runs ``kavi_hooks.cli.main``."""

    def invoke(self, app: Any, args: Sequence[str], input: str | None = None) -> KaviResult:
        return run_kavi(args, input=input)
