"""What every forge step needs: the project's config, its ledger, vault, tools and endpoint."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from kavi_forge.agent import clean_env
from kavi_forge.checks import SubprocessToolRunner, ToolRunner
from kavi_gates.config import LoadedConfig
from kavi_gates.registry import RegistryEntry
from kavi_ledger.models import Build, BuildStatus, Proposal
from kavi_ledger.paths import KaviPaths
from kavi_ledger.states import list_builds

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

    def __post_init__(self) -> None:
        if self.tools is None:
            self.tools = SubprocessToolRunner(self.paths.cache_dir / "mypy")

    @property
    def root(self) -> Path:
        return self.loaded.root

    @property
    def tool_runner(self) -> ToolRunner:
        assert self.tools is not None
        return self.tools

    def advisor(self) -> LLMClient | None:
        """The endpoint for retry advice, or None when ``forge.advice`` is off."""
        return self.llm() if self.loaded.config.forge.advice else None

    def storage_dirs(self) -> list[Path]:
        """Kavi's own data directories: never copied into a sandbox."""
        return list(self.paths.directories)

    def child_env(self, proposal: Proposal, *, for_agent: bool) -> dict[str, str]:
        """The environment for the agent (or the tools): no secrets, no declared secrets."""
        declared = set(proposal.required_secrets) | self.registry_secrets()
        allow = self.loaded.config.forge.agent_env_allow if for_agent else ()
        env = clean_env(self.environ, declared_secrets=declared, allow=allow)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

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
