"""The diff-allowlist gate: a change may touch only allowed paths, and must touch required ones.

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
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Literal

from kavi_gates import hookimpl
from kavi_gates.changes import (
    MODE_EXECUTABLE,
    MODE_SUBMODULE,
    MODE_SYMLINK,
    Change,
    collect_changes,
)
from kavi_gates.codes import Code
from kavi_gates.codes import diff_allowlist as codes
from kavi_gates.config import DiffAllowlistConfig
from kavi_gates.gate import Gate, GateContext, GateOutcome
from kavi_gates.models import Finding
from kavi_gates.paths import is_safe_relative, match_glob

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


class DiffAllowlistGate:
    """Changed paths against --base (default: staged and untracked) must be allowlisted."""

    id = GATE
    description = "changed paths stay inside the allowlist; no symlinks, submodules or mode changes"
    scope: Literal["files", "repo"] = "repo"

    def check(self, context: GateContext) -> GateOutcome:
        changes = collect_changes(context.root, context.base)
        findings, notes = check_changes(changes, context.config.diff_allowlist, context.root)
        summary = f"{len(changes)} changed path(s) against {context.base or 'HEAD (index)'}"
        return GateOutcome(
            findings=findings,
            checked=[p for c in changes for p in c.paths()],
            notes=[summary, *notes],
        )


@hookimpl
def kavi_gates() -> list[Gate]:
    """The built-in diff-allowlist gate."""
    return [DiffAllowlistGate()]


@hookimpl
def kavi_finding_codes() -> Sequence[Code]:
    """The codes this gate reports."""
    return codes.CODES
