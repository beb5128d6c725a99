"""The GitHub Actions workflows are valid against GitHub's workflow schema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
TEMPLATE = REPO / "kavi_hooks" / "templates" / "kavi-workflow.yml"


def check_jsonschema(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    # The builtin schemas are vendored in check-jsonschema: no network involved.
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def steps(path: Path) -> list[dict[str, object]]:
    jobs = yaml.safe_load(path.read_text())["jobs"]
    return [step for job in jobs.values() for step in job["steps"]]


def test_there_are_workflows() -> None:
    assert [p.name for p in WORKFLOWS] == ["ci.yml"]


@pytest.mark.parametrize("path", [*WORKFLOWS, TEMPLATE], ids=lambda p: p.name)
def test_workflow_matches_the_github_schema(path: Path) -> None:
    done = check_jsonschema("vendor.github-workflows", path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_invalid_workflow_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    assert check_jsonschema("vendor.github-workflows", bad).returncode == 1


@pytest.mark.parametrize(
    "path", [REPO / ".github/workflows/ci.yml", TEMPLATE], ids=lambda p: p.name
)
def test_workflow_uploads_sarif_and_annotates(path: Path) -> None:
    runs = " ".join(str(s.get("run", "")) for s in steps(path))
    assert "--format sarif --output kavi.sarif" in runs and "--format github" in runs
    assert any(
        str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif") for s in steps(path)
    )


def test_ci_runs_the_test_suite_with_dev_extras() -> None:
    runs = [str(s.get("run", "")) for s in steps(REPO / ".github/workflows/ci.yml")]
    assert "python -m pip install -e '.[dev]'" in runs
    assert any(r.startswith("pytest") and "-m" not in r.split() for r in runs)


def test_repo_pre_commit_config_is_valid_and_uses_its_own_hooks() -> None:
    config = REPO / ".pre-commit-config.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout
    (local,) = yaml.safe_load(config.read_text())["repos"]
    assert local["repo"] == "local"
    assert {h["id"] for h in local["hooks"]} >= {"kavi-policy", "kavi-invariants"}


def test_composite_action_matches_the_github_actions_schema() -> None:
    done = check_jsonschema("vendor.github-actions", REPO / "action.yml")
    assert done.returncode == 0, done.stdout + done.stderr
