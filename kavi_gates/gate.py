"""What a gate is: an id, a scope and a ``check`` that returns findings."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from kavi_gates.config import KaviConfig, LoadedConfig
from kavi_gates.models import Code, Finding
from kavi_gates.paths import relpath

if TYPE_CHECKING:
    from kavi_gates.policy.rule import Rule


@dataclass(frozen=True)
class GateContext:
    """Everything a gate may look at; gates never read global state or the CLI."""

    loaded: LoadedConfig
    files: tuple[Path, ...]
    """Governed files for this run (absolute paths)."""
    base: str | None = None
    """``--base``: a git ref, or a directory baseline (``dir:PATH``) for sandboxes."""
    use_cache: bool = True
    jobs: int | None = None
    verbose: bool = False
    explicit_paths: bool = False
    """True when the user named paths: whole-repo gates then look only at those."""
    rule_loader: Callable[[], tuple[type[Rule], ...]] = field(default=lambda: ())
    """Returns the policy rule classes plugins contribute, validated (loaded on first need)."""
    rule_sources: tuple[str, ...] = ()
    """Files of the modules that contribute policy rules (their bytes key the cache)."""
    rule_plugins: tuple[str, ...] = ()
    """Names of the plugins that contribute policy rules."""
    code_loader: Callable[[], Mapping[str, Code]] = field(default=dict)
    """Returns every finding code the plugins declare, by id (a clash is a ConfigError);
    plain data, loaded on first need."""

    def policy_rules(self) -> tuple[type[Rule], ...]:
        return self.rule_loader()

    def finding_codes(self) -> Mapping[str, Code]:
        return self.code_loader()

    @property
    def config(self) -> KaviConfig:
        return self.loaded.config

    @property
    def root(self) -> Path:
        return self.loaded.root

    def rel(self, path: Path) -> str:
        return relpath(path, self.root)


@dataclass(frozen=True)
class GateOutcome:
    """A gate's raw answer; the runner turns it into a ``GateResult``."""

    findings: Sequence[Finding]
    checked: Sequence[str] = ()
    notes: Sequence[str] = ()
    skipped: str | None = None
    """Why the gate had nothing to judge (the result is ``skip``, with this as its note)."""
    errors: Sequence[str] = ()
    """What the gate could not judge (a rule that raised on one file): the result is
    ``error`` (exit 3) while its findings are still reported."""


@runtime_checkable
class Gate(Protocol):
    id: str
    description: str
    scope: Literal["files", "repo"]
    """``files``: judges each governed file; ``repo``: judges the repository as a whole."""

    def check(self, context: GateContext) -> GateOutcome: ...


@dataclass
class DeferredGate:
    """A gate whose implementation module is imported only when the gate runs, so that
    a run of one gate (a pre-commit hook) never loads the others' code."""

    id: str
    description: str
    scope: Literal["files", "repo"]
    implementation: str
    """``module:Class`` of the gate (constructed without arguments)."""

    def check(self, context: GateContext) -> GateOutcome:
        import importlib

        module, _, name = self.implementation.partition(":")
        gate = getattr(importlib.import_module(module), name)()
        outcome: GateOutcome = gate.check(context)
        return outcome
