"""The contract "the gates run identically everywhere".

One fixture repository violates every gate. The runner API, `kavi check --format json`,
the `kavi-verify` pre-commit hook (text output) and `pytest --kavi-verify` (item failures,
which are `kavi check`'s text lines) must report the same set of (gate, rule, path, line).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from real_pre_commit import run_hook

from kavi_gates.config import KaviConfig, load_config, policy_digest
from kavi_gates.hash_pin import compute_pins
from kavi_gates.registry import Registry, RegistryEntry, save_registry
from kavi_gates.runner import run_gates

GATES = {"policy", "invariants", "diff-allowlist", "hash-pin"}
Key = tuple[str, str, str, int]

# `path[:line:col]: RULE[ [warning]] message (gate)`: the first line of every text finding.
TEXT_FINDING = re.compile(
    r"^(?P<path>[^\s:]+)(?::(?P<line>\d+):\d+)?: (?P<rule>KAV\d+)(?: \[warning\])? .* "
    r"\((?P<gate>[a-z-]+)\)$"
)

SKILL = '''"""A well-formed skill."""

from pydantic import BaseModel

from kavi_skills import BaseSkill


class EchoIn(BaseModel):
    text: str


class Echo(BaseSkill):
    name = "echo"
    description = "Echo the text back."
    side_effect_class = "READ_ONLY"
    input_model = EchoIn
    output_model = EchoIn

    def execute(self, data: EchoIn) -> EchoIn:
        return data
'''
NO_SIDE_EFFECT = (
    SKILL.replace('    side_effect_class = "READ_ONLY"\n', "")
    .replace("Echo", "Quiet")
    .replace('"echo"', '"quiet"')
)
TEST = "def test_it() -> None:\n    assert True\n"
# libcst's parser takes seconds on 3,000 chained terms; the budget for this file is 0.05 s.
SLOW = "import os\nx = " + " + ".join(["1"] * 3000) + "\n"
SLOW_BUDGET = "overrides:\n  - paths: [skills/slow.py]\n    policy: {file_budget: 0.05}\n"


def git(root: Path, *args: str) -> None:
    subprocess.run(
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
    )


def write(root: Path, rel: str, text: str) -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text)


@pytest.fixture(scope="module")
def env(
    tmp_path_factory: pytest.TempPathFactory,
    pre_commit_home: Path,
    offline_pip: dict[str, str],
) -> dict[str, str]:
    env = {**os.environ, **offline_pip}  # the hook environment is built offline
    env["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    env["PRE_COMMIT_HOME"] = str(pre_commit_home)  # the session's: built once
    return env


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Committed: a pinned, tested skill. Then: one violation (at least) of every gate."""
    root = tmp_path_factory.mktemp("parity")
    write(
        root,
        "kavi.yaml",
        'include: ["skills/**/*.py"]\ndiff_allowlist: {judge: all}\n' + SLOW_BUDGET,
    )
    write(root, ".gitignore", "__pycache__/\n")
    write(root, "skills/echo.py", SKILL)
    write(root, "tests/skills/test_echo.py", TEST)
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
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "governed")
    write(root, "skills/bad.py", 'import os\nx = eval("1 + 1")\n')  # policy
    write(root, "skills/slow.py", SLOW)  # policy: past its time budget
    write(root, "skills/quiet.py", NO_SIDE_EFFECT)  # invariants
    write(root, "tests/skills/test_quiet.py", TEST)
    write(root, "notes.txt", "outside the allowlist\n")  # diff-allowlist
    write(root, "skills/echo.py", SKILL + "# drifted after pinning\n")  # hash-pin
    return root


def from_text(output: str) -> set[Key]:
    found = (TEXT_FINDING.match(line) for line in output.splitlines())
    return {(m["gate"], m["rule"], m["path"], int(m["line"] or 0)) for m in found if m}


def via_api(root: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> set[Key]:
    monkeypatch.setenv("XDG_CACHE_HOME", env["XDG_CACHE_HOME"])
    report = run_gates(load_config(start=root))
    return {(f.gate, f.rule, f.path, f.line) for f in report.findings}


def via_cli(root: Path, env: dict[str, str]) -> set[Key]:
    done = subprocess.run(
        [sys.executable, "-m", "kavi_hooks.cli", "check", "--format", "json"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    return {
        (f["gate"], f["rule"], f["path"], f["line"]) for f in json.loads(done.stdout)["findings"]
    }


def via_pre_commit(root: Path, env: dict[str, str]) -> set[Key]:
    done = run_hook(root, "kavi-verify", env, "--verbose")
    assert done.returncode == 1 and "- exit code: 1" in done.stdout, done.stdout + done.stderr
    return from_text(done.stdout)


def via_pytest(root: Path, env: dict[str, str]) -> set[Key]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--kavi-verify",
            "-m",
            "kavi",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    return from_text(done.stdout)


@pytest.mark.slow
def test_every_surface_reports_the_same_findings(
    repo: Path,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = via_api(repo, env, monkeypatch)
    assert {gate for gate, *_ in api} == GATES, "the fixture must violate every gate"
    assert ("policy", "KAV401", "skills/bad.py", 2) in api
    assert ("policy", "KAV005", "skills/slow.py", 0) in api
    assert via_cli(repo, env) == api
    assert via_pytest(repo, env) == api
    assert via_pre_commit(repo, env) == api
