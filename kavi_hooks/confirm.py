"""Confirmation before a command changes something that matters (promote, reset, revoke).

Every such command behaves the same way: ``--yes`` proceeds; otherwise a person at a
terminal is asked; without a terminal (CI, a hook, a pipe) the command refuses with exit 2
and says to pass ``--yes``. Declining at the prompt changes nothing and exits 1.
"""

from __future__ import annotations

import sys

import typer

from kavi_gates.errors import EXIT_FINDINGS, KaviError, UsageError


class Declined(KaviError):
    """The person at the terminal said no."""

    exit_code = EXIT_FINDINGS


def stdin_is_terminal() -> bool:
    """Is a person there to answer?"""
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def confirm_or_refuse(question: str, *, action: str) -> bool:
    """Ask ``question``; refuse without a terminal; raise ``Declined`` on no."""
    if not stdin_is_terminal():
        raise UsageError(
            f"{action} needs confirmation: pass --yes (stdin is not a terminal); "
            "nothing was changed"
        )
    try:
        answer = typer.confirm(question)
    except typer.Abort:  # EOF or Ctrl-C at the prompt
        answer = False
    if not answer:
        raise Declined(f"{action} aborted; nothing was changed")
    return True
