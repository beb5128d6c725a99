"""Fixtures for the pytest plugin tests: pytester and a governed git repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from attest_keys import Key, sign_registry

# pytester's in-process runs drop the modules a run imported when it ends, but libcst's
# native parser keeps building nodes of the classes it first saw: a later run that
# imported libcst afresh would not recognise them. Imported here, libcst outlives every
# run, as it does in a real pytest session.
import kavi_gates.policy.check  # noqa: F401  (imports libcst)
from kavi_gates.config import KaviConfig, policy_digest
from kavi_gates.hash_pin import compute_pins
from kavi_gates.registry import Registry, RegistryEntry, save_registry

SKILL = '''"""Echo a text back."""

from pydantic import BaseModel

from kavi_skills import BaseSkill


class EchoIn(BaseModel):
    text: str


class EchoOut(BaseModel):
    text: str


class Echo(BaseSkill):
    name = "echo"
    description = "Echo the text back."
    side_effect_class = "READ_ONLY"
    input_model = EchoIn
    output_model = EchoOut

    def execute(self, data: EchoIn) -> EchoOut:
        return EchoOut(text=data.text)
'''
SKILL_TEST = "def test_echo() -> None:\n    assert True\n"
BAD = 'import os\nx = eval("1 + 1")\n'


def pytest_configure(config: pytest.Config) -> None:
    # `pytest_plugins` is only allowed in the top-level conftest; register pytester here.
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        [
            "git",
            "-c",
            "user.email=t@example.com",
            "-c",
            "user.name=T",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def make_governed_repo(root: Path, key: Key) -> Path:
    """A committed repo that passes every gate: one pinned, signed, tested skill and kavi.yaml."""
    files = {
        "kavi.yaml": 'include: ["skills/**/*.py"]\n',
        ".gitignore": "__pycache__/\n.pytest_cache/\nrunpytest-*\n",  # pytester's basetemp
        "skills/echo.py": SKILL,
        "tests/skills/test_echo.py": SKILL_TEST,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    entry = RegistryEntry.model_validate(
        {
            "path": "skills/echo.py",
            "class": "Echo",
            "side_effect_class": "READ_ONLY",
            "pins": compute_pins(root / "skills/echo.py", root),
            "policy_digest": policy_digest(KaviConfig()),
        }
    )
    save_registry(root / "skills/registry.yaml", Registry(skills={"echo": entry}))
    sign_registry(root, key)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "governed")
    return root


@pytest.fixture(autouse=True)
def isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Kavi's result cache outside the fixture repo (or it would be an untracked change)."""
    cache = tmp_path_factory.mktemp("xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


@pytest.fixture
def governed(pytester: pytest.Pytester, maintainer_key: Key) -> pytest.Pytester:
    """pytester whose directory is a clean governed repo."""
    make_governed_repo(pytester.path, maintainer_key)
    return pytester


@pytest.fixture
def violating(governed: pytest.Pytester) -> pytest.Pytester:
    """The governed repo plus an untracked skill with `eval` on line 2 (policy KAV401)."""
    (governed.path / "skills" / "bad.py").write_text(BAD)
    return governed
