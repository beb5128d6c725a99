"""Doctor's registry check through the real gate runner (skipped until the runner works)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from attest_keys import Key, sign_registry

from kavi_gates.config import LoadedConfig, load_config
from kavi_ledger.doctor import check_registry


@pytest.fixture
def pinned_project(project: Path, maintainer_key: Key) -> LoadedConfig:
    skill = project / "skills" / "foo.py"
    skill.parent.mkdir()
    skill.write_text("X = 1\n")
    digest = hashlib.sha256(skill.read_bytes()).hexdigest()
    (project / "skills" / "registry.yaml").write_text(
        "version: 1\nskills:\n  foo:\n    path: skills/foo.py\n    class: Foo\n"
        f"    side_effect_class: READ_ONLY\n    pins: {{skills/foo.py: 'sha256:{digest}'}}\n"
    )
    sign_registry(project, maintainer_key)
    return load_config(start=project)


def test_a_registry_whose_pins_hold_passes(pinned_project: LoadedConfig) -> None:
    check = check_registry(pinned_project)
    assert check.status == "pass", check.message


def test_a_pinned_file_that_drifted_fails_the_registry_check(
    pinned_project: LoadedConfig,
) -> None:
    skill = pinned_project.root / "skills" / "foo.py"
    skill.write_text("X = 2\n")
    assert check_registry(pinned_project).status == "fail"


def test_a_registry_that_does_not_parse_fails_the_registry_check(
    pinned_project: LoadedConfig,
) -> None:
    (pinned_project.root / "skills" / "registry.yaml").write_text("version: [\n")
    check = check_registry(pinned_project)
    assert check.status == "fail"
