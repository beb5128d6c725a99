"""A private import mechanism that serves only hash-verified bytes for pinned module names.

A skill's child (:mod:`kavi_skills.child_loader`) hands this module the bytes its parent
hashed, and the names the parent resolved them to; nothing here reads a module from the
disk, and nothing is ever loaded from (or written to) a ``.pyc``. While active, the
finder sits first on ``sys.meta_path`` and *owns* every top-level package a served name
lives in: a served name gets its verified bytes, a parent package without a pinned
``__init__.py`` gets an empty synthetic package, and any other name under an owned package is
refused, so a same-named file elsewhere on ``sys.path`` can never run instead.

Served names are each pinned module's root-relative name (``skills._vault``) plus every
name an import in the verified code resolves to a pinned file through the project's import
roots (``kavi_gates.import_roots``): ``_vault`` for a sibling-style import, ``pkg.mod`` for a
``src/pkg/mod.py``, an editable install's package. Any other import that would execute a
file of the project (a computed ``importlib.import_module(name)``, a file planted after the
check) is refused: the import machinery's answer is checked before it is used.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import CodeType, ModuleType

from kavi_gates.import_roots import ImportRoots, never_local, spec_in_project
from kavi_gates.imports import walk_modules
from kavi_gates.paths import UnsafePath, check_relative
from kavi_skills.errors import TrustError


def module_name_for(rel_path: str) -> tuple[str, bool]:
    """Map a pinned repo-relative path to ``(module name, is_package)``; refuse odd paths."""
    try:
        pure = check_relative(rel_path)
    except UnsafePath as err:
        raise TrustError(f"pinned path is not safe: {err}") from None
    if pure.suffix != ".py":
        raise TrustError(f"pinned path {rel_path!r} is not a .py file")
    parts = [*pure.parent.parts, pure.stem]
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    if not parts or not all(part.isidentifier() for part in parts):
        raise TrustError(f"pinned path {rel_path!r} does not name an importable module")
    return ".".join(parts), is_package


class _VerifiedSource:
    """One pinned module: its name, origin and the code compiled from its verified bytes."""

    def __init__(self, name: str, origin: Path, code: CodeType | None, is_package: bool) -> None:
        self.name = name
        self.origin = origin
        self.code = code  # None for a synthetic parent package
        self.is_package = is_package


class VerifiedFinder(MetaPathFinder, Loader):
    """Finder and loader in one: it serves the packages it owns and guards every other import.

    ``roots`` says what the project is: an import it does not serve, which the rest of the
    import machinery would load from a project file, is refused instead.
    """

    kavi_verified = True  # never asked by ImportRoots.location_of

    def __init__(
        self, sources: Mapping[str, _VerifiedSource], roots: ImportRoots | None = None
    ) -> None:
        self._sources = dict(sources)
        self.owned_roots = frozenset(name.split(".")[0] for name in self._sources)
        self.roots = roots

    def owns(self, fullname: str) -> bool:
        """True when ``fullname`` lies in a package this finder answers for."""
        return fullname.split(".")[0] in self.owned_roots

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if not self.owns(fullname):
            return self._guarded(fullname, path, target)
        source = self._sources.get(fullname)
        if source is None:
            # Refuse rather than fall through to sys.path: that file was never verified.
            raise ImportError(f"{fullname!r} is not pinned for this skill; refusing to import it")
        spec = ModuleSpec(fullname, self, origin=str(source.origin), is_package=source.is_package)
        if source.code is not None:
            spec.has_location = True
        if source.is_package:
            spec.submodule_search_locations = []  # submodules come from this finder only
        return spec

    def _guarded(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None
    ) -> ModuleSpec | None:
        """Ask the finders after this one; refuse an answer that executes a project file."""
        if self.roots is None or never_local(fullname.split(".")[0]):
            return None
        try:
            later = sys.meta_path[sys.meta_path.index(self) + 1 :]
        except ValueError:
            return None
        for finder in later:
            find_spec = getattr(finder, "find_spec", None)
            if find_spec is None:
                continue
            spec: ModuleSpec | None = find_spec(fullname, path, target)
            if spec is None:
                continue
            planted = spec_in_project(spec, self.roots)
            if planted is not None:
                raise ImportError(
                    f"{fullname!r} would run {planted}, a project file this skill's pins do "
                    "not cover; refusing to import it"
                )
            return spec
        return None

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        source = self._sources[module.__name__]
        if source.code is not None:
            exec(source.code, module.__dict__)  # verified bytes, compiled in compile_verified


def _compile(rel_path: str, origin: Path, data: bytes) -> CodeType:
    try:
        return compile(data, str(origin), "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as err:
        raise TrustError(f"{rel_path}: pinned source does not compile: {err}") from None


def served_names(root: Path, verified: Mapping[str, bytes], roots: ImportRoots) -> dict[str, str]:
    """Module name → pinned rel path, for every name the verified code can import.

    Root-relative names first (``skills._vault``), then the names its imports resolve to
    among the pinned files only (never the disk). A name that two importers resolve to two
    different pinned files cannot be served faithfully: refused.
    """
    by_path = {Path(os.path.abspath(root / rel)): rel for rel in verified if rel.endswith(".py")}
    names: dict[str, str] = {}
    for rel in sorted(by_path.values()):
        own, _ = module_name_for(rel)
        if not never_local(own.split(".")[0]):
            names[own] = rel
    graph = walk_modules(
        sorted(by_path),
        roots.restricted_to(by_path),
        lambda p: verified[by_path[p]] if p in by_path else None,
    )
    for name, conflict in sorted(graph.conflicts.items()):
        pinned = sorted(by_path[p] for p in conflict if p in by_path)
        if len(pinned) > 1:
            raise TrustError(f"module {name!r} resolves to {' and '.join(pinned)}; refusing")
    for name, path in sorted(graph.names.items()):
        pinned_rel = by_path.get(path)
        if pinned_rel is None:
            continue  # not pinned: the guard refuses it if it is a project file
        known = names.setdefault(name, pinned_rel)
        if known != pinned_rel:
            raise TrustError(f"module {name!r} resolves to {known} and {pinned_rel}; refusing")
    return names


def compile_verified(
    root: Path, verified: Mapping[str, bytes], roots: ImportRoots | None = None
) -> VerifiedFinder:
    """Compile every verified file (no code runs) and build the finder that serves them.

    ``roots`` are the project's import roots (default: discovered in this environment);
    the parent of a sandboxed run should pass its own, so that both resolve alike.
    """
    root = root.resolve()
    roots = roots or ImportRoots.discover(root)
    return finder_for(root, verified, served_names(root, verified, roots), roots)


def finder_for(
    root: Path, verified: Mapping[str, bytes], names: Mapping[str, str], roots: ImportRoots
) -> VerifiedFinder:
    """The finder serving ``names`` (module name -> pinned path, as :func:`served_names`
    resolved them) from the verified bytes. A sandboxed child, which cannot see the project,
    gets ``names`` and ``roots`` from its parent and resolves nothing itself."""
    codes: dict[str, CodeType] = {}
    for rel_path, data in sorted(verified.items()):
        if rel_path.endswith(".py"):  # a pinned data file is verified, but it is not a module
            module_name_for(rel_path)  # refuses an unsafe or unimportable path
            codes[rel_path] = _compile(rel_path, root / rel_path, data)
    sources: dict[str, _VerifiedSource] = {}
    for name, rel_path in names.items():
        if rel_path not in codes:
            raise TrustError(f"module {name!r} names {rel_path!r}, which is not a pinned module")
        is_package = Path(rel_path).name == "__init__.py"
        sources[name] = _VerifiedSource(name, root / rel_path, codes[rel_path], is_package)
    for name in list(sources):
        parts = name.split(".")
        for depth in range(1, len(parts)):
            parent = ".".join(parts[:depth])
            if parent not in sources:
                sources[parent] = _VerifiedSource(parent, root.joinpath(*parts[:depth]), None, True)
    return VerifiedFinder(sources, roots)
