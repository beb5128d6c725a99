"""A static import graph built with stdlib ``ast`` (fast: no libcst, no imports executed).

Every import form counts, wherever it appears: module level, inside functions, inside
``try`` and ``if TYPE_CHECKING:`` blocks (a type-only import is still a dependency the
architecture has to allow, so it is counted), relative imports, and the dynamic forms
``importlib.import_module("literal")`` and ``__import__("literal")``. Names are resolved
to project files through the project's import roots (``kavi_gates.import_roots``); modules
outside it (stdlib, site-packages) are not local.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from kavi_gates.import_roots import SOURCE_SUFFIXES, ImportRoots


@dataclass(frozen=True)
class ImportRef:
    """One import statement (or dynamic import call) naming ``module``.

    ``names`` are the names of a ``from module import a, b`` (each may be a submodule).
    """

    module: str
    line: int
    col: int
    names: tuple[str, ...] = ()
    dynamic: bool = False

    def candidates(self) -> Iterator[str]:
        """Module names this import may load, most specific first."""
        for name in self.names:
            if name != "*":
                yield f"{self.module}.{name}"
        yield self.module


def module_name(path: Path, root: Path) -> str:
    """Dotted module name of a file under root (``pkg/__init__.py`` → ``pkg``)."""
    parts = list(path.resolve().relative_to(root.resolve()).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(module: str | None, level: int, current: str, is_package: bool) -> str | None:
    """Resolve a relative import against the importing module's package."""
    if level == 0:
        return module
    package = current.split(".") if is_package else current.split(".")[:-1]
    if level - 1 >= len(package):
        return None  # beyond the top-level package: Python itself would refuse it
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, module] if module else base) or None


def _literal_str(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _dynamic_target(node: ast.Call, import_module_names: set[str]) -> tuple[str, str | None] | None:
    """``(name, package)`` of ``importlib.import_module(...)`` / ``__import__(...)`` calls."""
    func = node.func
    is_dynamic = (
        isinstance(func, ast.Name) and func.id in {"__import__", *import_module_names}
    ) or (
        isinstance(func, ast.Attribute)
        and func.attr == "import_module"
        and isinstance(func.value, ast.Name)
        and func.value.id == "importlib"
    )
    if not is_dynamic or not node.args:
        return None
    name = _literal_str(node.args[0])
    if name is None:
        return None
    package = next((_literal_str(k.value) for k in node.keywords if k.arg == "package"), None)
    if package is None and len(node.args) > 1:
        package = _literal_str(node.args[1])
    return name, package


def parse_imports(tree: ast.Module, current: str = "", is_package: bool = False) -> list[ImportRef]:
    """Every import in a parsed module, as absolute module names, in source order."""
    refs: list[ImportRef] = []
    import_module_names = {"import_module"}
    calls: list[ast.Call] = []
    for node in ast.walk(tree):  # one pass: import statements now, calls judged after
        if isinstance(node, ast.Call):
            calls.append(node)
        elif isinstance(node, ast.Import):
            refs.extend(ImportRef(a.name, node.lineno, node.col_offset + 1) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(node.module, node.level, current, is_package)
            if target is not None:
                names = tuple(a.name for a in node.names)
                refs.append(ImportRef(target, node.lineno, node.col_offset + 1, names))
            if node.module == "importlib":
                import_module_names.update(
                    a.asname or a.name for a in node.names if a.name == "import_module"
                )
    for node in calls:
        found = _dynamic_target(node, import_module_names)
        if found is None:
            continue
        name, package = found
        level = len(name) - len(name.lstrip("."))
        anchor = package or current
        target = (
            _absolute(name.lstrip(".") or None, level, anchor, package is not None or is_package)
            if level
            else name
        )
        if target:
            refs.append(ImportRef(target, node.lineno, node.col_offset + 1, dynamic=True))
    refs.sort(key=lambda r: (r.line, r.col))
    return refs


def resolve_module(name: str, root: Path) -> Path | None:
    """The file (module or package ``__init__.py``) or namespace dir for ``name`` under root."""
    if not name or any(not part.isidentifier() for part in name.split(".")):
        return None
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_name(base.name + ".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return base if base.is_dir() else None


@dataclass
class ModuleGraph:
    """What a walk from some files over their local imports found.

    ``files``: every project file reached, with the bytes read (exactly once each).
    ``names``: every module name an import resolved to a project file, with that file; the
    runtime serves exactly these names (and the pinned files' root-relative names).
    ``conflicts``: names that two importers resolved to different files (sibling-style
    imports from two directories); a runtime can serve only one, so it refuses them.
    """

    files: dict[Path, bytes] = field(default_factory=dict)
    names: dict[str, Path] = field(default_factory=dict)
    conflicts: dict[str, set[Path]] = field(default_factory=dict)


def _star_candidates(ref: ImportRef, path: Path, roots: ImportRoots) -> list[str]:
    """``from pkg import *`` may import any submodule ``__all__`` names: count them all."""
    if "*" not in ref.names:
        return []
    found = roots.resolve(ref.module, path.parent)
    if not found or found[-1][0] != ref.module or found[-1][1].stem != "__init__":
        return []
    entries = sorted(roots.listing(found[-1][1].parent) or ())
    names = {e.split(".")[0] for e in entries if e.endswith(SOURCE_SUFFIXES) or "." not in e}
    return [f"{ref.module}.{n}" for n in sorted(names) if n.isidentifier() and n != "__init__"]


def walk_modules(
    starts: Iterable[Path],
    roots: ImportRoots,
    read: Callable[[Path], bytes | None],
) -> ModuleGraph:
    """Follow local imports from ``starts`` (each under its root-relative module name).

    ``read`` returns a file's bytes, or ``None`` when it may not be read (then the file is
    neither recorded nor followed). Relative imports are resolved against every name a file
    is reached under, so ``src/pkg/mod.py`` imported as ``pkg.mod`` finds ``pkg.x`` too. A
    compiled file or one that does not parse contributes its bytes but no imports.
    """
    graph = ModuleGraph()
    readable: dict[Path, bool] = {}
    queue: list[tuple[Path, str]] = []
    for start in starts:
        start = Path(os.path.abspath(start))
        try:
            queue.append((start, module_name(start, roots.root)))
        except ValueError:
            queue.append((start, ""))
    seen: set[tuple[Path, str]] = set()
    while queue:
        path, name = queue.pop()
        if (path, name) in seen:
            continue
        seen.add((path, name))
        if path not in readable:
            data = read(path)
            readable[path] = data is not None
            if data is not None:
                graph.files[path] = data
        if not readable[path]:
            continue
        refs = imports_of(graph.files[path], str(path), name)
        for ref in refs or ():
            for candidate in [*ref.candidates(), *_star_candidates(ref, path, roots)]:
                for module, found in roots.resolve(candidate, path.parent):
                    if not roots.is_project_path(found):
                        continue  # a symlink out of the project (refused as a pin anyway)
                    if readable.get(found) is False:
                        continue  # unreadable: not served, not followed
                    known = graph.names.setdefault(module, found)
                    if known != found:
                        graph.conflicts.setdefault(module, {known}).add(found)
                    queue.append((found, module))
    return graph


@lru_cache(maxsize=256)
def imports_of(data: bytes, filename: str, name: str) -> tuple[ImportRef, ...] | None:
    """The imports of a source file's bytes as module ``name`` (``None``: not parsable source).

    Cached on the bytes: pinning, the gate and the runtime walk the same files, and a file
    reached under two names (``src.pkg.mod`` and ``pkg.mod``) is parsed once.
    """
    if not filename.endswith(SOURCE_SUFFIXES):
        return None
    try:
        tree = _parsed(data, filename)
    except (SyntaxError, ValueError):
        return None
    return tuple(parse_imports(tree, name, filename.endswith("__init__.py")))


@lru_cache(maxsize=64)
def _parsed(data: bytes, filename: str) -> ast.Module:
    return ast.parse(data, filename=filename)


def local_import_closure(
    path: Path,
    root: Path,
    read: Callable[[Path], bytes] | None = None,
    roots: ImportRoots | None = None,
) -> dict[Path, bytes]:
    """``path`` and every project file it imports, transitively, each file read exactly once.

    Local means a file that an import resolves to through the project's import roots
    (:class:`~kavi_gates.import_roots.ImportRoots`: the root, the importing file's directory,
    ``src/``, in-project ``sys.path`` entries, editable installs), excluding Kavi's own
    packages and the standard library. Compiled files (``.so``, sourceless ``.pyc``) count:
    the hash-pin gate refuses them. A file that does not parse contributes its bytes but no
    imports.
    """
    reader = read or Path.read_bytes
    roots = roots or ImportRoots.discover(root)
    return walk_modules([path], roots, reader).files
