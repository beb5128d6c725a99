"""What every forge step needs: the project's config, its ledger, vault, tools and endpoint."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from kavi_forge.checks import SubprocessToolRunner, ToolRunner
from kavi_forge.isolation import Isolation, choose_isolation, tool_env
from kavi_forge.redact import secret_values
from kavi_gates.config import LoadedConfig
from kavi_gates.models import GateResult
from kavi_gates.registry import RegistryEntry
from kavi_ledger.artifacts import write_note
from kavi_ledger.models import Artifact, ArtifactKind, Build, BuildStatus, Proposal
from kavi_ledger.paths import KaviPaths
from kavi_ledger.states import list_builds, list_proposals
from kavi_skills.secrets import Redactor

SKILLS_DIR = "skills"

if TYPE_CHECKING:
    from kavi_skills.llm import LLMClient


def _default_llm() -> LLMClient | None:
    from kavi_skills.llm import LLMClient  # openai costs a second to import: only on use

    return LLMClient()


@dataclass
class Forge:
    """One project's forge: ``loaded`` is the repository's config (never a sandbox's)."""

    loaded: LoadedConfig
    paths: KaviPaths
    db: Database
    tools: ToolRunner | None = None
    llm: Callable[[], LLMClient | None] = _default_llm
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    keep_sandbox: bool = False
    timeout: float | None = None
    """Agent timeout in seconds (``None``: ``forge.timeout``)."""
    no_sandbox: bool = False
    """``--no-sandbox``: run the agent and the tools unconfined (recorded everywhere)."""
    _isolation: Isolation | None = field(default=None, init=False, repr=False)
    _redactor: Redactor | None = field(default=None, init=False, repr=False)

    @property
    def root(self) -> Path:
        return self.loaded.root

    def isolation(self) -> Isolation:
        """The sandbox (or the recorded opt-out); refuses (exit 2) where none can start."""
        if self._isolation is None:
            self._isolation = choose_isolation(
                enabled=self.loaded.config.sandbox.enabled, no_sandbox=self.no_sandbox
            )
        return self._isolation

    @property
    def tool_runner(self) -> ToolRunner:
        """The configured tool runner, or the real tools in this command's isolation."""
        if self.tools is None:
            self.tools = SubprocessToolRunner(
                self.paths.cache_dir / "mypy", backend=self.isolation().backend
            )
        return self.tools

    def advisor(self) -> LLMClient | None:
        """The endpoint for retry advice, or None when ``forge.advice`` is off."""
        return self.llm() if self.loaded.config.forge.advice else None

    def storage_dirs(self) -> list[Path]:
        """Kavi's own data directories: never copied into a sandbox, never visible in one."""
        return list(self.paths.directories)

    def tool_env(self) -> dict[str, str]:
        """The tools' environment: built from nothing (no secret), no bytecode written."""
        return tool_env()

    def declared_secrets(self) -> set[str]:
        """Every secret name a registry entry or any proposal declares (whatever its state)."""
        names = {s for p in list_proposals(self.db) for s in p.required_secrets}
        return names | self.registry_secrets()

    def registry_secrets(self) -> set[str]:
        """Every secret a registry entry declares (best effort: no registry, no names)."""
        from kavi_gates.registry import load_registry

        path = self.root / self.loaded.config.hash_pin.registry
        if not path.is_file():
            return set()
        try:
            registry = load_registry(path)
        except Exception:  # an unreadable registry is reported by the gates, not here
            return set()
        return {s for entry in registry.skills.values() for s in entry.required_secrets}

    def redactor(self) -> Redactor:
        """Replaces every known secret value (see ``kavi_forge.redact``)."""
        if self._redactor is None:
            values = secret_values(
                self.declared_secrets(),
                self.environ,
                self.paths.config_dir,
                self.loaded.config.forge.agent_env,
            )
            self._redactor = Redactor(values)
        return self._redactor

    def redact(self, text: str) -> str:
        """``text`` without any known secret value."""
        return self.redactor().text(text)

    def redact_results(self, results: list[GateResult]) -> list[GateResult]:
        """``results`` without any known secret value in messages, errors and notes."""
        from kavi_forge.redact import redact_results

        return redact_results(self.redactor(), results)

    def note(self, kind: ArtifactKind, title: str, body: str, related_id: str | None) -> Artifact:
        """Write a vault note, every known secret value redacted first."""
        return write_note(
            self.db,
            self.paths.vault_dir,
            kind=kind,
            title=self.redact(title),
            body=self.redact(body),
            related_id=related_id,
        )


def summary_of(build: Build) -> dict[str, Any]:
    """A build's JSON summary (empty for a build without one)."""
    try:
        data = json.loads(build.summary or "{}")
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def last_good_build(db: Database, proposal_id: str) -> Build | None:
    """The proposal's latest successful build."""
    good = [b for b in list_builds(db, proposal_id) if b.status is BuildStatus.SUCCEEDED]
    return good[-1] if good else None


def skill_path(forge: Forge, proposal: Proposal) -> str:
    """Where the proposal's skill lives: recorded by an adoption, else ``skills/{name}.py``."""
    build = last_good_build(forge.db, proposal.id)
    recorded = summary_of(build).get("skill_path") if build else None
    return recorded if isinstance(recorded, str) else f"{SKILLS_DIR}/{proposal.name}.py"


def test_path(forge: Forge, rel: str) -> str:
    """The test file the invariants gate expects for a skill file."""
    stem = rel.rsplit("/", 1)[-1].removesuffix(".py")
    return f"{forge.loaded.config.invariants.tests_dir.rstrip('/')}/test_{stem}.py"


def entry_for(proposal: Proposal, rel: str, class_name: str) -> RegistryEntry:
    """A registry entry for the proposal (pins and provenance filled in later)."""
    return RegistryEntry.model_validate(
        {
            "path": rel,
            "class": class_name,
            "side_effect_class": proposal.side_effect_class,
            "required_secrets": list(proposal.required_secrets),
        }
    )
