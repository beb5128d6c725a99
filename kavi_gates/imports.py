"""A static import graph built with stdlib ``ast`` (fast: no libcst, no imports executed).

Every import form counts, wherever it appears: module level, inside functions, inside
``try`` and ``if TYPE_CHECKING:`` blocks (a type-only import is still a dependency the
architecture has to allow, so it is counted), relative imports, and the dynamic forms
``importlib.import_module("literal")`` and ``__import__("literal")``. Names are resolved
to files under one project root; modules outside it (stdlib, site-packages) are not local.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kavi_gates import KAVI_PACKAGES


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


def _resolve_local(ref: ImportRef, path: Path, root: Path) -> list[Path]:
    """Local files the import executes (parent package ``__init__``s too), else ``[]``.

    Searched from root, then next to the importing file (a skills dir on ``sys.path``).
    """
    for candidate in ref.candidates():
        if candidate.split(".")[0] in KAVI_PACKAGES:
            return []
        for search_root in (root, path.parent):
            found = resolve_module(candidate, search_root)
            if found is None or not found.is_file():
                continue
            parts = candidate.split(".")
            prefixes = (".".join(parts[:i]) for i in range(1, len(parts)))
            parents = [resolve_module(prefix, search_root) for prefix in prefixes]
            return [p for p in parents if p is not None and p.is_file()] + [found]
    return []


def local_import_closure(
    path: Path, root: Path, read: Callable[[Path], bytes] | None = None
) -> dict[Path, bytes]:
    """``path`` and every local module it imports, transitively, each file read exactly once.

    Local means a ``.py`` file under ``root`` (found from the root, or next to the importing
    file for the ``import sibling`` style of a skills directory on ``sys.path``), excluding
    Kavi's own packages. A file that does not parse contributes its bytes but no imports.
    """
    read = read or Path.read_bytes
    root = root.resolve()
    seen: dict[Path, bytes] = {}
    queue = [path.resolve()]
    while queue:
        current = queue.pop()
        if current in seen:
            continue
        data = read(current)
        seen[current] = data
        try:
            tree = ast.parse(data, filename=str(current))
        except (SyntaxError, ValueError):
            continue
        try:
            name = module_name(current, root)
        except ValueError:
            continue
        for ref in parse_imports(tree, name, current.name == "__init__.py"):
            for found in _resolve_local(ref, current, root):
                found = found.resolve()
                if found not in seen and found.is_relative_to(root):
                    queue.append(found)
    return seen
