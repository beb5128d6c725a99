"""Import roots: every way an import reaches a project file is pinned, and compiled files are
refused. Each attack edits (or plants) a file that a skill reaches through one import form
after the skill was pinned, and asserts the hash-pin gate reports it."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

import pytest
from attest_keys import Key, sign_registry
from import_forms import FORMS, HELPER, clean_import_state, set_up, write

from kavi_gates.config import KaviConfig, LoadedConfig
from kavi_gates.gate import GateContext
from kavi_gates.hash_pin import HashPinGate, PinMismatch, compute_pins, read_pinned, verify_pins
from kavi_gates.import_roots import ImportRoots
from kavi_gates.imports import local_import_closure
from kavi_gates.registry import Registry, RegistryEntry, save_registry

__all__ = ["clean_import_state"]  # a fixture, used by name
EDITED = "def shout(text: str) -> str:\n    return 'owned'\n"


def project(tmp_path: Path, form: str, key: Key) -> tuple[Path, RegistryEntry]:
    root = tmp_path / "proj"
    set_up(root, form, tmp_path)
    write(root, "skills/shout.py", FORMS[form][1] + "\n")
    pins = compute_pins(root / "skills/shout.py", root)
    entry = RegistryEntry.model_validate(
        {"path": "skills/shout.py", "class": "S", "side_effect_class": "READ_ONLY", "pins": pins}
    )
    save_registry(root / "skills/registry.yaml", Registry(skills={"shout": entry}))
    signed = sign_registry(root, key)  # as kavi promote would
    return root, signed.skills["shout"]


def gate_rules(root: Path) -> list[tuple[str, str]]:
    loaded = LoadedConfig(config=KaviConfig(), root=root.resolve(), source="test")
    context = GateContext(loaded=loaded, files=(root / "skills/shout.py",))
    return sorted((f.rule, f.path) for f in HashPinGate().check(context).findings)


@pytest.mark.usefixtures("clean_import_state")
@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_import_form_pins_the_helper_at_promotion(
    tmp_path: Path, form: str, maintainer_key: Key
) -> None:
    root, entry = project(tmp_path, form, maintainer_key)
    assert FORMS[form][2] in entry.pins
    assert [r for r in gate_rules(root) if r[0] != "KAV806"] == []


@pytest.mark.usefixtures("clean_import_state")
@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_import_form_edited_after_promotion_is_a_finding(
    tmp_path: Path, form: str, maintainer_key: Key
) -> None:
    root, entry = project(tmp_path, form, maintainer_key)
    helper = FORMS[form][2]
    write(root, helper, EDITED)
    assert ("KAV801", helper) in gate_rules(root)
    with pytest.raises(PinMismatch, match="drifted"):
        read_pinned(entry, root)


@pytest.mark.usefixtures("clean_import_state")
@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_import_form_left_unpinned_is_kav807_and_refused(
    tmp_path: Path, form: str, maintainer_key: Key
) -> None:
    root, entry = project(tmp_path, form, maintainer_key)
    helper = FORMS[form][2]
    partial = entry.model_copy(
        update={"pins": {k: v for k, v in entry.pins.items() if k != helper}}
    )
    assert ("KAV807", helper) in {(f.rule, f.path) for f in verify_pins(partial, root)}
    with pytest.raises(PinMismatch, match="not pin"):
        read_pinned(partial, root)


def test_a_sourceless_pyc_a_skill_imports_is_refused_even_when_pinned(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    write(root, "skills/shout.py", "import _blob\n")
    (root / "skills" / "_blob.pyc").write_bytes(importlib.util.MAGIC_NUMBER + b"\0" * 12)
    pins = compute_pins(root / "skills/shout.py", root)
    entry = RegistryEntry.model_validate(
        {"path": "skills/shout.py", "class": "S", "side_effect_class": "READ_ONLY", "pins": pins}
    )
    findings = {(f.rule, f.path): f.message for f in verify_pins(entry, root)}
    assert "compiled" in findings[("KAV807", "skills/_blob.pyc")]
    with pytest.raises(PinMismatch, match="compiled"):
        read_pinned(entry, root)


def test_an_extension_module_beside_a_helper_wins_and_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    write(root, "skills/shout.py", "from _sib import shout\n")
    write(root, "skills/_sib.py", HELPER)
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    (root / "skills" / f"_sib{suffix}").write_bytes(b"\x7fELF")  # Python would load this first
    closure = local_import_closure(root / "skills/shout.py", root)
    assert (root / "skills" / f"_sib{suffix}").resolve() in closure


def test_a_stdlib_name_next_to_a_skill_is_not_a_local_module(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    skill = write(root, "skills/shout.py", "import json\nimport kavi_skills\n")
    write(root, "skills/json.py", "raise SystemExit('shadow')\n")
    write(root, "kavi_skills/__init__.py")
    assert set(local_import_closure(skill, root)) == {skill.resolve()}


def test_a_virtualenv_inside_the_project_is_not_the_project(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    venv_site = root / ".venv" / "lib" / "site-packages"
    write(root, ".venv/lib/site-packages/thirdparty.py", "X = 1\n")
    skill = write(root, "skills/shout.py", "import thirdparty\n")
    roots = ImportRoots(root, [venv_site], env_dirs=[root / ".venv"])
    assert roots.resolve("thirdparty") == []
    assert set(local_import_closure(skill, root, roots=roots)) == {skill.resolve()}


@pytest.mark.usefixtures("clean_import_state")
def test_sys_path_entries_inside_the_project_are_roots(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    write(root, "tools/helper.py", HELPER)
    sys.path.insert(0, str(root / "tools"))
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    sys.path.insert(0, str(outside))
    roots = ImportRoots.discover(root)
    assert (root / "tools").resolve() in roots.dirs
    assert outside.resolve() not in roots.dirs
    assert [n for n, _ in roots.resolve("helper")] == ["helper"]


def test_roots_restricted_to_the_pinned_files_never_read_the_disk(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    write(root, "skills/_sib.py", HELPER)
    write(root, "skills/_unpinned.py", HELPER)
    roots = ImportRoots(root.resolve(), [root / "src"]).restricted_to(
        [root.resolve() / "skills/_sib.py"]
    )
    importer = root.resolve() / "skills"
    assert [n for n, _ in roots.resolve("_sib", importer)] == ["_sib"]
    assert roots.resolve("_unpinned", importer) == []


@pytest.mark.usefixtures("clean_import_state")
def test_roots_travel_to_another_process_as_plain_data(tmp_path: Path) -> None:
    """A sandboxed child gets the parent's roots, editable mappings included."""
    import json

    root = tmp_path / "proj"
    set_up(root, "editable-finder", tmp_path)
    roots = ImportRoots.discover(root)
    assert [n for n, _ in roots.resolve("edpkg.core")] == ["edpkg", "edpkg.core"]
    described = json.loads(json.dumps(roots.as_dict()))
    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "MappingFinder"]
    assert ImportRoots.discover(root).resolve("edpkg.core") == []  # the child's own view
    child = ImportRoots.from_dict(described)
    assert child.resolve("edpkg.core") == roots.resolve("edpkg.core")
