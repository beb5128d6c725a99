"""Paths, in one leaf module: glob matching, relative paths, the one safe-path predicate,
atomic writes and XDG base directories. Imports nothing of Kavi, so every package may use it.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path, PurePosixPath

# Never descend into these while walking a directory (still checked when named explicitly).
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        "node_modules",
        ".eggs",
    }
)


@lru_cache(maxsize=512)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Translate a gitignore-like glob: ``**`` crosses directories, ``*`` and ``?`` do not."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out) + r"\Z")


def match_glob(rel_path: str, pattern: str) -> bool:
    """Does a '/'-separated relative path match the glob? A trailing '/' matches a directory."""
    if pattern.endswith("/"):
        return rel_path.startswith(pattern) or rel_path == pattern[:-1]
    return _glob_regex(pattern).match(rel_path) is not None


def relpath(path: Path, root: Path) -> str:
    """The '/'-separated path relative to root, or the absolute path if outside it.

    Symlinks are not followed: a link at ``skills/x.py`` is governed as ``skills/x.py``.
    """
    absolute_text, base = os.path.abspath(path), os.path.abspath(root)
    if absolute_text.startswith(base) and absolute_text[len(base) : len(base) + 1] == os.sep:
        # Both are normalised: a plain prefix is what relative_to would find (and cheaper:
        # a scan calls this twice per file). Anything else takes the general way.
        return absolute_text[len(base) + 1 :].replace(os.sep, "/")
    absolute = Path(absolute_text)
    try:
        return absolute.relative_to(base).as_posix()
    except ValueError:
        pass
    # Resolving follows every link of the root (a system call per component): only when the
    # plain comparison failed (a scan calls this twice per file).
    try:
        return absolute.relative_to(root.resolve()).as_posix()
    except ValueError:
        return absolute.as_posix()


class UnsafePath(ValueError):
    """A path that could name something outside the directory it is relative to."""


def check_relative(path: str) -> PurePosixPath:
    """``path`` as a safe relative POSIX path, or ``UnsafePath`` saying what is wrong.

    Safe means: not empty, no NUL, no backslash (a separator on Windows), not absolute, no
    Windows drive, no leading ``~`` (a shell would expand it), no ``..`` component, and
    already in normal form (no ``//``, no ``./`` segments, no trailing ``/``), so the text
    that was checked is the text that is used. Every place Kavi accepts a path relative to
    a root (registry pins, copy-back, guarded files, changed paths, write roots) asks this.
    """
    if not path:
        raise UnsafePath("empty path")
    if "\0" in path:
        raise UnsafePath(f"{path!r} contains NUL")
    if "\\" in path:
        raise UnsafePath(f"{path!r} contains a backslash")
    pure = PurePosixPath(path)
    if pure.is_absolute() or (len(path) > 1 and path[1] == ":"):
        raise UnsafePath(f"{path!r} is absolute")
    if path.startswith("~"):
        raise UnsafePath(f"{path!r} starts with '~'")
    if ".." in pure.parts:
        raise UnsafePath(f"{path!r} has a '..' component")
    if pure.as_posix() != path or pure.as_posix() == ".":
        raise UnsafePath(f"{path!r} is not a normalised relative path")
    return pure


def is_safe_relative(path: str) -> bool:
    """True when ``check_relative`` accepts ``path``."""
    try:
        check_relative(path)
    except UnsafePath:
        return False
    return True


def atomic_write(path: Path, data: bytes, *, mode: int = 0o644, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` atomically: a temp file beside it, then ``os.replace``.

    Readers see the old bytes or the new ones, never a mix; a failure leaves no temp file.
    ``durable`` fsyncs the file and its directory (a crash right after returns the new
    bytes). ``mode`` is set on the temp file before the rename, so the file is never
    visible with wider permissions.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # only writers pay for it (a warm check may write nothing)

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if durable:
        _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # some filesystems cannot open directories; the rename still happened
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


XDG_DEFAULTS = {
    "XDG_DATA_HOME": ".local/share",
    "XDG_CONFIG_HOME": ".config",
    "XDG_CACHE_HOME": ".cache",
}


def xdg_base(variable: str, env: Mapping[str, str] | None = None) -> Path:
    """An XDG base directory. The spec says a relative value is invalid and must be ignored,
    so ``XDG_CACHE_HOME=rel`` means ``~/.cache`` for the cache and for ``kavi reset`` alike."""
    env = os.environ if env is None else env
    value = env.get(variable, "")
    if value and os.path.isabs(value):
        return Path(value)
    home = env.get("HOME") or str(Path.home())
    return Path(home) / XDG_DEFAULTS[variable]


APP_DIR = "kavi"


def storage_dir(
    configured: str | None, root: Path | None, variable: str, env: Mapping[str, str] | None = None
) -> Path:
    """One of Kavi's storage directories: the project's ``storage`` override (relative to the
    project root, ``~`` expanded) if configured, else ``$<variable>/kavi``. Every consumer
    (the result cache, the ledger, ``kavi reset``) resolves through here, so they agree."""
    if configured:
        path = Path(configured).expanduser()
        return path if path.is_absolute() else (root or Path.cwd()) / path
    return xdg_base(variable, env) / APP_DIR
