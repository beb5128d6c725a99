"""The policy's settings: the part of the configuration the analysis itself needs.

Apart from ``kavi_gates.config`` (discovery, validation, every other section) so that a
policy worker, which receives a ``PolicyConfig`` with each file, loads only this: every
settings class is a dataclass, and defining the fifteen of them is a measurable part of a
cold pre-commit hook. The helpers every settings class shares live here too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from kavi_gates.errors import shorten


class FieldProblem(ValueError):
    """A value a settings class refuses, naming its field (pydantic's error locates only the
    class whose ``__post_init__`` raised; ``validation_summary`` adds the field)."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field


class Strict:
    """Frozen settings (stdlib dataclasses, so that a run that reads a remembered config
    never imports pydantic); pydantic validates a file against them, and an unknown key is
    an error. Each class checks its own values in ``__post_init__``, whoever builds it."""

    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}


def before(source: Any, handler: Any, function: Callable[[Any], Any]) -> Any:
    """A pydantic schema that passes the input through ``function`` before validating it as
    ``source`` (pydantic calls a class's ``__get_pydantic_core_schema__`` only when it
    builds a validator, so pydantic is imported only then)."""
    from pydantic_core import core_schema

    return core_schema.no_info_before_validator_function(function, handler(source))


def check_names(field: str, values: tuple[str, ...], pattern: re.Pattern[str], what: str) -> None:
    for value in values:
        if not pattern.match(value):
            raise FieldProblem(field, f"{shorten(repr(value))} is not {what}")


_DOTTED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")


@dataclass(frozen=True, kw_only=True)
class PolicyConfig(Strict):
    imports: Literal["deny", "allow"] = "deny"
    """``deny``: an import is a finding when ``forbidden_imports`` or a category (process,
    network, dynamic exec, ...) names it. ``allow``: an allowlist, and any import outside
    the curated safe standard library (``kavi_gates.policy.allowlist``) and
    ``allowed_imports`` is a finding too (KAV103)."""
    allowed_imports: tuple[str, ...] = ()
    """What the project adds to the curated set under ``imports: allow`` (``pydantic``,
    ``kavi_skills``): a module allows its submodules and names, ``pkg.name`` one name."""
    forbidden_imports: tuple[str, ...] = ("subprocess", "pty", "paramiko")
    forbidden_calls: tuple[str, ...] = ("os.system",)
    forbid_dynamic_exec: bool = True
    network: Literal["deny", "allow"] = "deny"
    process: Literal["deny", "allow"] = "deny"
    allowed_write_paths: tuple[str, ...] = ("vault_out/", "artifacts_out/")
    unsuppressible: tuple[str, ...] = ()
    file_budget: float = 10.0
    """Seconds one file's parse and analysis may take (more than 0, at most 3600); a file
    past it cannot be proven safe, so it is a finding (KAV005), and the rest of the run
    goes on."""

    def __post_init__(self) -> None:
        check_names(
            "allowed_imports", self.allowed_imports, _DOTTED_NAME, "a module or dotted name"
        )
        if not 0 < self.file_budget <= 3600:  # NaN fails both comparisons
            raise FieldProblem("file_budget", "must be more than 0 and at most 3600 seconds")
        if self.imports == "allow" and not self.forbid_dynamic_exec:
            # exec("import socket") would import past the allowlist unseen.
            raise FieldProblem(
                None,
                "imports: allow needs forbid_dynamic_exec: true (code run by eval/exec "
                "could import any module, past the allowlist)",
            )


@dataclass(frozen=True, kw_only=True)
class PolicyOverride(Strict):
    """Per-path policy changes: only the keys given replace the base policy's (each
    override is checked against the default and the base policy by ``validate_config``)."""

    paths: tuple[str, ...]
    policy: dict[str, Any] = field(default_factory=dict)
