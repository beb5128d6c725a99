"""The minimal read-only view a sandbox needs to run the current Python interpreter.

The interpreter's prefixes (the base installation and the virtual environment), its site
directories, ``/usr`` and ``/lib*``, and the few ``/etc`` files the dynamic loader and the
clock read. Nothing else: not the home directory a pyenv or a virtual environment may live
in (only the prefix itself), not the working directory, not a checkout. With an editable
install a package lives inside a checkout; name it in ``packages`` and only that package's
directory is bound, never the checkout around it.
"""

from __future__ import annotations

import importlib.util
import os
import site
import sys
from collections.abc import Iterable
from pathlib import Path, PurePath

from kavi_sandbox.policy import is_within

SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/libx32")
LOADER_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
)


def package_dir(name: str) -> Path | None:
    """The directory of top-level package ``name`` (found without importing it), or None."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        locations = list(spec.submodule_search_locations)
        return Path(locations[0]) if len(locations) == 1 else None
    if spec.origin and spec.origin not in ("built-in", "frozen"):
        return Path(spec.origin)  # a single-module "package": bind the file itself
    return None


def _minimal(paths: Iterable[Path]) -> tuple[Path, ...]:
    """Existing paths with every path already covered by another one dropped."""
    kept: list[Path] = []
    for path in sorted({Path(os.path.abspath(p)) for p in paths}, key=lambda p: len(p.parts)):
        if not os.path.lexists(path):
            continue
        if any(is_within(PurePath(path), PurePath(root)) for root in kept):
            continue
        kept.append(path)
    return tuple(sorted(kept))


def python_read_only_paths(packages: Iterable[str] = ()) -> tuple[Path, ...]:
    """Paths to bind read-only so ``sys.executable`` (with its site-packages and the named
    ``packages``) runs inside a sandbox."""
    candidates: list[Path] = [Path(p) for p in SYSTEM_DIRS]
    candidates += [Path(p) for p in LOADER_FILES]
    prefixes = {sys.base_prefix, sys.prefix, sys.exec_prefix, sys.base_exec_prefix}
    candidates += [Path(p) for p in prefixes]
    candidates += [Path(p) for p in site.getsitepackages()]
    executable = Path(sys.executable)
    candidates += [executable, Path(os.path.realpath(executable))]
    for name in packages:
        found = package_dir(name)
        if found is None:
            raise LookupError(f"package {name!r} is not importable here")
        candidates.append(found)
    return _minimal(candidates)
