"""Which skills ``kavi serve`` offers right now, and what each declares.

A :class:`Snapshot` is taken by verifying every registry entry exactly as a run would
(:func:`~kavi_skills.loader.verify_entry`: pins, the signed attestation, the static
metadata) and describing each verified skill in a sandboxed child
(:func:`~kavi_skills.describe.describe_skill`). Descriptions are cached by what determines
them, the bundle hash and the resolved imports, so a skill is described once per version;
a skill that no longer verifies drops out of the next snapshot whatever the cache holds.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from kavi_gates.config import TOOL_NAME, LoadedConfig
from kavi_gates.errors import ConfigError, KaviError
from kavi_gates.hash_pin import Registry
from kavi_skills.capabilities import needs_confirmation
from kavi_skills.describe import SkillDescription, describe_skill
from kavi_skills.loader import TrustedSkill, load_trusted_registry, registry_path, verify_entry

DESCRIBE_WORKERS = 2
"""Skills described at once (each in its own sandboxed child) when several are new."""


@dataclass(frozen=True)
class ServedSkill:
    """A trusted skill offered as a tool: verified now, described from its verified bytes."""

    name: str
    side_effect_class: str
    source_hash: str
    described: SkillDescription
    allowed: bool
    """May it run over MCP: READ_ONLY, or named in ``serve.allow``."""


@dataclass(frozen=True)
class Snapshot:
    """The tools on offer and, for every other registry entry, why it is withheld."""

    skills: dict[str, ServedSkill] = field(default_factory=dict)
    withheld: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[tuple[str, str, bool], ...]:
        """What a client sees change: the names, versions and permissions on offer."""
        return tuple(
            (name, skill.source_hash, skill.allowed) for name, skill in sorted(self.skills.items())
        )


def registry_or_empty(loaded: LoadedConfig) -> Registry:
    """The project's registry; none at all means no skill is trusted (an empty one)."""
    if not registry_path(loaded).exists():
        return Registry(skills={})
    return load_trusted_registry(loaded)


def check_allow_list(loaded: LoadedConfig) -> None:
    """``serve.allow`` may name only skills the registry has (a typo would silently refuse)."""
    allowed = loaded.config.serve.allow
    if not allowed:
        return
    known = registry_or_empty(loaded).skills
    unknown = sorted(set(allowed) - set(known))
    if unknown:
        raise ConfigError(
            f"{loaded.source}: serve.allow names skills the registry "
            f"({loaded.config.hash_pin.registry}) does not have: {', '.join(unknown)} "
            f"(trusted skills: {', '.join(sorted(known)) or 'none'})"
        )


def _description_key(skill: TrustedSkill) -> str:
    """What a description depends on: the verified bytes (by their pins) and how the
    verified code's imports resolve."""
    blob = json.dumps(
        [skill.source_hash, dict(skill.served), skill.import_roots], sort_keys=True, default=str
    )
    return hashlib.sha256(blob.encode()).hexdigest()


class Catalog:
    """The project's trusted skills as tools; :meth:`snapshot` is safe from any thread."""

    def __init__(self, loaded: LoadedConfig, *, sandbox: bool | None = None) -> None:
        self.loaded = loaded
        self.sandbox = sandbox
        self._described: dict[str, SkillDescription] = {}
        self._lock = threading.Lock()

    def allowed(self, name: str, side_effect_class: str) -> bool:
        """May ``name`` run over MCP (no confirmation needed, or ``serve.allow`` names it)."""
        return not needs_confirmation(side_effect_class) or name in self.loaded.config.serve.allow

    def snapshot(self) -> Snapshot:
        """Verify every entry and describe the new ones (one caller at a time)."""
        with self._lock:
            return self._snapshot()

    def _snapshot(self) -> Snapshot:
        try:
            registry = registry_or_empty(self.loaded)
        except KaviError as err:  # an unreadable registry trusts nothing
            return Snapshot(withheld={"*": f"the registry cannot be read: {err}"})
        withheld: dict[str, str] = {}
        verified: list[TrustedSkill] = []
        root, signers = self.loaded.root, self.loaded.allowed_signers()
        for name, entry in sorted(registry.skills.items()):
            if not TOOL_NAME.match(name):
                withheld[name] = f"{name!r} is not a valid MCP tool name"
                continue
            try:
                verified.append(verify_entry(name, entry, root, allowed_signers=signers))
            except KaviError as err:
                withheld[name] = str(err)
        self._describe_new(verified, withheld)
        skills: dict[str, ServedSkill] = {}
        for skill in verified:
            described = self._described.get(_description_key(skill))
            if described is None:
                continue  # withheld above, with the reason
            problem = _unusable_input(described)
            if problem:
                withheld[skill.name] = problem
                continue
            side = skill.entry.side_effect_class
            skills[skill.name] = ServedSkill(
                skill.name, side, skill.source_hash, described, self.allowed(skill.name, side)
            )
        return Snapshot(skills, withheld)

    def _describe_new(self, skills: Iterable[TrustedSkill], withheld: dict[str, str]) -> None:
        todo = [s for s in skills if _description_key(s) not in self._described]
        if not todo:
            return

        def describe(skill: TrustedSkill) -> tuple[TrustedSkill, SkillDescription | str]:
            try:
                return skill, describe_skill(skill, self.loaded, sandbox=self.sandbox)
            except KaviError as err:
                return skill, str(err)

        # Each child is started and awaited by the same pool thread, which lives until the
        # pool is shut down (bubblewrap's --die-with-parent follows the starting thread).
        with ThreadPoolExecutor(max_workers=DESCRIBE_WORKERS) as pool:
            outcomes = list(pool.map(describe, todo))
        for skill, outcome in outcomes:
            if isinstance(outcome, str):
                withheld[skill.name] = outcome  # not cached: the next snapshot tries again
            else:
                self._described[_description_key(skill)] = outcome


def _unusable_input(described: SkillDescription) -> str | None:
    """Why a skill cannot be a tool: MCP tools (and Kavi's runtime) take a JSON object."""
    if described.input_schema.get("type") != "object":
        return f"{described.name}: its input model does not describe a JSON object"
    return None
