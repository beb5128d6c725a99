"""Secrets: inject only what a trusted entry declares, and keep the values out of every log.

Values come from the environment first, then ``<config_dir>/secrets.env`` (``NAME=value``
lines, ``#`` comments, optional quotes), which must be a regular file owned by the user and
not readable by group or others.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

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


def _py_escaped(secret: str, quote: str, ascii_only: bool) -> str:
    """The secret as it appears inside a Python string literal (``repr``/``ascii``) whose
    delimiter is ``quote`` ('' for the unquoted core: neither quote escaped)."""
    out: list[str] = []
    for char in secret:
        if char in "'\"":
            out.append("\\" + char if char == quote else char)
        else:
            out.append((ascii if ascii_only else repr)(char)[1:-1])
    return "".join(out)


def _json_escaped(secret: str) -> set[str]:
    """JSON string bodies: ASCII-escaped or not, upper- or lower-case hex, ``\\/`` or ``/``."""
    forms = {json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    forms |= {
        _UNICODE_ESCAPE.sub(lambda m: m.group(0)[:2] + m.group(0)[2:].upper(), f) for f in forms
    }
    forms |= {f.replace("/", "\\/") for f in forms}
    return forms


def _escaped(secret: str) -> set[str]:
    """Every string-literal form of the secret: Python ``repr``/``ascii`` with either quote,
    and JSON."""
    forms = {_py_escaped(secret, q, a) for q in ("", "'", '"') for a in (False, True)}
    return forms | _json_escaped(secret)


def _url_encoded(secret: str) -> set[str]:
    forms = {quote(secret, safe=""), quote(secret), quote_plus(secret, safe=""), quote_plus(secret)}
    return forms | {_PERCENT_ESCAPE.sub(lambda m: m.group(0).lower(), f) for f in forms}


def _base64_cores(secret: str) -> set[str]:
    """Base64 text that only the secret's bytes determine, at each of the three alignments a
    secret can have inside a longer encoded blob (standard and URL-safe alphabets)."""
    data = secret.encode("utf-8")
    cores: set[str] = set()
    for offset, skip in ((0, 0), (1, 2), (2, 3)):
        encoded = base64.b64encode(b"\0" * offset + data).decode()
        core = encoded[skip : (offset + len(data)) * 8 // 6]
        if len(core) >= _MIN_BASE64_CORE:
            cores |= {core, core.replace("+", "-").replace("/", "_")}
    return cores


def _numeric(secret: str) -> float | None:
    """The number a numeric secret stands for (``"0042"`` → 42), else ``None``."""
    try:
        value = float(secret)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


_UNICODE_ESCAPE = re.compile(r"\\u[0-9a-fA-F]{4}")
_PERCENT_ESCAPE = re.compile(r"%[0-9A-F]{2}")
_MIN_BASE64_CORE = 8
_MIN_NUMBER_TEXT = 4


class Redactor:
    """Replaces every secret value with ``[REDACTED]`` in strings and JSON-like data.

    A secret is found in every form it reaches output in: as is; escaped inside a Python
    ``repr``/``ascii`` or a JSON string (a backslash, a quote, a non-ASCII character),
    twice escaped (JSON inside JSON); URL-encoded; base64-encoded at any alignment (for
    secrets of six bytes or more); and, for a numeric secret, as a number: a JSON number
    equal to it is replaced whole, in values and keys, at any depth.
    """

    def __init__(self, values: Iterable[str] = ()) -> None:
        secrets = {v for v in values if v}
        forms: set[str] = set()
        self._numbers: set[float] = set()
        for secret in secrets:
            escaped = _escaped(secret)
            forms |= {secret, *escaped, *_url_encoded(secret)}
            forms |= {twice for once in escaped for twice in _escaped(once)}
            if len(secret.encode("utf-8")) >= 6:
                forms |= _base64_cores(secret)
            number = _numeric(secret)
            if number is not None:
                self._numbers.add(number)
                text = repr(int(number)) if number.is_integer() else repr(number)
                if len(text) >= _MIN_NUMBER_TEXT:
                    forms.add(text)
        forms.discard("")
        # Longest first, so a secret that contains another is removed whole.
        ordered = sorted(forms, key=lambda f: (-len(f), f))
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def text(self, value: str) -> str:
        """``value`` with every secret replaced."""
        return self._pattern.sub(REDACTED, value) if self._pattern is not None else value

    def _leaks(self, value: object) -> bool:
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and value in self._numbers
        ):
            return True
        return self._pattern is not None and self._pattern.search(str(value)) is not None

    def data(self, value: Any) -> Any:
        """A copy of JSON-like ``value`` with every secret replaced (keys included)."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self._key(k): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.data(item) for item in value]
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return REDACTED if self._leaks(value) else value
        # Anything else (bytes, objects) is described by its text: redact or keep it whole.
        return REDACTED if self._leaks(value) else value

    def _key(self, key: object) -> str:
        text = key if isinstance(key, str) else str(key)
        return REDACTED if not isinstance(key, str) and self._leaks(key) else self.text(text)
