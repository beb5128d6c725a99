"""A private import mechanism that serves only hash-verified bytes for pinned module names.

A skill's child (:mod:`kavi_skills.child_loader`) hands this module the bytes the parent
hashed; nothing here touches the disk (and nothing writes a ``.pyc``). The finder sits first
on ``sys.meta_path`` and *owns* every top-level package a pin lives in: a pinned name gets
its verified bytes, a parent package without a pinned ``__init__.py`` gets an empty
synthetic package, and any other name under an owned package is refused, so a same-named
file elsewhere on ``sys.path`` can never run instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import CodeType, ModuleType

from kavi_gates import KAVI_PACKAGES
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
    """Finder and loader in one: it answers only for the packages it owns."""

    def __init__(self, sources: Mapping[str, _VerifiedSource]) -> None:
        self._sources = dict(sources)
        self.owned_roots = frozenset(name.split(".")[0] for name in self._sources)

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
            return None
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

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        source = self._sources[module.__name__]
        if source.code is not None:
            exec(source.code, module.__dict__)  # verified bytes, compiled in compile_verified


def compile_verified(root: Path, verified: Mapping[str, bytes]) -> VerifiedFinder:
    """Compile every verified file (no code runs) and build the finder that serves them."""
    sources: dict[str, _VerifiedSource] = {}
    for rel_path, data in sorted(verified.items()):
        if not rel_path.endswith(".py"):
            continue  # a pinned data file is verified, but it is not a module
        name, is_package = module_name_for(rel_path)
        if name.split(".")[0] in KAVI_PACKAGES:
            continue  # the runtime itself is installed code, never re-executed per skill
        origin = root / rel_path
        try:
            code = compile(data, str(origin), "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as err:
            raise TrustError(f"{rel_path}: pinned source does not compile: {err}") from None
        sources[name] = _VerifiedSource(name, origin, code, is_package)
    for name in list(sources):
        parts = name.split(".")
        for depth in range(1, len(parts)):
            parent = ".".join(parts[:depth])
            if parent not in sources:
                sources[parent] = _VerifiedSource(parent, root.joinpath(*parts[:depth]), None, True)
    return VerifiedFinder(sources)
