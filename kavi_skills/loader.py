"""The parent's trust check: verified bytes and static metadata, and nothing executed.

:func:`verify_entry` is the whole decision whether a registry entry may run: every pin
matches (``read_pinned`` reads each file once and hands back the bytes it hashed), and the
skill class, read *statically* from those bytes, declares the name, side-effect class and
secrets the registry trusted. Nothing of the skill runs in this process, ever: the bytes
go to a sandboxed child (:mod:`kavi_skills.isolation`), which compiles and runs exactly
them. The signed promotion (attestation) is checked here too; extend the check here (a
fuller import closure...) and every run path gets it.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kavi_gates.attestation import require_entry_attestation, verify_entry_attestation
from kavi_gates.codes.hash_pin import PIN_MISSING
from kavi_gates.config import SIDE_EFFECT_CLASSES, LoadedConfig
from kavi_gates.errors import KaviError
from kavi_gates.hash_pin import Registry, RegistryEntry, load_registry, read_pinned, verify_pins
from kavi_gates.import_roots import ImportRoots
from kavi_gates.models import Severity
from kavi_skills.errors import TrustError, UnknownSkillError
from kavi_skills.verified_import import module_name_for, served_names

TrustState = Literal["ok", "drifted", "missing", "unattested"]
_METADATA = ("name", "side_effect_class", "required_secrets", "allowed_hosts")


@dataclass(frozen=True)
class TrustedSkill:
    """A registry entry whose pins matched, with the bytes that were hashed."""

    name: str
    entry: RegistryEntry
    source_hash: str
    """Digest of every pin of the entry (see :func:`bundle_hash`)."""
    verified: Mapping[str, bytes]
    """Pinned path -> the bytes whose sha256 matched its pin."""
    allowed_hosts: tuple[str, ...]
    """The hosts its HTTP capability may reach: the signed entry's ``allowed_hosts``."""
    root: Path
    served: Mapping[str, str]
    """Module name -> pinned path: every name the verified code imports a pinned file by."""
    import_roots: dict[str, object]
    """The project's import roots (``ImportRoots.as_dict``), for the child's import guard."""


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


def _check_entry(name: str, entry: RegistryEntry) -> None:
    if entry.side_effect_class not in SIDE_EFFECT_CLASSES:
        raise TrustError(f"{name}: unknown side_effect_class {entry.side_effect_class!r}")
    if entry.path not in entry.pins:
        raise TrustError(f"{name}: the skill file {entry.path} is not among its pins")
    module_name_for(entry.path)  # refuses a path that names no importable module


def static_metadata(name: str, entry: RegistryEntry, source: bytes) -> dict[str, object]:
    """The literal class attributes of the entry's class, read with ``ast`` (nothing runs)."""
    where = f"{name}: {entry.path}:{entry.class_}"
    try:
        tree = ast.parse(source, filename=entry.path)
    except (SyntaxError, ValueError) as err:
        raise TrustError(f"{name}: pinned source {entry.path} does not compile: {err}") from None
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == entry.class_]
    if not classes:
        raise TrustError(f"{where} is not a class defined in {entry.path}")
    found: dict[str, object] = {}
    for statement in classes[-1].body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in _METADATA:
            try:
                found[target.id] = ast.literal_eval(value)
            except ValueError:
                raise TrustError(f"{where}.{target.id} is not a literal") from None
    return found


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, tuple | list) or not all(isinstance(v, str) for v in value):
        raise TrustError(f"{where} must be a tuple of strings")
    return tuple(value)


def _check_metadata(name: str, entry: RegistryEntry, metadata: dict[str, object]) -> None:
    where = f"{name}: {entry.path}:{entry.class_}"
    if metadata.get("name") != name:
        raise TrustError(f"{where} declares name {metadata.get('name')!r}")
    declared = metadata.get("side_effect_class")
    if declared != entry.side_effect_class:
        raise TrustError(
            f"{where} declares side_effect_class {declared!r}, "
            f"the registry trusted {entry.side_effect_class!r}"
        )
    secrets = _strings(metadata.get("required_secrets", ()), f"{where}.required_secrets")
    undeclared = set(secrets) - set(entry.required_secrets)
    if undeclared:
        raise TrustError(f"{where} wants secrets the registry never trusted: {sorted(undeclared)}")
    hosts = _strings(metadata.get("allowed_hosts", ()), f"{where}.allowed_hosts")
    untrusted = {h.lower() for h in hosts} - {h.lower() for h in entry.allowed_hosts}
    if untrusted:
        raise TrustError(f"{where} wants hosts the registry never trusted: {sorted(untrusted)}")


def verify_entry(
    name: str, entry: RegistryEntry, root: Path, *, allowed_signers: Path
) -> TrustedSkill:
    """Verify every pin of ``entry``, its signed promotion (against ``allowed_signers``) and
    its static metadata; return the verified bytes. Nothing of the skill executes here."""
    _check_entry(name, entry)
    try:
        verified = read_pinned(entry, root)  # raises PinMismatch; nothing has executed
        require_entry_attestation(name, entry, root, allowed_signers)
    except TrustError:
        raise
    except KaviError as err:
        raise TrustError(f"{name}: refusing to run untrusted code: {err}") from None
    metadata = static_metadata(name, entry, verified[entry.path])
    _check_metadata(name, entry, metadata)
    # Imports are resolved here, where the project is visible; the child only serves them.
    root = root.resolve()
    roots = ImportRoots.discover(root)
    served = served_names(root, verified, roots)
    # The signed entry's hosts are the grant (promotion records the class's literal).
    return TrustedSkill(
        name,
        entry,
        bundle_hash(entry),
        verified,
        entry.allowed_hosts,
        root,
        served,
        roots.as_dict(),
    )


def load_trusted_skill(name: str, loaded: LoadedConfig) -> TrustedSkill:
    """Verify the trusted skill ``name`` of the project ``loaded`` (nothing of it runs here)."""
    entry = entry_for(load_trusted_registry(loaded), name)
    return verify_entry(name, entry, loaded.root, allowed_signers=loaded.allowed_signers())
