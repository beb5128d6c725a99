"""The hash-pin gate and the pinning library the runtime and the forge reuse.

A registry entry pins the sha256 of its skill file and of every project file the skill
imports (transitively, through the project's import roots; see ``kavi_gates.import_roots``
and ``kavi_gates.imports``), plus the
digest of the policy it was verified under. Rules:

- KAV801 a pinned file's bytes differ from its pin (expected and actual are printed)
- KAV802 a pinned path does not exist
- KAV803 a governed skill file is pinned by no entry (or an entry does not pin its own file)
- KAV804 an entry has no pins
- KAV805 the entry's policy digest differs from the current policy's
- KAV806 (warning) the entry records no policy digest (a hand-written entry)
- KAV807 a project file the skill imports is not pinned by its entry, or is compiled
  (an extension module or a sourceless ``.pyc``: only source can be verified)
- KAV810-KAV815 the entry is not covered exactly by a signed promotion from an allowed
  signer (see ``kavi_gates.attestation``)

Every function reads each file exactly once, so what was hashed is what is returned.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kavi_gates.attestation import verify_entry_attestation
from kavi_gates.codes import hash_pin as codes
from kavi_gates.errors import EXIT_FINDINGS, KaviError
from kavi_gates.gate import GateContext, GateOutcome
from kavi_gates.import_roots import ImportRoots, is_compiled
from kavi_gates.imports import local_import_closure
from kavi_gates.invariants import is_skill_module
from kavi_gates.models import Finding
from kavi_gates.paths import relpath
from kavi_gates.registry import Registry, RegistryEntry, load_registry, save_registry

GATE = "hash-pin"

__all__ = [
    "HashPinGate",
    "PinMismatch",
    "Registry",
    "RegistryEntry",
    "compute_pins",
    "load_registry",
    "read_pinned",
    "save_registry",
    "sha256_bytes",
    "verify_pins",
]


class PinMismatch(KaviError):
    """What would run is not what was pinned: drifted, missing or unpinned files."""

    exit_code = EXIT_FINDINGS


def sha256_bytes(data: bytes) -> str:
    """``sha256:<hex>`` of some bytes (the pin format)."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def compute_pins(path: Path, root: Path, roots: ImportRoots | None = None) -> dict[str, str]:
    """Pins for a skill file: it and every project file it imports, rel path → sha256.

    Imports resolve through the project's import roots (``kavi_gates.import_roots``), so a
    sibling-style helper, a ``src/`` package or an editable install's package is pinned.
    """
    root = root.resolve()
    path = path if path.is_absolute() else root / path
    closure = local_import_closure(path, root, roots=roots or ImportRoots.discover(root))
    return {relpath(p, root): sha256_bytes(data) for p, data in sorted(closure.items())}


def _abs(path: Path) -> Path:
    """Absolute without following symlinks: the key the import walk uses for a file."""
    return Path(os.path.abspath(path))


def _read(root: Path, rel: str) -> bytes | None:
    """The bytes of a pinned regular file; ``None`` if missing or a symlink (never followed)."""
    path = root / rel
    if path.is_symlink():
        return None
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _unpinned_imports(
    entry: RegistryEntry,
    root: Path,
    pinned: dict[Path, bytes],
    read_other: Callable[[Path], bytes],
    roots: ImportRoots,
) -> list[tuple[str, str]]:
    """``(rel path, problem)`` for every project file the skill imports (through its pinned
    bytes) that its entry does not pin, and for every compiled file it would import."""
    skill = _abs(root / entry.path)
    if skill not in pinned and not skill.is_file():
        return []

    def read(path: Path) -> bytes:
        return pinned[path] if path in pinned else read_other(path)

    closure = local_import_closure(skill, root, read=read, roots=roots)
    problems: list[tuple[str, str]] = []
    for path in sorted(closure):
        rel = relpath(path, root)
        if is_compiled(path):
            problems.append(
                (
                    rel,
                    f"{entry.path} imports {rel}, a compiled file: only source "
                    "that was verified may run",
                )
            )
        elif path not in pinned and path != skill:  # the skill file unpinned is KAV803
            problems.append(
                (rel, f"{entry.path} imports local module {rel}, which its entry does not pin")
            )
    return problems


def verify_pins(
    entry: RegistryEntry,
    root: Path,
    policy_digest: str | None = None,
    roots: ImportRoots | None = None,
) -> list[Finding]:
    """Findings (KAV801-KAV807) for one registry entry; ``policy_digest`` enables KAV805/806."""
    root = root.resolve()
    roots = roots or ImportRoots.discover(root)
    findings: list[Finding] = []
    if not entry.pins:
        findings.append(
            codes.NO_PINS.finding(
                entry.path,
                f"registry entry for {entry.class_} has no pins; an unpinned skill is not trusted",
            )
        )
    pinned: dict[Path, bytes] = {}
    for rel, expected in sorted(entry.pins.items()):
        data = _read(root, rel)
        if data is None:
            findings.append(
                codes.PIN_MISSING.finding(
                    rel,
                    "pinned path does not exist as a regular file "
                    f"(pinned by the entry for {entry.path})",
                )
            )
            continue
        actual = sha256_bytes(data)
        if actual != expected:
            findings.append(
                codes.DRIFTED.finding(
                    rel, f"pinned file drifted: expected {expected}, actual {actual}"
                )
            )
        pinned[_abs(root / rel)] = data
    if entry.pins and entry.path not in entry.pins:
        findings.append(
            codes.UNPINNED_SKILL.finding(entry.path, "skill file is not pinned by its own entry")
        )
    for rel, problem in _unpinned_imports(entry, root, pinned, Path.read_bytes, roots):
        findings.append(codes.UNPINNED_IMPORT.finding(rel, problem))
    if policy_digest is not None:
        if entry.policy_digest is None:
            findings.append(
                codes.POLICY_UNRECORDED.finding(
                    entry.path,
                    "pinned under an unrecorded policy (entry has no policy_digest)",
                )
            )
        elif entry.policy_digest != policy_digest:
            findings.append(
                codes.POLICY_CHANGED.finding(
                    entry.path,
                    "pins predate the current policy: "
                    f"pinned under {entry.policy_digest}, policy is now "
                    f"{policy_digest}",
                )
            )
    return findings


def read_pinned(
    entry: RegistryEntry, root: Path, roots: ImportRoots | None = None
) -> dict[str, bytes]:
    """The verified bytes of every pinned file (rel path → bytes), each read exactly once.

    Raises ``PinMismatch`` when the entry has no pins, a pinned file is missing or drifted,
    the skill file is unpinned, or the skill imports a project file its entry does not pin
    (or a compiled one).
    """
    root = root.resolve()
    roots = roots or ImportRoots.discover(root)
    if not entry.pins:
        raise PinMismatch(f"{entry.path}: registry entry has no pins; refusing to run it")
    if entry.path not in entry.pins:
        raise PinMismatch(f"{entry.path}: skill file is not pinned by its own entry")
    verified: dict[str, bytes] = {}
    for rel, expected in sorted(entry.pins.items()):
        data = _read(root, rel)
        if data is None:
            raise PinMismatch(f"{rel}: pinned file is missing (or a symlink)")
        actual = sha256_bytes(data)
        if actual != expected:
            raise PinMismatch(f"{rel}: pinned file drifted: expected {expected}, actual {actual}")
        verified[rel] = data

    def refuse(path: Path) -> bytes:
        raise PinMismatch(f"{entry.path} imports {relpath(path, root)}, which is not pinned")

    by_path = {_abs(root / rel): data for rel, data in verified.items()}
    for _rel, problem in _unpinned_imports(entry, root, by_path, refuse, roots):
        raise PinMismatch(problem)
    return verified


def _attestation_findings(
    entries: list[tuple[str, RegistryEntry]], root: Path, context: GateContext
) -> list[Finding]:
    """KAV810-KAV815 for every entry; one ``ssh-keygen`` process each, run side by side
    (they wait on process start-up, not on the GIL)."""
    signers = context.loaded.allowed_signers()

    def check(item: tuple[str, RegistryEntry]) -> list[Finding]:
        return verify_entry_attestation(item[0], item[1], root, signers)

    workers = min(len(entries), context.jobs or (os.cpu_count() or 1) * 2, 16)
    if workers <= 1:
        return [f for item in entries for f in check(item)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return [f for found in pool.map(check, entries) for f in found]


class HashPinGate:
    """Every registry entry matches the bytes on disk; every governed skill is pinned."""

    id = GATE

    def check(self, context: GateContext) -> GateOutcome:
        root = context.root
        registry_path = root / context.config.hash_pin.registry
        governed = [context.rel(f) for f in context.files]
        skills = [r for r in governed if is_skill_module(r)]
        if not registry_path.exists() and not registry_path.is_symlink():
            # No registry means nothing is trusted: every governed skill is unpinned (exit 1,
            # a finding per file), not a configuration error that would hide the others.
            where = context.config.hash_pin.registry
            return GateOutcome(
                findings=[
                    codes.UNPINNED_SKILL.finding(
                        rel,
                        f"governed skill file is not pinned: the "
                        f"registry {where} does not exist (kavi promote writes it)",
                    )
                    for rel in skills
                ],
                notes=[f"no registry at {where}"],
            )
        registry = load_registry(registry_path)
        current = context.loaded.policy_digest()
        roots = ImportRoots.discover(root)  # the same roots promotion pinned with
        named = set(governed) if context.explicit_paths else None  # helpers named count too
        findings: list[Finding] = []
        checked: list[str] = []
        selected: list[tuple[str, RegistryEntry]] = []
        for name, entry in registry.skills.items():
            if named is not None and entry.path not in named and not named & entry.pins.keys():
                continue
            checked.append(entry.path)
            selected.append((name, entry))
            findings.extend(verify_pins(entry, root, current, roots))
        findings.extend(_attestation_findings(selected, root, context))
        pinned = {rel for entry in registry.skills.values() for rel in entry.pins}
        for rel in skills:
            if rel not in pinned:
                findings.append(
                    codes.UNPINNED_SKILL.finding(
                        rel,
                        "governed skill file is not pinned by "
                        f"any entry of {context.config.hash_pin.registry}",
                    )
                )
        return GateOutcome(findings=findings, checked=checked)
