"""The file API FILE_WRITE skills receive: every path stays inside an allowed root.

Paths are relative to a root (the vault by default, or a named allowed write path). Absolute
paths, ``..``, empty or NUL-bearing paths are refused before any I/O. The walk from the root
opens each directory with ``O_NOFOLLOW`` relative to its parent's descriptor, so a symlink
anywhere below the root (pointing out or not) is refused and cannot be swapped in between a
check and a use. Writes are atomic (temp file, fsync, rename: a hard link at the target is
replaced, never written through); appends and reads refuse a file with other hard links.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from kavi_gates.paths import UnsafePath, check_relative, is_safe_relative
from kavi_skills.errors import SideEffectRefused

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
# O_NONBLOCK: opening a FIFO planted under a root must fail at once, never hang the runtime.
_NONBLOCK_CLOEXEC = os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
DEFAULT_ROOT = "vault"


def _parts(path: str | PurePosixPath) -> tuple[str, ...]:
    """The components of a path relative to a root; anything unsafe is refused before I/O."""
    try:
        return check_relative(str(path)).parts
    except UnsafePath as err:
        raise SideEffectRefused(f"refused path: {err} (paths are relative to a root)") from None


def _refuse_shared_inode(fd: int, path: str) -> None:
    """Close ``fd`` and refuse when it is not a regular file or has other hard links: a
    hard link inside a root may share its inode with a file outside every root."""
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        os.close(fd)
        what = "a hard link" if stat.S_ISREG(info.st_mode) else "not a regular file"
        raise SideEffectRefused(f"refused {path!r}: it is {what}")


class GuardedFiles:
    """Read and write files only below the granted roots (label -> directory)."""

    def __init__(self, roots: Mapping[str, Path], default: str = DEFAULT_ROOT) -> None:
        if default not in roots:
            raise ValueError(f"default root {default!r} is not among the roots")
        self._roots = {label: Path(os.path.abspath(path)) for label, path in roots.items()}
        self._default = default

    @property
    def roots(self) -> dict[str, Path]:
        """The granted roots by label (``vault`` plus each allowed write path)."""
        return dict(self._roots)

    def _root(self, root: str | None) -> Path:
        label = self._default if root is None else root.rstrip("/")
        if label not in self._roots:
            raise SideEffectRefused(
                f"root {root!r} is not granted (granted: {sorted(self._roots)})"
            )
        return self._roots[label]

    @contextmanager
    def _parent_fd(self, path: str, root: str | None, create: bool) -> Iterator[tuple[int, str]]:
        """Yield (descriptor of the parent directory, final name), walking with O_NOFOLLOW."""
        parts = _parts(path)
        base = self._root(root)
        if create:
            base.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:  # the root itself is configuration: it may be a symlink (e.g. /tmp on macOS)
            fd = os.open(base, _DIR_FLAGS & ~os.O_NOFOLLOW)
        except OSError as err:
            raise SideEffectRefused(f"cannot open root {base}: {err.strerror}") from None
        try:
            for part in parts[:-1]:
                if create:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(part, 0o700, dir_fd=fd)
                fd = self._descend(fd, part, path)
            yield fd, parts[-1]
        finally:
            os.close(fd)

    @staticmethod
    def _descend(fd: int, part: str, path: str) -> int:
        try:
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
        except OSError as err:  # the caller still owns (and closes) ``fd``
            if err.errno in (errno.ELOOP, errno.ENOTDIR):
                raise SideEffectRefused(
                    f"refused {path!r}: {part!r} is a symlink or not a directory"
                ) from None
            raise SideEffectRefused(f"cannot open {path!r}: {err.strerror}") from None
        os.close(fd)
        return child

    def resolve(self, path: str, root: str | None = None) -> Path:
        """The absolute path ``path`` names (checked lexically; no I/O)."""
        return self._root(root).joinpath(*_parts(path))

    def write(self, path: str, text: str, root: str | None = None) -> Path:
        """Atomically replace ``path`` with ``text`` (UTF-8); return the absolute path."""
        data = text.encode("utf-8")
        with self._parent_fd(path, root, create=True) as (dir_fd, name):
            tmp = f".{name}.{secrets.token_hex(6)}.tmp"
            flags = (
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
            )
            fd = os.open(tmp, flags, 0o600, dir_fd=dir_fd)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                # rename(2) replaces a symlink at ``name`` itself; it never writes through one.
                os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp, dir_fd=dir_fd)
                raise
            os.fsync(dir_fd)
        return self.resolve(path, root)

    def append(self, path: str, text: str, root: str | None = None) -> Path:
        """Append ``text`` (UTF-8) to ``path``, creating it; a symlink there is refused."""
        with self._parent_fd(path, root, create=True) as (dir_fd, name):
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | _NONBLOCK_CLOEXEC
            try:
                fd = os.open(name, flags, 0o600, dir_fd=dir_fd)
            except OSError as err:
                raise SideEffectRefused(f"refused append to {path!r}: {err.strerror}") from None
            _refuse_shared_inode(fd, path)
            with os.fdopen(fd, "ab") as handle:
                handle.write(text.encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
        return self.resolve(path, root)

    def read(self, path: str, root: str | None = None) -> str:
        """Read ``path`` (UTF-8) below a root; a symlink anywhere on the way is refused."""
        with self._parent_fd(path, root, create=False) as (dir_fd, name):
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | _NONBLOCK_CLOEXEC, dir_fd=dir_fd)
            except OSError as err:
                raise SideEffectRefused(f"cannot read {path!r}: {err.strerror}") from None
            _refuse_shared_inode(fd, path)
            with os.fdopen(fd, "rb") as handle:
                return handle.read().decode("utf-8")

    def exists(self, path: str, root: str | None = None) -> bool:
        """True when ``path`` exists below the root (without following a final symlink)."""
        try:
            with self._parent_fd(path, root, create=False) as (dir_fd, name):
                os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                return True
        except (FileNotFoundError, SideEffectRefused):
            return False

    def mkdir(self, path: str, root: str | None = None) -> Path:
        """Create directory ``path`` (and its parents) below the root."""
        with self._parent_fd(path, root, create=True) as (dir_fd, name):
            try:
                os.mkdir(name, 0o700, dir_fd=dir_fd)
            except FileExistsError:
                try:  # it must be a real directory, not a symlink to one
                    os.close(os.open(name, _DIR_FLAGS, dir_fd=dir_fd))
                except OSError:
                    raise SideEffectRefused(
                        f"refused {path!r}: exists and is not a directory"
                    ) from None
        return self.resolve(path, root)


def roots_for(
    project_root: Path, allowed_write_paths: tuple[str, ...], vault_dir: Path
) -> dict[str, Path]:
    """The roots a FILE_WRITE skill gets: the vault plus each configured allowed write path."""
    roots = {DEFAULT_ROOT: vault_dir}
    for rel in allowed_write_paths:
        label = rel.rstrip("/")
        if not is_safe_relative(label):
            continue  # the config gate reports such paths; never grant them
        roots[label] = project_root / label
    return roots
