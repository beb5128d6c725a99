"""Which files the gates govern: explicit files always, directories walked with include/exclude.

Walking also reports what would otherwise pass silently: an include glob that matches no
file (KAV010), paths that hold no governed file (KAV011) and a directory that cannot be
listed or a file that cannot be read (KAV012). Those findings go to the pseudo-gate
``targets`` of the run report.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from kavi_gates import hookimpl
from kavi_gates.config import KaviConfig
from kavi_gates.errors import UsageError
from kavi_gates.models import Code, Finding
from kavi_gates.paths import SKIP_DIRS, match_glob, relpath

GATE = "targets"
"""The pseudo-gate of these findings (``kavi_gates.codes.targets``, loaded when one is made:
a run that finds its files declares nothing)."""


def _codes() -> ModuleType:
    from kavi_gates.codes import targets

    return targets


def is_governed(rel_path: str, config: KaviConfig) -> bool:
    """Does the configuration govern this root-relative path (include, not exclude)?"""
    return any(match_glob(rel_path, p) for p in config.include) and not any(
        match_glob(rel_path, p) for p in config.exclude
    )


@dataclass
class Targets:
    """The governed files of a run, and what walking for them found wrong."""

    files: list[Path]
    findings: list[Finding] = field(default_factory=list)


def _walk(directory: Path, root: Path, problems: list[Finding]) -> list[Path]:
    def unreadable(err: OSError) -> None:
        where = relpath(Path(err.filename or directory), root)
        problems.append(
            _codes().UNREADABLE.finding(
                where, f"cannot list directory: {err.strerror or err}; its files are not checked"
            )
        )

    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(directory, onerror=unreadable):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        found.extend(Path(dirpath, name) for name in sorted(filenames))
    return found


def find_targets(paths: Sequence[Path] | None, root: Path, config: KaviConfig) -> Targets:
    """Resolve CLI paths into governed files, with findings for what cannot be governed.

    ``None``: walk the project root with include/exclude. An empty sequence: no files (a
    pre-commit hook given no governed file). A named file is always checked; a named
    directory is walked with include/exclude (relative to the project root). A path that
    does not exist is a usage error: a gate must not pass on nothing by mistake.
    """
    walk_all = paths is None
    named = [root] if paths is None else list(paths)
    found: dict[str, Path] = {}
    problems: list[Finding] = []
    walked: list[str] = []
    for raw in named:
        path = raw if raw.is_absolute() else Path.cwd() / raw
        if not path.exists() and not path.is_symlink():
            raise UsageError(f"path does not exist: {raw}")
        if path.is_dir():
            walked.append(relpath(path, root))
            for file in _walk(path, root, problems):
                rel = relpath(file, root)
                if is_governed(rel, config):
                    found.setdefault(rel, file)
        else:
            found.setdefault(relpath(path, root), path)
    for rel, file in found.items():
        if not file.is_symlink() and not os.access(file, os.R_OK):
            problems.append(_codes().UNREADABLE.finding(rel, "cannot read file; it is not checked"))
    if walk_all:
        for glob in config.include:
            if not any(match_glob(rel, glob) for rel in found):
                problems.append(
                    _codes().GLOB_MATCHES_NOTHING.finding(
                        glob,
                        f"include glob {glob!r} matches no file under {root}",
                    )
                )
    elif walked and not found:
        problems.append(
            _codes().NOTHING_GOVERNED.finding(
                walked[0],
                f"no governed file under {', '.join(walked)} (include: "
                f"{', '.join(config.include) or 'nothing'}); nothing was checked",
            )
        )
    return Targets(files=[found[k] for k in sorted(found)], findings=problems)


def collect_targets(paths: Sequence[Path] | None, root: Path, config: KaviConfig) -> list[Path]:
    """The governed files only (``find_targets`` without its findings)."""
    return find_targets(paths, root, config).files


@hookimpl
def kavi_finding_codes() -> Sequence[Code]:
    """The runner's own codes (KAV010-KAV012), so kavi rules and SARIF describe them."""
    from kavi_gates.codes import targets as codes

    return codes.CODES
