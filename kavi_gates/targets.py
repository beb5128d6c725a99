"""Which files the gates govern: explicit files always, directories walked with include/exclude."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from kavi_gates.config import KaviConfig
from kavi_gates.errors import UsageError
from kavi_gates.paths import SKIP_DIRS, match_glob, relpath


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
