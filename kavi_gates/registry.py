"""The trusted-skill registry (``hash_pin.registry``, YAML): format, loading, atomic saving."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kavi_gates.config import SIDE_EFFECT_CLASSES, read_text_or_config_error, validation_summary
from kavi_gates.errors import ConfigError, shorten
from kavi_gates.paths import UnsafePath, atomic_write, check_relative
from kavi_gates.safe_yaml import YamlError, load_yaml

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}\Z")


def _safe_rel(path: str) -> str:
    try:
        check_relative(path)
    except UnsafePath as err:
        raise ValueError(f"must be a relative '/'-separated path without '..': {err}") from None
    return path


class RegistryEntry(BaseModel):
    """One trusted skill. ``pins`` maps every file it runs to ``sha256:<hex>``.

    Missing or empty ``pins`` load fine and are a hash-pin finding (KAV804): a hand-edited
    entry without pins must fail the gate, never read as "unpinned = trusted". Likewise a
    missing ``attestation`` loads and is a finding (KAV810): every field of a trusted entry
    must equal what a signed promotion statement says (``kavi_gates.attestation``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    path: str
    class_: str = Field(alias="class")
    side_effect_class: str
    required_secrets: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    """The only hosts a NETWORK skill may reach, as its class declares them (literals)."""
    pins: dict[str, str] = Field(default_factory=dict)
    policy_digest: str | None = None
    verification: str | int | None = None
    promoted_by: str | None = None
    promoted_at: str | None = None
    attestation: str | None = None
    """The signed promotion (a DSSE envelope file, relative to the project root)."""

    @field_validator("path")
    @classmethod
    def _path_is_relative(cls, value: str) -> str:
        return _safe_rel(value)

    @field_validator("attestation")
    @classmethod
    def _attestation_is_relative(cls, value: str | None) -> str | None:
        return None if value is None else _safe_rel(value)

    @field_validator("side_effect_class")
    @classmethod
    def _known_class(cls, value: str) -> str:
        if value not in SIDE_EFFECT_CLASSES:
            raise ValueError(f"unknown side_effect_class {shorten(repr(value))}")
        return value

    @field_validator("pins", mode="before")
    @classmethod
    def _pins_valid(cls, value: Any) -> Any:
        if value is None:
            return {}
        if isinstance(value, dict):
            for rel, digest in value.items():
                _safe_rel(str(rel))
                if not isinstance(digest, str) or not _DIGEST.match(digest):
                    got = (
                        shorten(repr(digest)) if isinstance(digest, str) else type(digest).__name__
                    )
                    raise ValueError(
                        f"pin for {shorten(repr(rel))} must be 'sha256:<64 hex>', got {got}"
                    )
        return value


class Registry(BaseModel):
    """``version: 1`` and the trusted skills by name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    skills: dict[str, RegistryEntry] = Field(default_factory=dict)

    def entry_for(self, rel_path: str) -> tuple[str, RegistryEntry] | None:
        """The entry whose skill file is ``rel_path``, if any."""
        return next(((n, e) for n, e in self.skills.items() if e.path == rel_path), None)


def load_registry(path: Path) -> Registry:
    """Read and validate the registry; any problem is a ``ConfigError`` naming file and cause."""
    text = read_text_or_config_error(path, "hash-pin registry")
    try:
        data = load_yaml(text)
    except YamlError as err:
        raise ConfigError(f"hash-pin registry {path} is not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"hash-pin registry {path}: expected a mapping with 'version' and 'skills'"
        )
    try:
        return Registry.model_validate(data)
    except ValidationError as err:
        where, problem = validation_summary(err)
        raise ConfigError(f"hash-pin registry {path}: invalid '{where}': {problem}") from None


def save_registry(path: Path, registry: Registry) -> None:
    """Write the registry atomically: temp file in the same directory, fsync, ``os.replace``."""
    data = registry.model_dump(mode="json", by_alias=True, exclude_none=True)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    atomic_write(path, text.encode("utf-8"))
