"""Sandboxes: a filtered copy of the working tree, a git baseline, and the safe copy-back.

The copy leaves out version control, virtualenvs, secrets, databases and caches, and never
follows a symlink (symlinks and special files are not copied at all). The copy-back takes
only regular files, refuses ``..``, absolute paths and symlinked parents, writes each file
atomically under the repository root and refuses to overwrite a file the repository changed
while the build ran.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from kavi_forge.errors import ForgeError
from kavi_gates.changes import BASELINE_SKIP, Change, directory_changes
from kavi_gates.paths import UnsafePath, atomic_write, check_relative

EXCLUDED_DIRS = frozenset(
    {
        *BASELINE_SKIP,
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".cache",
        ".hypothesis",
        "node_modules",
        ".eggs",
        ".idea",
        ".vscode",
    }
)
EXCLUDED_FILES = (
    ".git",  # a worktree's or submodule's gitlink file: git in the copy would reach the real repo
    ".env",
    ".env.*",
    "*.env",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "id_rsa*",
    "id_ed25519*",
    "credentials.json",
    ".netrc",
    ".pypirc",
    ".npmrc",
    "*.db",
    "*.db-*",
    "*.sqlite",
    "*.sqlite3",
    "*.sqlite-*",
    "*.pyc",
)


@dataclass
class Sandbox:
    """A build or verify workspace: ``repo`` is worked on, ``baseline`` stays as copied."""

    path: Path
    skipped: list[str] = field(default_factory=list)

    @property
    def repo(self) -> Path:
        return self.path / "repo"

    @property
    def baseline(self) -> Path:
        return self.path / "baseline"

    def remove(self) -> None:
        """Delete the whole workspace."""
        shutil.rmtree(self.path, ignore_errors=True)


def _excluded_dir(directory: Path, name: str) -> bool:
    return (
        name in EXCLUDED_DIRS
        or name.endswith(".egg-info")
        or (directory / name / "pyvenv.cfg").exists()
    )


def copy_tree(source: Path, target: Path, extra_excluded: Iterable[Path] = ()) -> list[str]:
    """Copy the regular files of ``source`` into ``target``; return what was left out."""
    skipped: list[str] = []
    excluded = {p.resolve() for p in extra_excluded}
    for dirpath, dirnames, filenames in os.walk(source):  # os.walk never follows symlinks
        here = Path(dirpath)
        keep = []
        for name in sorted(dirnames):
            full = here / name
            if full.is_symlink():
                skipped.append(f"{full.relative_to(source).as_posix()} (symlink)")
            elif not _excluded_dir(here, name) and full.resolve() not in excluded:
                keep.append(name)
        dirnames[:] = keep
        for name in sorted(filenames):
            full = here / name
            rel = full.relative_to(source)
            if any(fnmatch.fnmatch(name, pattern) for pattern in EXCLUDED_FILES):
                continue
            info = full.lstat()
            if not stat.S_ISREG(info.st_mode):
                skipped.append(f"{rel.as_posix()} (symlink or special file)")
                continue
            destination = target / rel
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(full, destination, follow_symlinks=False)
            os.chmod(destination, 0o755 if info.st_mode & stat.S_IXUSR else 0o644)
    return skipped


def _git(repo: Path, *args: str) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        # Only ever the sandbox's own repository, whatever the copy holds or sits in.
        "GIT_DIR": str(repo / ".git"),
        "GIT_WORK_TREE": str(repo),
        "GIT_CEILING_DIRECTORIES": str(repo.parent),
        "HOME": str(repo),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "LC_ALL": "C",
    }
    done = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise ForgeError(f"sandbox: git {args[0]} failed: {done.stderr.strip()[:300]}")


def create_sandbox(root: Path, *, prefix: str, extra_excluded: Iterable[Path] = ()) -> Sandbox:
    """Copy ``root`` twice (work copy + baseline) and commit the work copy as a git baseline."""
    sandbox = Sandbox(Path(tempfile.mkdtemp(prefix=f"kavi-{prefix}-")))
    try:
        sandbox.skipped = copy_tree(root, sandbox.repo, extra_excluded)
        copy_tree(sandbox.repo, sandbox.baseline)
        _git(sandbox.repo, "init", "-q")
        _git(sandbox.repo, "add", "-A")
        _git(
            sandbox.repo,
            "-c",
            "user.name=kavi",
            "-c",
            "user.email=kavi@localhost",
            "-c",
            "commit.gpgsign=false",
            "commit",
            "-q",
            "--no-verify",
            "--allow-empty",
            "-m",
            "kavi sandbox baseline",
        )
    except BaseException:
        sandbox.remove()
        raise
    return sandbox


def sandbox_changes(sandbox: Sandbox) -> list[Change]:
    """What the work copy changed against the baseline (bytes and modes)."""
    return directory_changes(sandbox.repo, sandbox.baseline)


MAX_NEW_FILE = 16 << 20
"""Bytes a file the agent wrote may hold (the host reads changed files to compare them)."""


def unsafe_entries(sandbox: Sandbox) -> list[str]:
    """What the agent left that the host must not read: special files (a FIFO would block
    the reader forever) and new or grown files past ``MAX_NEW_FILE``. Never follows links."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(sandbox.repo):
        dirnames[:] = [d for d in dirnames if d not in BASELINE_SKIP]
        here = Path(dirpath)
        for name in filenames:
            full = here / name
            rel = full.relative_to(sandbox.repo)
            info = full.lstat()
            if stat.S_ISLNK(info.st_mode):
                continue  # the diff-allowlist gate refuses symlinks by their own code
            if not stat.S_ISREG(info.st_mode):
                found.append(f"{rel.as_posix()} is a special file (FIFO, socket or device)")
                continue
            if info.st_size > MAX_NEW_FILE:
                before = sandbox.baseline / rel
                if not before.is_file() or before.lstat().st_size != info.st_size:
                    found.append(
                        f"{rel.as_posix()} holds {info.st_size} bytes (limit {MAX_NEW_FILE})"
                    )
    return found


def _checked_rel(rel: str) -> PurePosixPath:
    try:
        return check_relative(rel)
    except UnsafePath as err:
        raise ForgeError(f"copy-back refused: unsafe path: {err}") from None


def _no_symlink_on_the_way(base: Path, rel: PurePosixPath, *, include_leaf: bool) -> None:
    current = base
    parts = rel.parts if include_leaf else rel.parts[:-1]
    for part in parts:
        current = current / part
        if current.is_symlink():
            raise ForgeError(f"copy-back refused: {rel} passes through a symlink ({current})")


def _same(a: Path, b: Path) -> bool:
    if not a.exists() and not b.exists():
        return True
    return a.is_file() and b.is_file() and a.read_bytes() == b.read_bytes()


def copy_back(sandbox: Sandbox, root: Path, paths: Sequence[str]) -> list[str]:
    """Copy the changed ``paths`` (additions, edits, deletions) from the sandbox to ``root``."""
    root = root.resolve()
    plan: list[tuple[PurePosixPath, bytes | None]] = []
    for rel in sorted(set(paths)):
        pure = _checked_rel(rel)
        _no_symlink_on_the_way(sandbox.repo, pure, include_leaf=True)
        _no_symlink_on_the_way(root, pure, include_leaf=True)
        destination = (root / pure).resolve()
        if root not in destination.parents:
            raise ForgeError(f"copy-back refused: {rel} resolves outside {root}")
        if not _same(root / pure, sandbox.baseline / pure):
            raise ForgeError(f"copy-back refused: {rel} changed in the repository during the build")
        source = sandbox.repo / pure
        if source.exists() and not stat.S_ISREG(source.lstat().st_mode):
            raise ForgeError(f"copy-back refused: {rel} is not a regular file")
        plan.append((pure, source.read_bytes() if source.exists() else None))
    for pure, data in plan:  # every path was checked before the first write
        destination = root / pure
        if data is None:
            destination.unlink(missing_ok=True)
            continue
        atomic_write(destination, data, mode=0o644)
    return [p.as_posix() for p, _ in plan]
