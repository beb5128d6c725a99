"""One root error type; every surface maps it to an exit code and a one-line message."""

from __future__ import annotations

from typing import ClassVar

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


ECHO_LIMIT = 200
"""Characters of user input an error message may echo (a config value, a key, a YAML line)."""


def shorten(text: object, limit: int = ECHO_LIMIT) -> str:
    """``text`` (``str()`` of it) cut to ``limit`` characters, saying how much was cut."""
    value = str(text)
    if len(value) <= limit:
        return value
    return f"{value[:limit]}... ({len(value) - limit} more characters)"
