"""The set of changed paths the diff-allowlist gate judges, from git or a directory baseline.

``base=None`` (pre-commit): what differs from ``HEAD`` — the index (a repository without
commits has everything staged as added), plus working-tree edits and untracked files not
yet staged. Under pre-commit, which stashes unstaged edits, that is the staged set plus the
untracked files; outside it, it fails closed on a change that is merely not staged yet.
``base=REF`` (CI): ``git diff REF`` of the working tree (no merge base) plus untracked files.
``base="dir:PATH"`` (the forge's sandbox): the project tree against a directory baseline,
comparing bytes and modes; no git is needed on either side.
Untracked means not ignored by ``.gitignore``; renames are detected and count both sides.

Git runs with its local shortcuts off (no ``core.fsmonitor`` hook, no untracked cache, no
replace objects). Given a ``Protection`` (the gate passes governed paths and Kavi's own
config), changes to those paths are taken from the bytes on disk, not git's view, so index
flags and local ignore rules cannot hide them (``kavi_gates.hidden_changes``).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from kavi_gates.errors import UsageError

MODE_FILE = "100644"
MODE_EXECUTABLE = "100755"
MODE_SYMLINK = "120000"
MODE_SUBMODULE = "160000"
MODE_NONE = "000000"
DIR_BASELINE_PREFIX = "dir:"
# Tool caches the forge's verify step creates in a sandbox; never part of a change.
BASELINE_SKIP = frozenset({".git", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"})

Kind = Literal["added", "modified", "deleted", "renamed", "untracked"]


@dataclass(frozen=True)
class Change:
    """One changed path ('/'-separated, relative to the project root); modes are git modes."""

    kind: Kind
    path: str
    old_path: str | None = None
    old_mode: str = MODE_NONE
    new_mode: str = MODE_NONE

    def paths(self) -> tuple[str, ...]:
        """Every path the change touches (both sides of a rename)."""
        return (self.path,) if self.old_path is None else (self.old_path, self.path)


@dataclass(frozen=True)
class Protection:
    """Paths whose changes are read from the disk: a predicate and those present on disk."""

    is_protected: Callable[[str], bool]
    on_disk: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChangeSet:
    """The changes, and how protected paths were concealed from git (flags, ignore rules)."""

    changes: list[Change]
    concealments: tuple[Concealment, ...] = field(default=())


if TYPE_CHECKING:
    import git

    from kavi_gates.hidden_changes import Concealment

# Local shortcuts that make git skip looking at files: a hook (core.fsmonitor) could report
# that nothing changed, and replace refs could swap the base's objects.
_HARDENED_ENV = {
    "GIT_NO_REPLACE_OBJECTS": "1",
    "GIT_CONFIG_COUNT": "2",
    "GIT_CONFIG_KEY_0": "core.fsmonitor",
    "GIT_CONFIG_VALUE_0": "false",
    "GIT_CONFIG_KEY_1": "core.untrackedCache",
    "GIT_CONFIG_VALUE_1": "false",
}


class NotAGitRepository(UsageError):
    """The project is not inside a git repository, so git cannot say what changed."""


def _open_repo(root: Path) -> git.Repo:
    import git  # GitPython costs ~80 ms to import: only when a git diff is needed

    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise NotAGitRepository(
            f"diff-allowlist: {root} is not inside a git repository "
            "(use --base dir:PATH to compare against a directory)"
        ) from None
    repo.git.update_environment(**_HARDENED_ENV)
    return repo


def _parse_raw(output: str) -> Iterator[Change]:
    """Parse ``git diff --raw -z`` output (rename records carry two paths)."""
    fields = output.split("\0")
    i = 0
    while i < len(fields) and fields[i].startswith(":"):
        old_mode, new_mode, _old_sha, _new_sha, status = fields[i][1:].split(" ")
        letter = status[0]
        if letter in "RC":
            old, new = fields[i + 1], fields[i + 2]
            i += 3
            if letter == "R":
                yield Change("renamed", new, old, old_mode, new_mode)
            else:
                yield Change("added", new, None, MODE_NONE, new_mode)
            continue
        path = fields[i + 1]
        i += 2
        kind: Kind = {"A": "added", "D": "deleted"}.get(letter, "modified")  # type: ignore[assignment]
        yield Change(kind, path, None, old_mode, new_mode)


def _worktree_mode(path: Path) -> str:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return MODE_NONE
    if stat.S_ISLNK(info.st_mode):
        return MODE_SYMLINK
    if stat.S_ISDIR(info.st_mode):
        return MODE_SUBMODULE  # git lists a nested repository as a directory entry
    return MODE_EXECUTABLE if info.st_mode & stat.S_IXUSR else MODE_FILE


def git_changes(root: Path, base: str | None) -> list[Change]:
    """Changes of the git repository holding ``root``, restricted to paths under ``root``."""
    return git_change_set(root, base).changes


def git_change_set(root: Path, base: str | None, protection: Protection | None = None) -> ChangeSet:
    """``git_changes`` plus, for protected paths, what the disk shows and git's view hides."""
    import git

    repo = _open_repo(root)
    toplevel = Path(repo.working_tree_dir or root).resolve()
    prefix = root.resolve().relative_to(toplevel).as_posix()
    prefix = "" if prefix == "." else prefix + "/"
    run = repo.git
    changes: list[Change] = []
    commit: str | None
    if base is None:
        try:
            commit = run.rev_parse("--verify", "--quiet", "HEAD")
            head = commit
        except git.GitCommandError:
            commit = None
            head = run.hash_object("-t", "tree", "/dev/null")  # unborn branch: the empty tree
        changes += _parse_raw(run.diff("--cached", "--raw", "-z", "-M", "--no-color", head))
        changes += _parse_raw(run.diff("--raw", "-z", "-M", "--no-color", head))
    else:
        try:
            commit = run.rev_parse("--verify", "--quiet", f"{base}^{{commit}}")
        except git.GitCommandError:
            raise UsageError(f"diff-allowlist: unknown git ref {base!r} for --base") from None
        changes += _parse_raw(run.diff("--raw", "-z", "-M", "--no-color", commit))
    for path in run.ls_files("--others", "--exclude-standard", "-z").split("\0"):
        if path:
            clean = path.rstrip("/")
            changes.append(
                Change("untracked", clean, None, MODE_NONE, _worktree_mode(toplevel / clean))
            )
    concealments: tuple[Concealment, ...] = ()
    if protection is not None:
        from kavi_gates.hidden_changes import scan_hidden

        scan = scan_hidden(repo, commit, prefix, protection.is_protected, protection.on_disk)
        seen = {p for c in changes for p in c.paths()}
        # Git's own record of a path wins (it knows renames, and a nested repository is one
        # entry); the disk adds what git hid.
        changes += [
            Change(c.kind, prefix + c.path, None, c.old_mode, c.new_mode)
            for c in scan.changes
            if not _covered(prefix + c.path, seen)
        ]
        concealments = scan.concealments
    unique: dict[tuple[str, str | None], Change] = {}
    for change in changes:
        if not all(p.startswith(prefix) for p in change.paths()):
            continue
        old = change.old_path[len(prefix) :] if change.old_path else None
        new = change.path[len(prefix) :]
        moved = Change(change.kind, new, old, change.old_mode, change.new_mode)
        unique.setdefault((moved.path, moved.old_path), moved)
    ordered = sorted(unique.values(), key=lambda c: (c.path, c.old_path or ""))
    return ChangeSet(ordered, concealments)


def _covered(path: str, seen: set[str]) -> bool:
    """Is ``path``, or a directory above it, already a change git reported?"""
    parts = path.split("/")
    return any("/".join(parts[:i]) in seen for i in range(1, len(parts) + 1))


def _snapshot(directory: Path) -> dict[str, tuple[str, bytes]]:
    """rel path → (git mode, content or link target); symlinks are never followed."""
    entries: dict[str, tuple[str, bytes]] = {}
    for dirpath, dirnames, filenames in os.walk(directory):
        links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        dirnames[:] = sorted(d for d in dirnames if d not in BASELINE_SKIP and d not in links)
        for name in [*filenames, *links]:
            full = Path(dirpath, name)
            rel = full.relative_to(directory).as_posix()
            mode = _worktree_mode(full)
            if mode == MODE_SYMLINK:
                entries[rel] = (mode, os.readlink(full).encode("utf-8", "surrogateescape"))
            else:
                entries[rel] = (mode, full.read_bytes())
    return entries


def directory_changes(root: Path, baseline: Path) -> list[Change]:
    """Changes of the tree at ``root`` against a baseline copy: bytes and modes compared."""
    if not baseline.is_dir():
        raise UsageError(f"diff-allowlist: baseline directory does not exist: {baseline}")
    before, after = _snapshot(baseline), _snapshot(root)
    changes: list[Change] = []
    for rel in sorted(before.keys() | after.keys()):
        old, new = before.get(rel), after.get(rel)
        if old == new:
            continue
        if old is None and new is not None:
            changes.append(Change("added", rel, None, MODE_NONE, new[0]))
        elif new is None and old is not None:
            changes.append(Change("deleted", rel, None, old[0], MODE_NONE))
        elif old is not None and new is not None:
            changes.append(Change("modified", rel, None, old[0], new[0]))
    return changes


def collect_changes(
    root: Path, base: str | None, protection: Protection | None = None
) -> ChangeSet:
    """Dispatch on ``base``: None (index), a git ref, or ``dir:PATH`` (already bytes on disk)."""
    if base is not None and base.startswith(DIR_BASELINE_PREFIX):
        baseline = Path(base[len(DIR_BASELINE_PREFIX) :]).expanduser()
        if not baseline.is_absolute():
            baseline = Path.cwd() / baseline
        return ChangeSet(directory_changes(root, baseline.resolve()))
    return git_change_set(root, base, protection)
