"""The error boundary of Kavi's command-line entry points (``kavi``, ``kavi-precommit``).

Every exception that reaches an entry point becomes one line on stderr and an exit code
(0 clean, 1 findings, 2 usage or configuration, 3 internal), never a traceback. The
mapping itself is ``kavi_gates.errors.describe_failure``, shared with the pytest plugin;
this module adds what only a command line has: Typer's parse errors and exits.

Typer vendors its own copy of click (``typer._click``, since 0.26), so click's exception
classes are *not* the ones Typer raises: the boundary catches Typer's public
``TyperException``, ``Exit`` and ``Abort`` instead of anything from ``click``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from kavi_gates.errors import EXIT_INTERNAL, EXIT_USAGE, describe_failure, one_line

INTERRUPTED = 130  # the shell's convention for SIGINT


def _say(prog: str, message: str) -> None:
    kind = "" if message.startswith("internal error") else "error: "
    sys.stderr.write(f"{prog}: {kind}{message}\n")
    sys.stderr.flush()


def _usage_message(err: Exception) -> str:
    """One line for a Typer/click parse error, naming the command and where help is."""
    import typer

    message = err.format_message() if isinstance(err, typer.TyperException) else str(err)
    ctx = getattr(err, "ctx", None)
    command = getattr(ctx, "command_path", "") if ctx is not None else ""
    # A group called without a command puts its whole help text in the message.
    if type(err).__name__ == "NoArgsIsHelpError":
        sys.stdout.write(message.rstrip("\n") + "\n")  # the help, for a person who typed `kavi`
        return f"missing command; see '{command or 'kavi'} --help'"
    hint = f"; see '{command} --help'" if command else ""
    return one_line(f"{message.rstrip().rstrip('.')}{hint}")


def run_entry_point(call: Callable[[], int | None], *, prog: str = "kavi") -> int:
    """Run ``call`` and turn whatever happens into an exit code (the one boundary)."""
    try:
        result = call()
    except KeyboardInterrupt:
        _say(prog, "interrupted")
        return INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`kavi rules | head`): say nothing more, and keep Python's
        # own flush at exit from printing a traceback about stdout.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_INTERNAL
    except SystemExit as exit_:  # library code that exits
        status = exit_.code
        return status if isinstance(status, int) else (0 if status is None else EXIT_USAGE)
    except Exception as err:
        typer_code = _typer_outcome(err, prog)
        if typer_code is not None:
            return typer_code
        failure = describe_failure(err)
        _say(prog, failure.message)
        return failure.exit_code
    return result if isinstance(result, int) else 0


def _typer_outcome(err: Exception, prog: str) -> int | None:
    """The exit code for Typer's own exceptions; ``None`` for anything else.

    Typer is looked up, not imported: the pre-commit entry point never loads it.
    """
    typer = sys.modules.get("typer")
    if typer is None:
        return None
    if isinstance(err, typer.Exit):
        return int(err.exit_code)
    if isinstance(err, typer.Abort):
        _say(prog, "aborted")
        return EXIT_USAGE
    if isinstance(err, typer.TyperException):  # option/argument parsing: a usage error
        _say(prog, _usage_message(err))
        code = int(getattr(err, "exit_code", EXIT_USAGE))
        return EXIT_USAGE if code in (0, 1) else code
    return None
