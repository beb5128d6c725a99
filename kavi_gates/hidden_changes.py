"""Changes that git's own view can hide, found from the bytes on disk.

``git diff`` and ``git ls-files --others --exclude-standard`` trust local state an agent (or
anyone with a shell in the clone) can set without touching a tracked file: index flags
(``update-index --skip-worktree`` / ``--assume-unchanged``), ignore rules that live outside
the repository's tracked ``.gitignore`` files (``.git/info/exclude``, ``core.excludesFile``,
the global ``~/.config/git/ignore``, an untracked ``.gitignore`` that ignores itself), a
``core.fsmonitor`` hook that reports nothing changed, local clean filters, replace refs.

For *protected* paths (governed files and Kavi's own configuration: ``kavi.yaml``,
``pyproject.toml``, the registry, the allowed-signers file, ``.pre-commit-config.yaml``,
every pinned file) this module ignores git's view and compares the raw bytes and mode on
disk with the base tree's blob (a CRLF checkout of an LF blob counts as equal; nothing else
is normalised, no filter runs). For every path carrying an index flag it does the same, so a
flagged file outside the protected set is still a change the allowlist judges. It also
reports *how* a protected path was concealed: the flag or the ignore rule is itself a
finding (KAV707, KAV708).
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from kavi_gates.changes import (
    MODE_EXECUTABLE,
    MODE_FILE,
    MODE_NONE,
    MODE_SUBMODULE,
    MODE_SYMLINK,
    Change,
    Kind,
)
from kavi_gates.errors import UsageError

if TYPE_CHECKING:
    import git

How = Literal["skip-worktree", "assume-unchanged", "ignored"]
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


@dataclass(frozen=True)
class Concealment:
    """A protected path that git's view does not show as it is: flagged or ignored."""

    path: str
    how: How
    detail: str = ""


@dataclass(frozen=True)
class HiddenScan:
    """Changes git's view missed, and how protected paths were concealed."""

    changes: tuple[Change, ...]
    concealments: tuple[Concealment, ...]


def blob_id(data: bytes) -> str:
    """The git blob id (sha1) of some bytes, computed here so that no filter can run."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _disk(path: Path) -> tuple[str, bytes] | None:
    """``(git mode, raw bytes or link target)`` of a path on disk; ``None`` if absent."""
    try:
        info = path.lstat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISLNK(info.st_mode):
        return MODE_SYMLINK, os.fsencode(os.readlink(path))
    if stat.S_ISDIR(info.st_mode):
        return MODE_SUBMODULE, b""
    mode = MODE_EXECUTABLE if info.st_mode & stat.S_IXUSR else MODE_FILE
    return mode, path.read_bytes()


def _same(disk: tuple[str, bytes], base: tuple[str, str]) -> bool:
    mode, data = disk
    base_mode, base_id = base
    if mode != base_mode:
        return False
    if blob_id(data) == base_id:
        return True
    # A CRLF working copy of an LF blob (core.autocrlf) holds the same text.
    return (
        mode != MODE_SYMLINK
        and b"\r\n" in data
        and blob_id(data.replace(b"\r\n", b"\n")) == base_id
    )


def _base_tree(run: git.cmd.Git, commit: str | None) -> dict[str, tuple[str, str]]:
    """path → (mode, blob id) of every entry of the base commit's tree (toplevel-relative)."""
    tree: dict[str, tuple[str, str]] = {}
    output = run.ls_tree("-r", "-z", "--full-tree", commit or EMPTY_TREE)
    for record in output.split("\0"):
        if not record:
            continue
        meta, _, path = record.partition("\t")
        mode, _kind, object_id = meta.split(" ")
        tree[path] = (mode, object_id)
    return tree


def _index(run: git.cmd.Git) -> tuple[set[str], dict[str, How]]:
    """Every tracked path, and those with skip-worktree ('S'/'s') or assume-unchanged (a
    lowercase tag) in ``git ls-files -v``."""
    tracked: set[str] = set()
    flags: dict[str, How] = {}
    for record in run.ls_files("-v", "-z").split("\0"):
        if len(record) < 3:
            continue
        tag, path = record[0], record[2:]
        tracked.add(path)
        if tag in "Ss":
            flags[path] = "skip-worktree"
        elif tag.islower():
            flags[path] = "assume-unchanged"
    return tracked, flags


def _ignore_sources(repo: git.Repo, paths: list[str], tracked: set[str]) -> dict[str, str]:
    """For each ignored path, the rule's source when it is not a tracked ``.gitignore``."""
    if not paths:
        return {}
    # -z needs --stdin, which GitPython cannot feed: run git directly, same environment.
    done = subprocess.run(
        ["git", "check-ignore", "-v", "-z", "--no-index", "--stdin"],
        cwd=repo.working_tree_dir,
        env={**os.environ, **repo.git.environment()},
        input=b"".join(os.fsencode(p) + b"\0" for p in paths),
        capture_output=True,
        check=False,
    )
    if done.returncode not in (0, 1):  # 1: nothing is ignored
        message = done.stderr.decode(errors="replace").strip()
        raise UsageError(f"diff-allowlist: git check-ignore failed: {message}")
    fields = [os.fsdecode(f) for f in done.stdout.split(b"\0")]
    found: dict[str, str] = {}
    for i in range(0, len(fields) - 3, 4):
        source, line, pattern, path = fields[i : i + 4]
        if not source:
            continue  # a negated match: not ignored
        if source.endswith(".gitignore") and source in tracked:
            continue  # a reviewed rule of the repository itself
        found[path] = f"{source}:{line}: {pattern}"
    return found


def scan_hidden(
    repo: git.Repo,
    commit: str | None,
    prefix: str,
    is_protected: Callable[[str], bool],
    protected_on_disk: Iterable[str],
) -> HiddenScan:
    """Changes against ``commit`` (``None``: an unborn branch) that git's view can hide.

    ``prefix`` is the project root relative to the repository's top level ('' or 'dir/');
    ``is_protected`` and ``protected_on_disk`` speak in project-relative paths.
    """
    run = repo.git
    top = Path(repo.working_tree_dir or ".")
    base = _base_tree(run, commit)
    tracked, flags = _index(run)

    def project_rel(path: str) -> str | None:
        return path[len(prefix) :] if path.startswith(prefix) else None

    candidates: set[str] = {p for p in flags if project_rel(p) is not None}
    candidates.update(p for p in base if (r := project_rel(p)) is not None and is_protected(r))
    candidates.update(prefix + rel for rel in protected_on_disk)
    changes: list[Change] = []
    concealments: list[Concealment] = []
    for path in sorted(candidates):
        rel = project_rel(path)
        assert rel is not None
        before = base.get(path)
        if before is not None and before[0] == MODE_SUBMODULE:
            continue  # a submodule's content is judged by git's view (KAV705)
        disk = _disk(top / path)
        how = flags.get(path)
        if disk is None and how == "skip-worktree" and not is_protected(rel):
            continue  # a sparse checkout leaves the file out; that is not a change
        if how is not None and is_protected(rel):
            concealments.append(Concealment(rel, how, f"git ls-files -v: {how}"))
        if disk is None and before is None:
            continue
        if disk is not None and before is not None and _same(disk, before):
            continue
        if before is None:
            kind: Kind = "added" if path in tracked else "untracked"
            changes.append(Change(kind, rel, None, MODE_NONE, disk[0] if disk else MODE_NONE))
        elif disk is None:
            changes.append(Change("deleted", rel, None, before[0], MODE_NONE))
        else:
            changes.append(Change("modified", rel, None, before[0], disk[0]))
    untracked = [p for p in sorted(candidates) if p not in tracked and (top / p).exists()]
    for path, rule in _ignore_sources(repo, untracked, tracked).items():
        rel = project_rel(path)
        if rel is not None and is_protected(rel):
            concealments.append(Concealment(rel, "ignored", rule))
    return HiddenScan(tuple(changes), tuple(concealments))
