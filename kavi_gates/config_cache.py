"""A validated configuration, remembered: a warm pre-commit hook validates nothing again.

Validating a configuration imports pydantic and builds its validators, and reading it
loads the YAML parser: together more than half of a warm hook run. A config file's bytes
decide what it validates to, so the value is kept under ``$XDG_CACHE_HOME/kavi/config/``,
keyed by those bytes, the label the file is known by, and the code that validates them
(Kavi's version, and the size, inode and times of this module, the settings modules and
pydantic's ``version.py``, so that editing one or upgrading pydantic is a miss).
A hit rebuilds the settings dataclasses from the stored fields, checking each value
against its field's type (each class's own checks run as it is built); pydantic is not
imported. A missing, unreadable, malformed or ill-typed entry is a miss: the file is
validated as always. Errors are never remembered. The directory is the user's own cache,
never the project's configured one (that is only known once the configuration is).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import json
import os
import types
import typing
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from kavi_gates import __version__
from kavi_gates.digests import sha256
from kavi_gates.models import as_json
from kavi_gates.paths import APP_DIR, atomic_write, xdg_base

FORMAT = 3
NOTHING = "none"
"""Stored for a ``pyproject.toml`` without a ``[tool.kavi]`` table (no configuration)."""

M = TypeVar("M")


class Stale(ValueError):
    """A stored value that does not fit the models as they are now: validate instead."""


def _pydantic_version_file() -> str:
    # Found, not imported: importing pydantic is what a hit saves.
    spec = importlib.util.find_spec("pydantic")
    origin = spec.origin if spec is not None else None
    return str(Path(origin).with_name("version.py")) if origin else "<no pydantic>"


def _code_stamp() -> str:
    parts = []
    here = Path(__file__)
    settings = (here.with_name("config.py"), here.with_name("config_policy.py"))
    for module in (__file__, *map(str, settings), _pydantic_version_file()):
        try:
            info = os.stat(module)
            parts.append(f"{module}\0{info.st_size}\0{info.st_ino}\0{info.st_mtime_ns}")
            parts.append(str(info.st_ctime_ns))
        except OSError:
            parts.append(f"{module}\0<unreadable>")
    return "\0".join(parts)


def _path(label: str, raw: bytes) -> Path:
    digest = sha256()
    for part in (str(FORMAT), __version__, _code_stamp(), label):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    digest.update(raw)
    return xdg_base("XDG_CACHE_HOME") / APP_DIR / "config" / f"{digest.hexdigest()}.json"


def lookup(model: type[M], label: str, raw: bytes) -> tuple[bool, M | None]:
    """``(True, value)`` when the file ``label`` with bytes ``raw`` was validated before
    (``value`` None: it holds no configuration); ``(False, None)`` otherwise."""
    try:
        stored = json.loads(_path(label, raw).read_bytes())
        if stored == NOTHING:
            return True, None
        return True, rebuild(model, stored)
    except (OSError, ValueError, TypeError):  # Stale is a ValueError
        return False, None


def store(label: str, raw: bytes, value: object | None) -> None:
    """Remember what ``label`` with bytes ``raw`` validated to (best effort)."""
    from kavi_gates.storage import create_storage_dir

    path = _path(label, raw)
    try:
        data = json.dumps(NOTHING if value is None else as_json(value), separators=(",", ":"))
    except (TypeError, ValueError):
        return  # a value JSON cannot hold (a YAML date in an override): validate each time
    with contextlib.suppress(OSError):
        # The cache directory is Kavi's: mark it when this creates it (kavi reset).
        create_storage_dir(path.parent.parent, "cache")
        atomic_write(path, data.encode(), durable=False)


@cache
def _hints(model: type) -> dict[str, Any]:
    return typing.get_type_hints(model)


def rebuild(model: type[M], data: object) -> M:
    """``model`` (a settings dataclass) from what ``store`` wrote: the same values and types
    as the validated original. Anything that does not fit the model's fields and
    annotations raises ``Stale``."""
    if not dataclasses.is_dataclass(model) or not isinstance(data, dict):
        raise Stale(f"{model.__name__}: not a mapping")
    hints = _hints(model)
    names = [f.name for f in dataclasses.fields(model)]
    if set(data) != set(names):
        raise Stale(f"{model.__name__}: not the fields {sorted(names)}")
    return model(**{name: _value(hints[name], data[name]) for name in names})


_SCALARS: dict[Any, tuple[type, ...]] = {
    str: (str,),
    bool: (bool,),
    int: (int,),
    float: (int, float),
}


def _value(annotation: Any, value: Any) -> Any:
    origin = get_origin(annotation)
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        return rebuild(annotation, value)
    if origin is tuple:
        item, *rest = get_args(annotation)
        if rest != [Ellipsis] or not isinstance(value, list):
            raise Stale(f"{annotation}: {value!r}")
        return tuple(_value(item, v) for v in value)
    if origin is dict:
        key, item = get_args(annotation)
        if key is not str or not isinstance(value, dict):
            raise Stale(f"{annotation}: {value!r}")
        return {k: _value(item, v) for k, v in value.items()}
    if origin in (Union, types.UnionType):
        options = get_args(annotation)
        if value is None and type(None) in options:
            return None
        (option,) = (o for o in options if o is not type(None))
        return _value(option, value)
    if origin is Literal:
        if value not in get_args(annotation):
            raise Stale(f"{annotation}: {value!r}")
        return value
    if annotation is Any or annotation is typing.Any:
        return value
    accepted = _SCALARS.get(annotation)
    if accepted is None:
        raise Stale(f"unsupported annotation {annotation!r}")
    if not isinstance(value, accepted) or (annotation is not bool and isinstance(value, bool)):
        raise Stale(f"{annotation}: {value!r}")
    return float(value) if isinstance(value, int) and annotation is float else value
