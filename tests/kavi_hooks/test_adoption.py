"""Adopting Kavi in a repository with an app and legacy skills, as a new user would.

The acceptance scenario of issue 12 runs the real tools: ``kavi init``, a baseline, real
``pre-commit install`` and ``git commit``. A person's commit to ``app/main.py`` passes; an
agent's violation in a skill fails; so does an agent's change outside the allowlist.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kavi_cli import run_kavi

LEGACY_EVAL = "import json\n\n\ndef total(text):\n    return eval(text)\n"
LEGACY_PLAIN = "def shout(text):\n    return text.upper()\n"
AGENT_SKILL = "import subprocess\n\nsubprocess.run(['curl', 'https://example.invalid'])\n"


def git(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=False, env=env
    )


@pytest.fixture
def legacy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with an app and two legacy skills, committed before Kavi."""
    root = tmp_path / "legacy"
    for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    for name in ("KAVI_AGENT", "CLAUDECODE", "GITHUB_HEAD_REF"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Dev")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "dev@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Dev")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "dev@example.com")
    files = {
        "app/main.py": "print('hello')\n",
        "skills/total.py": LEGACY_EVAL,
        "skills/shout.py": LEGACY_PLAIN,
        "README.md": "an app\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    assert git(root, "-c", "commit.gpgsign=false", "commit", "-qm", "legacy").returncode == 0
    monkeypatch.chdir(root)
    return root


def test_check_on_a_legacy_repository_reports_every_gate_and_exit_zero_passes(
    legacy: Path,
) -> None:
    assert run_kavi(["init"]).exit_code == 0
    result = run_kavi(["check", "--format", "json"])
    assert result.exit_code == 1
    found = {(f["rule"], f["path"]) for f in json.loads(result.stdout)["findings"]}
    assert ("KAV401", "skills/total.py") in found and ("KAV803", "skills/shout.py") in found
    zero = run_kavi(["check", "--exit-zero"])
    assert zero.exit_code == 0 and "KAV401" in zero.stdout


def test_statistics_count_findings_per_code(legacy: Path) -> None:
    run_kavi(["init"])
    result = run_kavi(["check", "--statistics"])
    lines = result.stdout.splitlines()
    assert result.exit_code == 1
    assert any(line.split()[:2] == ["2", "KAV803"] for line in lines), lines
    assert any(line.split()[:2] == ["1", "KAV401"] for line in lines), lines
    assert lines[-1].startswith("kavi: ")


def test_quiet_prints_finding_lines_only(legacy: Path) -> None:
    run_kavi(["init"])
    result = run_kavi(["check", "-q", "--gate", "policy"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        line for line in result.stdout.splitlines() if line.startswith("skills/")
    ]
    assert "kavi:" not in result.stdout


def test_select_and_ignore_on_the_command_line(legacy: Path) -> None:
    run_kavi(["init"])
    selected = run_kavi(["check", "--select", "KAV4", "--format", "json"])
    assert {f["rule"] for f in json.loads(selected.stdout)["findings"]} == {"KAV401"}
    ignored = run_kavi(["check", "--ignore", "KAV4,KAV6,KAV8", "--format", "json"])
    rules = {f["rule"] for f in json.loads(ignored.stdout)["findings"]}
    assert not rules & {"KAV401", "KAV601", "KAV605", "KAV803"}
    assert "ignored" in run_kavi(["check", "--ignore", "KAV4"]).stdout


def test_write_baseline_then_only_new_findings_fail(legacy: Path) -> None:
    run_kavi(["init"])
    written = run_kavi(["check", "--write-baseline", ".kavi/baseline.json"])
    assert written.exit_code == 0, written.output
    assert "wrote .kavi/baseline.json" in written.stderr
    assert run_kavi(["check", "--baseline", ".kavi/baseline.json"]).exit_code == 0
    (legacy / "skills" / "total.py").write_text("# a comment moves the code\n" + LEGACY_EVAL)
    moved = run_kavi(["check", "--baseline", ".kavi/baseline.json"])
    assert moved.exit_code == 0, moved.stdout
    (legacy / "skills" / "total.py").write_text(LEGACY_EVAL + "x = exec('1')\n")
    new = run_kavi(["check", "--baseline", ".kavi/baseline.json", "-q"])
    assert new.exit_code == 1 and new.stdout.count("\n") == 1 and "KAV401" in new.stdout


def test_init_then_check_flags_nothing_of_inits_own_output(legacy: Path) -> None:
    (legacy / "skills" / "total.py").unlink()
    (legacy / "skills" / "shout.py").unlink()
    assert run_kavi(["init"]).exit_code == 0
    result = run_kavi(["check", "--format", "json"])
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert [f["rule"] for f in report["findings"]] == ["KAV010"]  # no skills yet: a warning
    assert {g["gate"]: g["status"] for g in report["gates"]}["diff-allowlist"] == "skip"


@pytest.mark.parametrize("code", ["KAV010", "KAV401", "KAV605", "KAV701", "KAV801"])
def test_rules_documents_a_code_of_every_gate(legacy: Path, code: str) -> None:
    result = run_kavi(["rules", code])
    assert result.exit_code == 0 and result.stdout.startswith(code)
    assert len(result.stdout.splitlines()) > 3


def test_init_print_snippets_write_nothing(legacy: Path) -> None:
    listed = run_kavi(["init", "--print", "list"]).stdout.split()
    assert {"kavi.yaml", "pre-commit", "workflow"} <= set(listed)
    remote = run_kavi(
        ["init", "--print", "pre-commit", "--repo", "https://h.invalid/k", "--rev", "v1"]
    )
    assert "repo: https://h.invalid/k" in remote.stdout and "rev: v1" in remote.stdout
    assert "repo: local" in run_kavi(["init", "--print", "pre-commit"]).stdout
    assert not (legacy / "kavi.yaml").exists()


# --- the real tools -------------------------------------------------------------------------


def hook_env() -> dict[str, str]:
    """The environment of a person's shell with Kavi installed (its bin dir on PATH)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def commit(root: Path, message: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    git(root, "add", "-A", env=env)
    return git(root, "-c", "commit.gpgsign=false", "commit", "-m", message, env=env)


@pytest.mark.slow
def test_acceptance_adopt_commit_as_a_person_and_refuse_an_agent(legacy: Path) -> None:
    env = hook_env()
    assert run_kavi(["init"]).exit_code == 0
    # Adopt: accept the legacy findings in a baseline the config names.
    assert run_kavi(["check", "--write-baseline", ".kavi/baseline.json"]).exit_code == 0
    with (legacy / "kavi.yaml").open("a") as config:
        config.write("baseline: .kavi/baseline.json\n")
    assert run_kavi(["check"]).exit_code == 0
    installed = subprocess.run(
        [sys.executable, "-m", "pre_commit", "install"],
        cwd=legacy, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    adopted = commit(legacy, "adopt kavi", env)
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr

    # A person changes the app: every hook passes (diff-allowlist skips a person's change).
    (legacy / "app" / "main.py").write_text("print('hello, world')\n")
    human = commit(legacy, "app: greet the world", env)
    assert human.returncode == 0, human.stdout + human.stderr
    assert "kavi diff-allowlist" in human.stdout + human.stderr

    # An agent adds a skill that shells out: refused, nothing committed.
    agent_env = {**env, "KAVI_AGENT": "1"}
    (legacy / "skills" / "fetch.py").write_text(AGENT_SKILL)
    head = git(legacy, "rev-parse", "HEAD").stdout
    agent = commit(legacy, "agent: add fetch", agent_env)
    assert agent.returncode != 0
    said = agent.stdout + agent.stderr
    assert "skills/fetch.py" in said and "KAV1" in said
    assert git(legacy, "rev-parse", "HEAD").stdout == head
    git(legacy, "reset", "-q", env=env)
    (legacy / "skills" / "fetch.py").unlink()

    # An agent touching the app is outside the allowlist: refused by diff-allowlist.
    (legacy / "app" / "main.py").write_text("print('agent was here')\n")
    outside = commit(legacy, "agent: edit app", agent_env)
    assert outside.returncode != 0 and "KAV701" in outside.stdout + outside.stderr
    assert git(legacy, "rev-parse", "HEAD").stdout == head
