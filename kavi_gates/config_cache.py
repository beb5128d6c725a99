"""A validated configuration, remembered: a warm pre-commit hook validates nothing again.

Validating a configuration makes pydantic build the validators of every config model, and
reading it loads the YAML parser: together about a sixth of a warm hook run. A config
file's bytes decide what it validates to, so the value is kept under
``$XDG_CACHE_HOME/kavi/config/``, keyed by those bytes, the label the file is known by,
and the code that validates them (Kavi's and pydantic's versions, and the size, inode and
times of this module and ``kavi_gates/config.py``, so that editing either is a miss). A
hit rebuilds the models from the stored fields without validating them again (every field
is stored, with the names of those the file set, so no default is made and nothing is
validated on the way). A missing,
unreadable or malformed entry is a miss: the file is validated as always. Errors are never
remembered. The directory is the user's own cache, never the project's configured one
(that is only known once the configuration is).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.version import VERSION as PYDANTIC_VERSION

from kavi_gates import __version__
from kavi_gates.paths import APP_DIR, atomic_write, xdg_base

FORMAT = 2
SET = "__set__"
"""The key under which a stored model lists the fields its input set."""
NOTHING = "none"
"""Stored for a ``pyproject.toml`` without a ``[tool.kavi]`` table (no configuration)."""

M = TypeVar("M", bound=BaseModel)


class Stale(ValueError):
    """A stored value that does not fit the models as they are now: validate instead."""


def _code_stamp() -> str:
    parts = []
    for module in (__file__, str(Path(__file__).with_name("config.py"))):
        try:
            info = os.stat(module)
            parts.append(f"{module}\0{info.st_size}\0{info.st_ino}\0{info.st_mtime_ns}")
            parts.append(str(info.st_ctime_ns))
        except OSError:
            parts.append(f"{module}\0<unreadable>")
    return "\0".join(parts)


def _path(label: str, raw: bytes) -> Path:
    digest = hashlib.sha256()
    for part in (str(FORMAT), __version__, PYDANTIC_VERSION, _code_stamp(), label):
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


def store(label: str, raw: bytes, value: BaseModel | None) -> None:
    """Remember what ``label`` with bytes ``raw`` validated to (best effort)."""
    from kavi_gates.storage import create_storage_dir

    path = _path(label, raw)
    try:
        data = json.dumps(NOTHING if value is None else dump(value), separators=(",", ":"))
    except (TypeError, ValueError):
        return  # a value JSON cannot hold (a YAML date in an override): validate each time
    with contextlib.suppress(OSError):
        # The cache directory is Kavi's: mark it when this creates it (kavi reset).
        create_storage_dir(path.parent.parent, "cache")
        atomic_write(path, data.encode(), durable=False)


def dump(value: Any) -> Any:
    """JSON-ready data of a model: every field, and under ``SET`` the fields it was given."""
    if isinstance(value, BaseModel):
        out = {name: dump(getattr(value, name)) for name in type(value).model_fields}
        out[SET] = sorted(value.model_fields_set)
        return out
    if isinstance(value, tuple | list):
        return [dump(item) for item in value]
    if isinstance(value, dict):
        return {key: dump(item) for key, item in value.items()}
    return value


def rebuild(model: type[M], data: object) -> M:
    """``model`` from what ``dump`` made, without validation: the same values, types and
    set fields as the validated original. Anything that does not fit the model's fields
    and annotations raises ``Stale``."""
    if not isinstance(data, dict):
        raise Stale(f"{model.__name__}: not a mapping")
    fields = model.model_fields
    given = data.get(SET)
    if set(data) != {*fields, SET} or not isinstance(given, list) or not set(given) <= set(fields):
        raise Stale(f"{model.__name__}: not the fields {sorted(fields)}")
    values = {name: _value(field.annotation, data[name]) for name, field in fields.items()}
    return model.model_construct(_fields_set=set(given), **values)


_SCALARS: dict[Any, tuple[type, ...]] = {
    str: (str,),
    bool: (bool,),
    int: (int,),
    float: (int, float),
}


def _value(annotation: Any, value: Any) -> Any:
    origin = get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
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
