"""Trusted loading: hash the pinned bytes first, then execute exactly those bytes.

Nothing of a skill runs before every pin of its registry entry matches. The loader reads each
pinned file once (``read_pinned``), compiles the bytes it hashed, and executes them through a
private finder (:mod:`kavi_skills.verified_import`) so ``import skills._vault`` inside the
skill gets the verified helper too, never a re-read or a ``sys.path`` lookup.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Literal

from pydantic import BaseModel

from kavi_gates.attestation import require_entry_attestation, verify_entry_attestation
from kavi_gates.codes.hash_pin import PIN_MISSING
from kavi_gates.config import SIDE_EFFECT_CLASSES, LoadedConfig
from kavi_gates.errors import KaviError
from kavi_gates.hash_pin import Registry, RegistryEntry, load_registry, read_pinned, verify_pins
from kavi_gates.models import Severity
from kavi_skills.base import BaseSkill
from kavi_skills.errors import TrustError, UnknownSkillError
from kavi_skills.verified_import import (
    VerifiedFinder,
    activated,
    compile_verified,
    import_verified,
    module_name_for,
)

TrustState = Literal["ok", "drifted", "missing", "unattested"]


@dataclass(frozen=True)
class LoadedSkill:
    """A skill class built from verified bytes, with what it needs to run again."""

    name: str
    skill_class: type[BaseSkill]
    entry: RegistryEntry
    source_hash: str
    """Digest of every pin of the entry (see :func:`bundle_hash`)."""
    finder: VerifiedFinder
    modules: dict[str, ModuleType]

    @contextmanager
    def activated(self) -> Iterator[None]:
        """Make the verified modules importable while the skill runs (lazy imports included)."""
        with activated(self.finder, self.modules):
            yield


def registry_path(loaded: LoadedConfig) -> Path:
    """The registry file of a project (``hash_pin.registry`` relative to the root)."""
    return loaded.root / loaded.config.hash_pin.registry


def load_trusted_registry(loaded: LoadedConfig) -> Registry:
    """Load the registry; a missing registry means no skill is trusted (an empty one)."""
    path = registry_path(loaded)
    if not path.exists():
        raise UnknownSkillError(f"no skill registry at {path}: no skill is trusted yet")
    return load_registry(path)


def bundle_hash(entry: RegistryEntry) -> str:
    """One digest over all pins of an entry: a helper's drift changes it as much as the skill's."""
    lines = [f"{path}\0{digest}\n" for path, digest in sorted(entry.pins.items())]
    return "sha256:" + hashlib.sha256("".join(lines).encode()).hexdigest()


def entry_for(registry: Registry, name: str) -> RegistryEntry:
    """The registry entry for ``name``, or a clear refusal naming the trusted skills."""
    entry = registry.skills.get(name)
    if entry is None:
        known = ", ".join(sorted(registry.skills)) or "none"
        raise UnknownSkillError(f"unknown skill {name!r} (trusted skills: {known})")
    return entry


def trust_state(
    entry: RegistryEntry, root: Path, name: str, allowed_signers: Path
) -> tuple[TrustState, str]:
    """``ok``, ``missing`` (a pinned file is gone), ``drifted`` (anything else about the pins:
    changed bytes, an unpinned local import...) or ``unattested`` (no signed promotion by an
    allowed signer covers the entry exactly), with the first finding's message.

    The gate's own ``verify_pins`` and ``verify_entry_attestation`` decide, so ``kavi skills``
    and ``kavi check`` never disagree.
    """
    errors = [f for f in verify_pins(entry, root) if f.severity == Severity.ERROR]
    missing = [f for f in errors if f.rule == PIN_MISSING.id]
    if errors:
        first = (missing or errors)[0]
        return ("missing" if missing else "drifted"), f"{first.path}: {first.message}"
    unattested = verify_entry_attestation(name, entry, root, allowed_signers)
    if unattested:
        return "unattested", f"{unattested[0].path}: {unattested[0].message}"
    return "ok", ""


def _check_entry(name: str, entry: RegistryEntry) -> tuple[str, str]:
    if entry.side_effect_class not in SIDE_EFFECT_CLASSES:
        raise TrustError(f"{name}: unknown side_effect_class {entry.side_effect_class!r}")
    if entry.path not in entry.pins:
        raise TrustError(f"{name}: the skill file {entry.path} is not among its pins")
    module_name, _ = module_name_for(entry.path)
    return module_name, entry.class_


def _check_class(name: str, entry: RegistryEntry, candidate: object) -> type[BaseSkill]:
    where = f"{name}: {entry.path}:{entry.class_}"
    if not (isinstance(candidate, type) and issubclass(candidate, BaseSkill)):
        raise TrustError(f"{where} is not a BaseSkill subclass")
    if candidate is BaseSkill:
        raise TrustError(f"{where} is BaseSkill itself, not a skill")
    if getattr(candidate, "name", None) != name:
        raise TrustError(f"{where} declares name {getattr(candidate, 'name', None)!r}")
    declared = getattr(candidate, "side_effect_class", None)
    if declared != entry.side_effect_class:
        raise TrustError(
            f"{where} declares side_effect_class {declared!r}, "
            f"the registry trusted {entry.side_effect_class!r}"
        )
    for attr in ("input_model", "output_model"):
        model = getattr(candidate, attr, None)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise TrustError(f"{where}.{attr} is not a pydantic model")
    undeclared = set(candidate.required_secrets) - set(entry.required_secrets)
    if undeclared:
        raise TrustError(f"{where} wants secrets the registry never trusted: {sorted(undeclared)}")
    return candidate


def load_entry(
    name: str, entry: RegistryEntry, root: Path, *, allowed_signers: Path
) -> LoadedSkill:
    """Verify every pin of ``entry`` and its signed promotion (against ``allowed_signers``),
    then build the skill class from the verified bytes."""
    module_name, class_name = _check_entry(name, entry)
    try:
        verified = read_pinned(entry, root)  # raises PinMismatch before anything executes
        require_entry_attestation(name, entry, root, allowed_signers)
    except TrustError:
        raise
    except KaviError as err:
        raise TrustError(f"{name}: refusing to run untrusted code: {err}") from None
    finder = compile_verified(root, verified)
    try:
        modules = import_verified(finder, module_name)
    except (Exception, SystemExit) as err:  # the verified module itself failed at import
        raise TrustError(
            f"{name}: importing {entry.path} failed: {type(err).__name__}: {err}"
        ) from None
    skill_class = _check_class(name, entry, getattr(modules[module_name], class_name, None))
    return LoadedSkill(name, skill_class, entry, bundle_hash(entry), finder, modules)


def load_trusted_skill(name: str, loaded: LoadedConfig) -> LoadedSkill:
    """Load the trusted skill ``name`` of the project ``loaded`` (the forge and CLI call this)."""
    entry = entry_for(load_trusted_registry(loaded), name)
    return load_entry(name, entry, loaded.root, allowed_signers=loaded.allowed_signers())
