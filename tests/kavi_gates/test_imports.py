from __future__ import annotations

import ast
from pathlib import Path

from kavi_gates.imports import (
    ImportRef,
    local_import_closure,
    module_name,
    parse_imports,
    resolve_module,
)


def _modules(source: str, current: str = "pkg.mod", is_package: bool = False) -> list[str]:
    return [r.module for r in parse_imports(ast.parse(source), current, is_package)]


def _write(root: Path, rel: str, text: str = "") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_plain_and_aliased_imports_are_found() -> None:
    assert _modules("import os\nimport a.b as c\n") == ["os", "a.b"]


def test_from_import_records_module_and_names() -> None:
    (ref,) = parse_imports(ast.parse("from a.b import c, d"))
    assert (ref.module, ref.names) == ("a.b", ("c", "d"))
    assert list(ref.candidates()) == ["a.b.c", "a.b.d", "a.b"]


def test_imports_inside_functions_and_try_blocks_count() -> None:
    source = "def f():\n    import inner\ntry:\n    import guarded\nexcept ImportError:\n    pass\n"
    assert _modules(source) == ["inner", "guarded"]


def test_type_checking_imports_count() -> None:
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import typed_only\n"
    assert "typed_only" in _modules(source)


def test_relative_import_resolves_against_the_package() -> None:
    assert _modules("from . import sibling", "pkg.mod") == ["pkg"]
    assert _modules("from ..other import x", "pkg.sub.mod") == ["pkg.other"]


def test_relative_import_in_package_init_resolves_against_itself() -> None:
    assert _modules("from .sub import x", "pkg", is_package=True) == ["pkg.sub"]


def test_importlib_import_module_with_literal_counts() -> None:
    source = "import importlib\nimportlib.import_module('hidden.mod')\n"
    refs = parse_imports(ast.parse(source))
    assert ImportRef("hidden.mod", 2, 1, dynamic=True) in refs


def test_import_module_imported_by_name_counts() -> None:
    source = "from importlib import import_module as im\nim('sneaky')\n"
    assert "sneaky" in _modules(source)


def test_dunder_import_with_literal_counts() -> None:
    assert _modules("__import__('dunder_target')") == ["dunder_target"]


def test_relative_dynamic_import_uses_the_package_argument() -> None:
    source = "import importlib\nimportlib.import_module('.x', package='pkg.sub')\n"
    assert "pkg.sub.x" in _modules(source)


def test_dynamic_import_of_a_computed_name_is_not_guessed() -> None:
    assert _modules("import importlib\nimportlib.import_module(name)\n") == ["importlib"]


def test_module_name_of_package_init_is_the_package(tmp_path: Path) -> None:
    path = _write(tmp_path, "pkg/sub/__init__.py")
    assert module_name(path, tmp_path) == "pkg.sub"


def test_resolve_module_finds_module_file_and_package(tmp_path: Path) -> None:
    _write(tmp_path, "pkg/__init__.py")
    mod = _write(tmp_path, "pkg/mod.py")
    assert resolve_module("pkg.mod", tmp_path) == mod
    assert resolve_module("pkg", tmp_path) == tmp_path / "pkg" / "__init__.py"
    assert resolve_module("missing", tmp_path) is None


def test_closure_follows_local_imports_transitively(tmp_path: Path) -> None:
    skill = _write(tmp_path, "skills/echo.py", "from skills import _vault\n")
    vault = _write(tmp_path, "skills/_vault.py", "import _paths\n")
    paths = _write(tmp_path, "skills/_paths.py", "import os\n")
    closure = local_import_closure(skill, tmp_path)
    assert set(closure) == {skill.resolve(), vault.resolve(), paths.resolve()}


def test_closure_includes_parent_package_init(tmp_path: Path) -> None:
    skill = _write(tmp_path, "skills/echo.py", "import helpers.text\n")
    init = _write(tmp_path, "helpers/__init__.py")
    _write(tmp_path, "helpers/text.py")
    assert init.resolve() in local_import_closure(skill, tmp_path)


def test_closure_excludes_kavi_runtime_packages(tmp_path: Path) -> None:
    skill = _write(tmp_path, "skills/echo.py", "from kavi_skills import BaseSkill\n")
    _write(tmp_path, "kavi_skills/__init__.py")
    assert set(local_import_closure(skill, tmp_path)) == {skill.resolve()}


def test_closure_reads_each_file_exactly_once(tmp_path: Path) -> None:
    skill = _write(tmp_path, "skills/echo.py", "import _a\nimport _b\n")
    _write(tmp_path, "skills/_a.py", "import _b\n")
    _write(tmp_path, "skills/_b.py", "import _a\n")
    reads: list[Path] = []

    def read(path: Path) -> bytes:
        reads.append(path)
        return path.read_bytes()

    local_import_closure(skill, tmp_path, read=read)
    assert len(reads) == len(set(reads)) == 3


def test_closure_keeps_an_unparsable_file_without_following_it(tmp_path: Path) -> None:
    skill = _write(tmp_path, "skills/echo.py", "def broken(:\n")
    assert local_import_closure(skill, tmp_path) == {skill.resolve(): b"def broken(:\n"}
