"""The project's import roots: where an import may resolve to a file of the project, once.

Pinning (``kavi_gates.hash_pin.compute_pins``), the hash-pin gate and the runtime's verified
finder all resolve a local import through :class:`ImportRoots`, so they agree on which file
``import x`` means. The roots, in search order:

1. the project root (``import skills._vault``),
2. the importing file's own directory (``from _sib import x`` with the skills directory on
   ``sys.path``),
3. ``src/`` when it exists (a src layout),
4. directories a caller adds (``governed_dirs``); pinning, the hash-pin gate and the
   runtime add none, so that all three resolve alike: a governed file's own directory is
   already root 2 for the imports it makes,
5. every ``sys.path`` entry of the current environment that lies inside the project (a
   ``.pth`` line, an old ``setup.py develop``, the working directory),
6. top-level names that a meta-path finder of the environment maps into the project (an
   editable install's ``__editable__`` finder), asked lazily, one name at a time.

Directories of the environment itself (a ``.venv`` inside the project, its site-packages)
are never the project. Standard-library names and Kavi's own packages never resolve
locally: a file named ``json.py`` next to a skill is not what ``import json`` runs under
Kavi. Within one directory the order is Python's own: a package directory, then an
extension module, then source, then a sourceless ``.pyc`` (compiled files are found so that
they can be refused: only source can be pinned and verified).
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import os
import site
import sys
import sysconfig
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from kavi_gates import KAVI_PACKAGES

SOURCE_SUFFIXES = tuple(importlib.machinery.SOURCE_SUFFIXES)
COMPILED_SUFFIXES = (
    *importlib.machinery.EXTENSION_SUFFIXES,
    *importlib.machinery.BYTECODE_SUFFIXES,
)
# FileFinder's order: extension modules, then source, then bytecode.
_SUFFIX_ORDER = (
    *importlib.machinery.EXTENSION_SUFFIXES,
    *SOURCE_SUFFIXES,
    *importlib.machinery.BYTECODE_SUFFIXES,
)
_STANDARD_FINDERS = (
    importlib.machinery.BuiltinImporter,
    importlib.machinery.FrozenImporter,
    importlib.machinery.PathFinder,
)


def is_compiled(path: Path) -> bool:
    """An extension module or sourceless bytecode: importable, but never verifiable source."""
    return path.name.endswith(COMPILED_SUFFIXES)


def never_local(top: str) -> bool:
    """Top-level names that never resolve to project files (stdlib, builtins, Kavi itself)."""
    return top in KAVI_PACKAGES or top in sys.stdlib_module_names or top in sys.builtin_module_names


@lru_cache(maxsize=1)
def environment_dirs() -> tuple[Path, ...]:
    """Directories of the running Python environment (prefixes, stdlib, site-packages)."""
    found: list[str] = [sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix]
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        with contextlib.suppress(KeyError):
            found.append(sysconfig.get_paths()[key])
    with contextlib.suppress(AttributeError):
        found.extend(site.getsitepackages())
    with contextlib.suppress(AttributeError):
        found.append(site.getusersitepackages())
    return tuple(dict.fromkeys(Path(p).resolve() for p in found if p))


@lru_cache(maxsize=8)
def _sys_path_dirs(entries: tuple[str, ...], cwd: str) -> tuple[Path, ...]:
    """The existing directories of ``sys.path``, resolved ('' is the working directory)."""
    found: list[Path] = []
    for entry in entries:
        with contextlib.suppress(OSError, ValueError):
            path = Path(entry or cwd).resolve()
            if path.is_dir():
                found.append(path)
    return tuple(found)


class ImportRoots:
    """Where imports of one project resolve (see the module docstring for the order).

    Directory listings and finder answers are cached for the life of the object: build one
    per operation (a gate run, a promotion, one skill load), not one per process.
    """

    def __init__(
        self,
        root: Path,
        dirs: Iterable[Path] = (),
        *,
        env_dirs: Iterable[Path] = (),
        mapped: dict[str, Path | None] | None = None,
        probe_finders: bool = True,
    ) -> None:
        self.root = root.resolve()
        # Only environment directories strictly inside the project exclude anything: a
        # project that itself lives inside a prefix must not vanish.
        self.env_dirs = tuple(
            d for d in (Path(p).resolve() for p in env_dirs) if d != self.root and self._under(d)
        )
        ordered = [self.root, *(Path(d).resolve() for d in dirs)]
        self.dirs = tuple(d for d in dict.fromkeys(ordered) if self.is_project_path(d))
        self._mapped: dict[str, Path | None] = dict(mapped or {})
        self._probe = probe_finders
        self._listings: dict[Path, frozenset[str] | None] = {}
        self._files: frozenset[Path] | None = None  # set: resolve among these files only

    def restricted_to(self, files: Iterable[Path]) -> ImportRoots:
        """The same roots, resolving only among ``files`` (the verified bytes), never the disk.

        Where the disk and the pins agree (the hash-pin check passed), both resolve every
        import to the same file; where they do not, the import is simply not served.
        """
        other = ImportRoots(
            self.root, self.dirs[1:], mapped=dict(self._mapped), probe_finders=self._probe
        )
        other.env_dirs = self.env_dirs
        known = frozenset(Path(os.path.abspath(f)) for f in files)
        listings: dict[Path, set[str]] = {}
        for file in known:
            child = file
            for parent in file.parents:
                listings.setdefault(parent, set()).add(child.name)
                if parent == self.root or not parent.is_relative_to(self.root):
                    break
                child = parent
        other._files = known
        other._listings = {d: frozenset(names) for d, names in listings.items()}
        return other

    def as_dict(self) -> dict[str, object]:
        """Plain data for another process (a sandboxed child must resolve as its parent did:
        pass this with the verified bytes and rebuild with :meth:`from_dict`)."""
        return {
            "root": str(self.root),
            "dirs": [str(d) for d in self.dirs[1:]],
            "env_dirs": [str(d) for d in self.env_dirs],
            "mapped": {name: str(path) for name, path in self.mapped().items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> ImportRoots:
        """The roots :meth:`as_dict` described; the environment's finders are not asked again
        (a child resolves exactly the names its parent found mapped, no others)."""
        dirs, env_dirs, mapped = data.get("dirs"), data.get("env_dirs"), data.get("mapped")
        if not (isinstance(dirs, list) and isinstance(env_dirs, list) and isinstance(mapped, dict)):
            raise ValueError("not an ImportRoots description")
        roots = cls(
            Path(str(data["root"])),
            [Path(str(d)) for d in dirs],
            env_dirs=[Path(str(d)) for d in env_dirs],
            mapped={str(k): Path(str(v)) for k, v in mapped.items()},
            probe_finders=False,
        )
        return roots

    def _is_file(self, path: Path) -> bool:
        return path in self._files if self._files is not None else path.is_file()

    @classmethod
    def discover(cls, root: Path, governed_dirs: Iterable[Path] = ()) -> ImportRoots:
        """The roots of ``root`` in the current environment (``src/``, ``sys.path``, finders)."""
        root = root.resolve()
        dirs: list[Path] = []
        if (root / "src").is_dir():
            dirs.append(root / "src")
        dirs.extend(sorted({Path(d).resolve() for d in governed_dirs}))
        dirs.extend(_sys_path_dirs(tuple(sys.path), os.getcwd()))
        return cls(root, dirs, env_dirs=environment_dirs())

    def _under(self, path: Path) -> bool:
        return path == self.root or path.is_relative_to(self.root)

    def is_project_path(self, path: Path) -> bool:
        """Inside the project root and not inside an environment directory (a ``.venv``)."""
        path = Path(os.path.abspath(path))
        resolved = path.resolve()
        if not self._under(resolved):
            return False
        return not any(resolved == d or resolved.is_relative_to(d) for d in self.env_dirs)

    def listing(self, directory: Path) -> frozenset[str] | None:
        """The names in a directory (cached; among the restricted files when restricted)."""
        if self._files is not None:
            return self._listings.get(directory)
        if directory not in self._listings:
            try:
                self._listings[directory] = frozenset(os.listdir(directory))
            except OSError:
                self._listings[directory] = None
        return self._listings[directory]

    def _entry(self, directory: Path, name: str) -> tuple[str, Path | None] | None:
        """How ``name`` is found in one directory: ``("package", __init__ file)``,
        ``("module", file)``, ``("namespace", None)``, or ``None``."""
        listing = self.listing(directory)
        if listing is None:
            return None
        namespace = False
        if name in listing:
            package = directory / name
            inner = self.listing(package)
            if inner is not None:
                for suffix in _SUFFIX_ORDER:
                    if "__init__" + suffix in inner and self._is_file(
                        package / ("__init__" + suffix)
                    ):
                        return "package", package / ("__init__" + suffix)
                namespace = True
        for suffix in _SUFFIX_ORDER:
            if name + suffix in listing and self._is_file(directory / (name + suffix)):
                return "module", directory / (name + suffix)
        return ("namespace", None) if namespace else None

    def _find_in(self, base: Path, parts: Sequence[str]) -> list[tuple[str, Path]] | None:
        """``(module name, file)`` for every file ``import parts`` executes under ``base``."""
        found: list[tuple[str, Path]] = []
        current = base
        for depth, part in enumerate(parts):
            entry = self._entry(current, part)
            if entry is None:
                return None
            kind, file = entry
            name = ".".join(parts[: depth + 1])
            if file is not None:
                found.append((name, file))
            if depth == len(parts) - 1:
                return found  # for a namespace package: only its parents' files
            if kind == "module":
                return None  # a module has no submodules
            current = current / part
        return found

    def location_of(self, top: str) -> Path | None:
        """Where an environment finder (an editable install) maps a top-level name, if that
        place is inside the project; cached per name."""
        if top in self._mapped:
            return self._mapped[top]
        location: Path | None = None
        if self._probe:
            for finder in list(sys.meta_path):
                if finder in _STANDARD_FINDERS or getattr(finder, "kavi_verified", False):
                    continue
                find_spec = getattr(finder, "find_spec", None)
                if find_spec is None:
                    continue
                try:
                    spec = find_spec(top, None)
                except Exception:  # a broken third-party finder must not break the gate
                    continue
                if spec is None:
                    continue
                location = _spec_location(spec)
                break
        if location is not None and not self.is_project_path(location):
            location = None
        self._mapped[top] = location
        return location

    def mapped(self) -> dict[str, Path]:
        """Top-level names found (so far) to be mapped into the project by a finder."""
        return {name: path for name, path in self._mapped.items() if path is not None}

    def resolve(self, name: str, importer_dir: Path | None = None) -> list[tuple[str, Path]]:
        """``(module name, file)`` for every project file ``import name`` executes (parent
        package ``__init__`` files first), or ``[]`` when it does not resolve in the project."""
        parts = name.split(".")
        if not name or not all(p.isidentifier() for p in parts) or never_local(parts[0]):
            return []
        bases = [self.dirs[0]]
        if importer_dir is not None and self.is_project_path(importer_dir):
            bases.append(importer_dir.resolve())
        bases.extend(self.dirs[1:])
        namespace_hit: list[tuple[str, Path]] | None = None
        for base in dict.fromkeys(bases):
            found = self._find_in(base, parts)
            if found is None:
                continue
            last_is_file = bool(found) and found[-1][0] == name
            if last_is_file:
                return found
            namespace_hit = namespace_hit if namespace_hit is not None else found
        location = self.location_of(parts[0])
        if location is not None:
            mapped = self._find_mapped(location, parts)
            if mapped is not None:
                return mapped
        return namespace_hit or []

    def _find_mapped(self, location: Path, parts: Sequence[str]) -> list[tuple[str, Path]] | None:
        if self._is_file(location):
            return [(parts[0], location)] if len(parts) == 1 else None
        found: list[tuple[str, Path]] = []
        listing = self.listing(location) or frozenset()
        for suffix in _SUFFIX_ORDER:
            if "__init__" + suffix in listing:
                found.append((parts[0], location / ("__init__" + suffix)))
                break
        if len(parts) == 1:
            return found
        rest = self._find_in(location, parts[1:])
        if rest is None:
            return None
        return found + [(f"{parts[0]}.{name}", file) for name, file in rest]


def _spec_location(spec: importlib.machinery.ModuleSpec) -> Path | None:
    """The file or package directory a spec loads from (``None`` for built-ins)."""
    if spec.origin and spec.origin not in ("built-in", "frozen") and os.path.isabs(spec.origin):
        origin = Path(spec.origin)
        return origin.parent if spec.submodule_search_locations is not None else origin
    locations = list(spec.submodule_search_locations or ())
    return Path(locations[0]) if locations else None


def spec_in_project(spec: importlib.machinery.ModuleSpec, roots: ImportRoots) -> Path | None:
    """The project file a spec would execute, if it would execute one."""
    if spec.origin and os.path.isabs(spec.origin):
        origin = Path(spec.origin)
        if roots.is_project_path(origin):
            return origin
    return None
