"""The set of changed paths the diff-allowlist gate judges, from git or a directory baseline.

``base=None`` (pre-commit): what differs from ``HEAD`` — the index (a repository without
commits has everything staged as added), plus working-tree edits and untracked files not
yet staged. Under pre-commit, which stashes unstaged edits, that is the staged set plus the
untracked files; outside it, it fails closed on a change that is merely not staged yet.
``base=REF`` (CI): ``git diff REF`` of the working tree (no merge base) plus untracked files.
``base="dir:PATH"`` (the forge's sandbox): the project tree against a directory baseline,
comparing bytes and modes; no git is needed on either side.
Untracked means not ignored by ``.gitignore``; renames are detected and count both sides.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
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


if TYPE_CHECKING:
    import git


def _open_repo(root: Path) -> git.Repo:
    import git  # GitPython costs ~80 ms to import: only when a git diff is needed

    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise UsageError(
            f"diff-allowlist: {root} is not inside a git repository "
            "(use --base dir:PATH to compare against a directory)"
        ) from None


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
    import git

    repo = _open_repo(root)
    toplevel = Path(repo.working_tree_dir or root).resolve()
    prefix = root.resolve().relative_to(toplevel).as_posix()
    prefix = "" if prefix == "." else prefix + "/"
    run = repo.git
    changes: list[Change] = []
    if base is None:
        try:
            head = run.rev_parse("--verify", "--quiet", "HEAD")
        except git.GitCommandError:
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
    unique: dict[tuple[str, str | None], Change] = {}
    for change in changes:
        if not all(p.startswith(prefix) for p in change.paths()):
            continue
        old = change.old_path[len(prefix) :] if change.old_path else None
        new = change.path[len(prefix) :]
        moved = Change(change.kind, new, old, change.old_mode, change.new_mode)
        unique.setdefault((moved.path, moved.old_path), moved)
    return sorted(unique.values(), key=lambda c: (c.path, c.old_path or ""))


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


def collect_changes(root: Path, base: str | None) -> list[Change]:
    """Dispatch on ``base``: None (index), a git ref, or ``dir:PATH``."""
    if base is not None and base.startswith(DIR_BASELINE_PREFIX):
        baseline = Path(base[len(DIR_BASELINE_PREFIX) :]).expanduser()
        if not baseline.is_absolute():
            baseline = Path.cwd() / baseline
        return directory_changes(root, baseline.resolve())
    return git_changes(root, base)
