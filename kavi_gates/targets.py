"""Which files the gates govern: explicit files always, directories walked with include/exclude."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from kavi_gates.config import KaviConfig
from kavi_gates.errors import UsageError

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
    absolute = Path(os.path.abspath(path))
    for base in (Path(os.path.abspath(root)), root.resolve()):
        try:
            return absolute.relative_to(base).as_posix()
        except ValueError:
            continue
    return absolute.as_posix()


def is_governed(rel_path: str, config: KaviConfig) -> bool:
    return any(match_glob(rel_path, p) for p in config.include) and not any(
        match_glob(rel_path, p) for p in config.exclude
    )


def _walk(directory: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            yield Path(dirpath, name)


def collect_targets(paths: Sequence[Path] | None, root: Path, config: KaviConfig) -> list[Path]:
    """Resolve CLI paths into governed files.

    No paths: walk the project root with include/exclude. A named file is always checked;
    a named directory is walked with include/exclude (relative to the project root). A path
    that does not exist is a usage error: a gate must not pass on nothing by mistake.
    """
    if not paths:
        paths = [root]
    found: dict[str, Path] = {}
    for raw in paths:
        path = raw if raw.is_absolute() else Path.cwd() / raw
        if not path.exists() and not path.is_symlink():
            raise UsageError(f"path does not exist: {raw}")
        if path.is_dir():
            for file in _walk(path):
                rel = relpath(file, root)
                if is_governed(rel, config):
                    found.setdefault(rel, file)
        else:
            found.setdefault(relpath(path, root), path)
    return [found[k] for k in sorted(found)]
