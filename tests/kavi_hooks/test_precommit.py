"""Kavi's pre-commit hooks: the manifest, the file-gate entry point and real `pre-commit`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from real_pre_commit import run_hook

from kavi_gates.errors import EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE
from kavi_hooks import precommit

REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / ".pre-commit-hooks.yaml"
FILE_GATES = {"kavi-policy": "policy", "kavi-invariants": "invariants"}
STAGED_FILE_GATES = {"kavi-hash-pin": "hash-pin"}  # any staged file: the registry is YAML
REPO_GATES = {
    "kavi-diff-allowlist": "diff-allowlist",
    "kavi-verify": None,
}
BAD = 'import os\nx = eval("1 + 1")\n'


def hooks() -> dict[str, dict[str, object]]:
    return {h["id"]: h for h in yaml.safe_load(MANIFEST.read_text())}


def make_repo(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    identity = ["-c", "user.email=t@example.com", "-c", "user.name=T", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", *identity, "commit", "-qm", "init"], cwd=root, check=True)
    return root


def test_manifest_is_valid_for_pre_commit() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", str(MANIFEST)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_manifest_has_one_hook_per_gate_plus_verify() -> None:
    assert set(hooks()) == set(FILE_GATES) | set(STAGED_FILE_GATES) | set(REPO_GATES)


def test_file_gate_hooks_take_python_files_serially() -> None:
    for hook_id, gate in FILE_GATES.items():
        hook = hooks()[hook_id]
        assert hook["types"] == ["python"] and hook["require_serial"] is True
        assert str(hook["entry"]).endswith(f"--gate {gate}")


def test_hash_pin_hook_takes_every_staged_file_serially() -> None:
    hook = hooks()["kavi-hash-pin"]
    assert "types" not in hook and hook.get("pass_filenames", True) is True
    assert hook["require_serial"] is True and str(hook["entry"]).endswith("--gate hash-pin")


def test_whole_repo_hooks_always_run_without_filenames() -> None:
    for hook_id in REPO_GATES:
        hook = hooks()[hook_id]
        assert hook["pass_filenames"] is False and hook["always_run"] is True
        assert hook["language"] == "python" and "minimum_pre_commit_version" in hook


def test_unknown_gate_fails_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(make_repo(tmp_path, {"skills/ok.py": "x = 1\n"}))
    assert precommit.main(["--gate", "not-built-yet", "skills/ok.py"]) == EXIT_USAGE
    assert "unknown gate 'not-built-yet'" in capsys.readouterr().err


def test_file_hook_reports_a_governed_violation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(make_repo(tmp_path, {"skills/bad.py": BAD}))
    assert precommit.main(["--gate", "policy", "skills/bad.py"]) == EXIT_FINDINGS
    assert "skills/bad.py:2:5: KAV401 " in capsys.readouterr().out


def test_file_hook_ignores_staged_files_the_config_does_not_govern(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(make_repo(tmp_path, {"skills/ok.py": "x = 1\n", "tools/build.py": BAD}))
    assert precommit.main(["--gate", "policy", "tools/build.py", "skills/ok.py"]) == EXIT_CLEAN
    assert "KAV401" not in capsys.readouterr().out


def test_file_hook_without_governed_files_checks_none(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Issue 12: a person's commit to tools/build.py must not fail on skills/bad.py.
    monkeypatch.chdir(make_repo(tmp_path, {"skills/bad.py": BAD, "tools/build.py": "x = 1\n"}))
    assert precommit.main(["--gate", "policy", "tools/build.py"]) == EXIT_CLEAN
    assert "KAV401" not in capsys.readouterr().out


# --- the real pre-commit, installing Kavi from this repository ---------------------------


@pytest.fixture
def pre_commit_env(
    pre_commit_home: Path, offline_pip: dict[str, str], tmp_path: Path
) -> dict[str, str]:
    """The session's pre-commit home (the hook environment is built once, offline) and a
    fresh result cache for the hook."""
    env = {**os.environ, **offline_pip}
    env["PRE_COMMIT_HOME"] = str(pre_commit_home)
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")
    return env


@pytest.mark.slow
def test_pre_commit_policy_fails_on_eval_and_names_the_rule(
    tmp_path: Path,
    pre_commit_env: dict[str, str],
) -> None:
    root = make_repo(
        tmp_path / "repo", {"kavi.yaml": 'include: ["skills/**/*.py"]\n', "skills/bad.py": BAD}
    )
    done = run_hook(root, "kavi-policy", pre_commit_env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "skills/bad.py:2:5: KAV401 " in done.stdout


@pytest.mark.slow
def test_pre_commit_policy_passes_once_the_violation_is_gone(
    tmp_path: Path,
    pre_commit_env: dict[str, str],
) -> None:
    root = make_repo(
        tmp_path / "repo",
        {
            "kavi.yaml": 'include: ["skills/**/*.py"]\n',
            "skills/bad.py": BAD,
            "skills/ok.py": "x = 1\n",
        },
    )
    subprocess.run(["git", "rm", "-q", "skills/bad.py"], cwd=root, check=True)
    done = run_hook(root, "kavi-policy", pre_commit_env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "kavi policy" in done.stdout and "Passed" in done.stdout
