"""One root error type; every surface maps it to an exit code and a one-line message."""

from __future__ import annotations

import sys
from typing import ClassVar, NamedTuple

# Exit codes shared by every surface (CLI, pre-commit, pytest plugin, CI glue).
EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


class KaviError(Exception):
    """Base of every error Kavi reports to a user (never shown as a traceback)."""

    exit_code: ClassVar[int] = EXIT_INTERNAL


class UsageError(KaviError):
    """The command line asked for something impossible (missing path, unknown gate...)."""

    exit_code = EXIT_USAGE


class ConfigError(KaviError):
    """The configuration is invalid: unknown key, bad value, unloadable rule or plugin."""

    exit_code = EXIT_USAGE


class InternalError(KaviError):
    """Kavi itself failed; the run cannot be trusted."""

    exit_code = EXIT_INTERNAL


class Failure(NamedTuple):
    """What a surface tells the user about an exception: an exit code and one line."""

    exit_code: int
    message: str


def one_line(text: str) -> str:
    """Collapse whitespace (newlines included) so that a message is exactly one line."""
    return " ".join(text.split())


def describe_failure(err: BaseException) -> Failure:
    """The one error-to-exit mapping every entry point uses (CLI, pre-commit, pytest plugin).

    A ``KaviError`` carries its own exit code; a file-system or ledger problem is the
    environment's (exit 2, naming the file); anything else is a bug of Kavi's (exit 3).
    The message is one line and never a traceback.
    """
    if isinstance(err, KaviError):
        return Failure(err.exit_code, one_line(str(err)) or type(err).__name__)
    # sqlite3 is only checked when something already imported it: the engine stays free of it.
    sqlite3 = sys.modules.get("sqlite3")
    if sqlite3 is not None and isinstance(err, sqlite3.Error):
        return Failure(EXIT_USAGE, one_line(f"ledger: {err}; run `kavi doctor`"))
    if isinstance(err, OSError):
        where = f": {err.filename}" if err.filename else ""
        return Failure(EXIT_USAGE, one_line(f"{err.strerror or err}{where}"))
    if isinstance(err, RecursionError):
        return Failure(EXIT_INTERNAL, "internal error: RecursionError (input nested too deeply)")
    return Failure(EXIT_INTERNAL, one_line(f"internal error: {type(err).__name__}: {err}"))


ECHO_LIMIT = 200
"""Characters of user input an error message may echo (a config value, a key, a YAML line)."""


def shorten(text: object, limit: int = ECHO_LIMIT) -> str:
    """``text`` (``str()`` of it) cut to ``limit`` characters, saying how much was cut."""
    value = str(text)
    if len(value) <= limit:
        return value
    return f"{value[:limit]}... ({len(value) - limit} more characters)"
