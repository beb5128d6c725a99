"""The diff-allowlist gate: an agent's change may touch only allowed paths, and must touch
required ones.

It judges agents' changes (``diff_allowlist.judge: agents``, the default; see
``kavi_gates.agents`` for what marks a change as an agent's) and every forge sandbox build
(a ``dir:`` baseline); a person's change is a ``skip`` with a note saying whose it was.
``judge: all`` judges every change.

The change set comes from ``kavi_gates.changes`` (index, ``--base REF`` or a ``dir:``
baseline) and is the same whatever paths the command line names: narrowing it to named
files would let the rest of a change through. Rules, each finding at the changed path:

- KAV701 a changed path (either side of a rename, deletions and untracked files included)
  matches no ``diff_allowlist.allow`` glob
- KAV702 a ``diff_allowlist.require`` glob matches no changed path
- KAV703 a changed path is a symlink (git mode 120000, or a symlink in the working tree,
  including a symlinked parent directory)
- KAV704 a changed path is absolute or has a ``..`` component
- KAV705 a submodule (git mode 160000) or nested repository changed
- KAV706 a file turned executable (100644 → 100755, or added as 100755)
- KAV707 a protected path (governed, or Kavi's own config) carries an index flag
  (skip-worktree, assume-unchanged) that hides its changes from git
- KAV708 a protected path is ignored by a rule outside the repository's tracked
  ``.gitignore`` files (``.git/info/exclude``, ``core.excludesFile``, global ignores)

Protected paths are compared as bytes on disk against the base, never through git's view
(``kavi_gates.hidden_changes``): a flag or an ignore rule cannot hide their change.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from kavi_gates.agents import agent_reason, describe_person, verify_ref
from kavi_gates.changes import (
    DIR_BASELINE_PREFIX,
    MODE_EXECUTABLE,
    MODE_SUBMODULE,
    MODE_SYMLINK,
    Change,
    NotAGitRepository,
    Protection,
    collect_changes,
)
from kavi_gates.codes import diff_allowlist as codes
from kavi_gates.config import DiffAllowlistConfig, LoadedConfig
from kavi_gates.errors import KaviError
from kavi_gates.gate import GateContext, GateOutcome
from kavi_gates.hidden_changes import Concealment
from kavi_gates.models import Finding
from kavi_gates.paths import is_safe_relative, match_glob, relpath
from kavi_gates.targets import collect_targets, is_governed

# Kavi's own configuration, wherever a project keeps it: never hidden from the allowlist.
KAVI_CONFIG_FILES = ("kavi.yaml", "pyproject.toml", ".pre-commit-config.yaml")

GATE = "diff-allowlist"


def _unsafe_path(path: str) -> bool:
    return not is_safe_relative(path)


def _symlinked(path: str, root: Path) -> bool:
    """Is the path, or any directory above it under root, a symlink in the working tree?"""
    current = root
    for part in PurePosixPath(path).parts:
        current = current / part
        if current.is_symlink():
            return True
    return False


def _describe(change: Change) -> str:
    if change.old_path is not None:
        return f"renamed {change.old_path} -> {change.path}"
    return f"{change.kind} {change.path}"


def check_changes(
    changes: Sequence[Change], settings: DiffAllowlistConfig, root: Path
) -> tuple[list[Finding], list[str]]:
    """Findings (KAV701-KAV706) for a change set, and notes for allow globs that matched nothing."""
    findings: list[Finding] = []
    used: set[str] = set()
    for change in changes:
        what = _describe(change)
        for path in change.paths():
            if _unsafe_path(path):
                findings.append(
                    codes.UNSAFE_PATH.finding(path, f"unsafe path ({what}): absolute or '..'")
                )
                continue
            matched = [g for g in settings.allow if match_glob(path, g)]
            used.update(matched)
            if not matched:
                findings.append(
                    codes.OUTSIDE_ALLOWLIST.finding(
                        path,
                        f"changed path outside the allowlist ({what}); allowed: "
                        f"{', '.join(settings.allow) or 'nothing'}",
                    )
                )
        if _unsafe_path(change.path):
            continue
        if (
            change.new_mode == MODE_SYMLINK
            or change.old_mode == MODE_SYMLINK
            or (change.kind != "deleted" and _symlinked(change.path, root))
        ):
            findings.append(codes.SYMLINK.finding(change.path, f"symlinks are refused ({what})"))
        if MODE_SUBMODULE in (change.old_mode, change.new_mode):
            findings.append(
                codes.SUBMODULE.finding(
                    change.path, f"submodule or nested repository changed ({what})"
                )
            )
        if change.new_mode == MODE_EXECUTABLE and change.old_mode != MODE_EXECUTABLE:
            findings.append(
                codes.NEW_EXECUTABLE.finding(
                    change.path,
                    f"file turned executable ({what}, mode {change.old_mode} -> {change.new_mode})",
                )
            )
    touched = [p for c in changes for p in c.paths()]
    for glob in settings.require:
        if not any(match_glob(p, glob) for p in touched):
            message = f"required glob {glob!r} matched no changed path"
            findings.append(codes.REQUIRED_UNTOUCHED.finding(glob, message))
    notes = [f"allow glob {g!r} matched no changed path" for g in settings.allow if g not in used]
    return findings, notes


def protection_for(loaded: LoadedConfig) -> Protection:
    """Governed paths, Kavi's config files, the registry, the allowed signers, every signed
    attestation and every pinned file: the paths whose changes are read from the disk."""
    config, root = loaded.config, loaded.root
    named = {*KAVI_CONFIG_FILES, config.hash_pin.registry, config.attestation.allowed_signers}
    source = Path(loaded.source.removesuffix(" [tool.kavi]"))
    if source.is_absolute() and source.is_file():
        named.add(relpath(source, root))
    try:
        from kavi_gates.registry import load_registry

        registry = load_registry(root / config.hash_pin.registry)
        for entry in registry.skills.values():
            named.update(entry.pins)
            if entry.attestation is not None:
                named.add(entry.attestation)
    except KaviError:
        pass  # no or broken registry: the hash-pin gate says so; the file itself is protected
    frozen = frozenset(named)

    def is_protected(rel: str) -> bool:
        return rel in frozen or is_governed(rel, config)

    governed = [relpath(p, root) for p in collect_targets(None, root, config)]
    present = [rel for rel in sorted(frozen) if is_safe_relative(rel) and (root / rel).exists()]
    return Protection(is_protected, tuple(dict.fromkeys([*governed, *present])))


def _concealment_findings(concealments: Sequence[Concealment]) -> list[Finding]:
    findings: list[Finding] = []
    for item in concealments:
        if item.how == "ignored":
            findings.append(
                codes.IGNORED_LOCALLY.finding(
                    item.path,
                    f"protected path is ignored by {item.detail}, a rule outside the "
                    "repository's tracked .gitignore files; its change is counted anyway",
                )
            )
        else:
            findings.append(
                codes.INDEX_FLAG.finding(
                    item.path,
                    f"protected path carries the index flag {item.how}, which hides its "
                    f"changes from git; its bytes on disk are compared instead (git "
                    f"update-index --no-{item.how} {item.path})",
                )
            )
    return findings


class DiffAllowlistGate:
    """Changed paths against --base (default: staged and untracked) must be allowlisted."""

    id = GATE

    def check(self, context: GateContext) -> GateOutcome:
        settings = context.config.diff_allowlist
        forge = context.base is not None and context.base.startswith(DIR_BASELINE_PREFIX)
        if settings.judge == "agents" and not forge:
            if context.base is not None:
                verify_ref(context.root, context.base)
            why = agent_reason(context.root, context.base, settings.agents)
            if why is None:
                # A person's change is not judged, but Kavi's config hidden from git is a
                # finding whoever hid it (an agent may run commands in a person's shell).
                try:
                    hidden = collect_changes(
                        context.root, context.base, protection_for(context.loaded)
                    ).concealments
                except NotAGitRepository:
                    hidden = ()  # without git, nothing can be hidden from git
                return GateOutcome(
                    findings=_concealment_findings(hidden),
                    skipped=(
                        "not an agent's change ("
                        f"{describe_person(context.root, context.base)}); "
                        "diff_allowlist.judge is 'agents' (see diff_allowlist.agents)"
                    ),
                )
            note = f"judged as an agent's change: {why}"
        else:
            note = "judged: " + ("forge sandbox" if forge else "diff_allowlist.judge is 'all'")
        change_set = collect_changes(context.root, context.base, protection_for(context.loaded))
        changes = change_set.changes
        findings, notes = check_changes(changes, context.config.diff_allowlist, context.root)
        findings += _concealment_findings(change_set.concealments)
        summary = f"{len(changes)} changed path(s) against {context.base or 'HEAD (index)'}"
        return GateOutcome(
            findings=findings,
            checked=[p for c in changes for p in c.paths()],
            notes=[note, summary, *notes],
        )
