"""Validation of proposal fields; shared by the CLI and the forge so both refuse the same input."""

from __future__ import annotations

import json
import keyword
import re
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]
from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped, unused-ignore]

from kavi_gates.config import SIDE_EFFECT_CLASSES
from kavi_gates.errors import shorten
from kavi_ledger.errors import ValidationError

# Environment-variable-like: what the runtime can inject without quoting surprises.
_SECRET_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def validate_skill_name(name: str) -> str:
    """A skill name must be a Python identifier that is not a keyword (it names a module)."""
    if not name.isidentifier() or not name.isascii():
        raise ValidationError(f"skill name {shorten(repr(name))} is not a Python identifier")
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise ValidationError(f"skill name {name!r} is a Python keyword")  # short: a keyword
    return name


def validate_side_effect(side_effect: str) -> str:
    """The side-effect class must be one of the six the runtime enforces."""
    if side_effect not in SIDE_EFFECT_CLASSES:
        raise ValidationError(
            f"unknown side-effect class {shorten(repr(side_effect))}; expected one of "
            + ", ".join(SIDE_EFFECT_CLASSES)
        )
    return side_effect


def validate_io_schema(schema: Any) -> dict[str, Any]:
    """The IO schema must be a JSON object that is itself a valid JSON Schema (2020-12)."""
    if not isinstance(schema, dict):
        raise ValidationError("io schema must be a JSON object")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as err:
        raise ValidationError(
            f"io schema is not a valid JSON Schema: {shorten(err.message)}"
        ) from None
    return schema


def parse_io_schema(text: str) -> dict[str, Any]:
    """Parse ``--io-schema-json`` text and validate it as a JSON Schema."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValidationError(f"io schema is not valid JSON: {err}") from None
    return validate_io_schema(data)


def validate_required_secrets(secrets: Any) -> tuple[str, ...]:
    """Required secrets are a list of unique environment-variable-like names."""
    if not isinstance(secrets, list | tuple):
        raise ValidationError("required secrets must be a JSON list of names")
    for item in secrets:
        if not isinstance(item, str) or not _SECRET_NAME.match(item):
            shown = shorten(repr(item)) if isinstance(item, str) else type(item).__name__
            raise ValidationError(
                f"required secret {shown} is not an environment variable name (A-Z, 0-9, _)"
            )
    if len(set(secrets)) != len(secrets):
        raise ValidationError("required secrets contain duplicates")
    return tuple(secrets)


def parse_required_secrets(text: str | None) -> tuple[str, ...]:
    """Parse ``--required-secrets`` (a JSON list; absent means none)."""
    if text is None:
        return ()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValidationError(f"required secrets are not valid JSON: {err}") from None
    return validate_required_secrets(data)
