"""Secrets: inject only what a trusted entry declares, and keep the values out of every log.

Values come from the environment first, then ``<config_dir>/secrets.env`` (``NAME=value``
lines, ``#`` comments, optional quotes), which must be a regular file owned by the user and
not readable by group or others.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kavi_skills.errors import SecretsError

SECRETS_FILE = "secrets.env"
REDACTED = "[REDACTED]"


def _parse(text: str, path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        name, sep, value = line.partition("=")
        if not sep or not name.strip().isidentifier():
            raise SecretsError(f"{path}:{number}: expected NAME=value")  # never echo the line
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def read_secrets_file(path: Path) -> dict[str, str]:
    """Parse the secrets file after checking it is private; a missing file is empty."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return {}
    except OSError as err:
        raise SecretsError(f"cannot open secrets file {path}: {err.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise SecretsError(f"secrets file {path} is not a regular file")
        if info.st_uid != os.getuid():
            raise SecretsError(f"secrets file {path} is not owned by you")
        if info.st_mode & 0o077:
            mode = stat.S_IMODE(info.st_mode)
            raise SecretsError(f"secrets file {path} has mode {mode:o}; run: chmod 600 {path}")
        data = handle.read()
    try:
        return _parse(data.decode("utf-8"), path)
    except UnicodeDecodeError:
        raise SecretsError(f"secrets file {path} is not UTF-8") from None


def resolve_secrets(
    names: Iterable[str], config_dir: Path, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Values for exactly ``names`` (a trusted entry's ``required_secrets``); missing -> error."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    env = os.environ if env is None else env
    found = {name: env[name] for name in wanted if env.get(name)}
    if len(found) < len(wanted):
        from_file = read_secrets_file(config_dir / SECRETS_FILE)
        found.update({n: from_file[n] for n in wanted if n not in found and from_file.get(n)})
    missing = [name for name in wanted if name not in found]
    if missing:
        raise SecretsError(
            f"missing secret(s) {', '.join(missing)}: set them in the environment "
            f"or in {config_dir / SECRETS_FILE}"
        )
    return found


class Redactor:
    """Replaces every secret value with ``[REDACTED]`` in strings and JSON-like data."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is removed whole.
        self._values = sorted({v for v in values if v}, key=len, reverse=True)

    def text(self, value: str) -> str:
        """``value`` with every secret replaced."""
        for secret in self._values:
            value = value.replace(secret, REDACTED)
        return value

    def data(self, value: Any) -> Any:
        """A copy of JSON-like ``value`` with every secret replaced (keys included)."""
        if not self._values:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(item) for item in value]
        return value
