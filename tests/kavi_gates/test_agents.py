"""The diff-allowlist judges agents' changes (issue 12): a person's commit is not judged, an
agent's is, whether recognised by environment, branch or author; the forge always is."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kavi_gates.agents import agent_reason, matches_author
from kavi_gates.config import AgentsConfig, load_config
from kavi_gates.errors import UsageError
from kavi_gates.models import Status
from kavi_gates.runner import run_gates

PERSON = ["-c", "user.email=dev@example.com", "-c", "user.name=Dev"]


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *PERSON, *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("KAVI_AGENT", "CLAUDECODE", "GITHUB_HEAD_REF"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Dev")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "dev@example.com")
    (tmp_path / "kavi.yaml").write_text('include: ["skills/**/*.py"]\n')
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("print('hi')\n")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "init")
    (tmp_path / "app" / "main.py").write_text("print('hello')\n")  # outside the allowlist
    git(tmp_path, "add", "-A")
    return tmp_path


def diff_gate(root: Path, base: str | None = None) -> tuple[Status, list[str], tuple[str, ...]]:
    report = run_gates(load_config(start=root), only=["diff-allowlist"], base=base)
    (result,) = report.results
    return result.status, [f.rule for f in result.findings], result.notes


def test_a_persons_change_outside_the_allowlist_is_not_judged(repo: Path) -> None:
    status, found, notes = diff_gate(repo)
    assert status is Status.SKIP and found == []
    assert "not an agent's change" in notes[0] and "dev@example.com" in notes[0]


@pytest.mark.parametrize("variable", ["KAVI_AGENT", "CLAUDECODE"])
def test_an_agent_harness_environment_marks_the_change(
    repo: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "1")
    status, found, notes = diff_gate(repo)
    assert status is Status.FAIL and found == ["KAV701"] and variable in notes[0]


def test_an_agent_branch_marks_the_change(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "claude/fix-typo")
    assert diff_gate(repo)[:2] == (Status.FAIL, ["KAV701"])


def test_the_pull_request_branch_in_ci_marks_the_change(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_HEAD_REF", "agent/refactor")
    assert diff_gate(repo)[:2] == (Status.FAIL, ["KAV701"])


def test_a_bot_author_marks_the_change(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_AUTHOR_NAME", "helper[bot]")
    assert diff_gate(repo)[:2] == (Status.FAIL, ["KAV701"])


def test_a_base_range_with_one_agent_commit_is_judged(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    subprocess.run(
        ["git", "-c", "user.email=41898282+claude[bot]@users.noreply.github.com",
         "-c", "user.name=claude[bot]", "commit", "-qm", "agent"],
        cwd=repo, check=True, env={**__import__("os").environ, "GIT_AUTHOR_NAME": "claude[bot]"},
    )  # fmt: skip
    status, found, _ = diff_gate(repo, base=base)
    assert status is Status.FAIL and found == ["KAV701"]


def test_judge_all_judges_a_persons_change(repo: Path) -> None:
    (repo / "kavi.yaml").write_text('include: ["skills/**/*.py"]\ndiff_allowlist: {judge: all}\n')
    status, found, _ = diff_gate(repo)
    assert status is Status.FAIL and "KAV701" in found


def test_an_unknown_base_ref_is_a_usage_error_even_for_a_person(repo: Path) -> None:
    with pytest.raises(UsageError, match="unknown git ref"):
        diff_gate(repo, base="no-such-ref")


def test_the_forge_sandbox_baseline_is_always_judged(repo: Path, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline"
    baseline.mkdir()
    (baseline / "kavi.yaml").write_text((repo / "kavi.yaml").read_text())
    status, found, _ = diff_gate(repo, base=f"dir:{baseline}")
    assert status is Status.FAIL and "KAV701" in found


def test_author_patterns_treat_brackets_literally() -> None:
    assert matches_author("renovate[bot] <bot@example.com>", ["*[bot]*"])
    assert not matches_author("bob <b@example.com>", ["*[bot]*"])


def test_nothing_marks_a_plain_person(repo: Path) -> None:
    assert agent_reason(repo, None, AgentsConfig(), env={}) is None
