from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kavi_gates.changes import Change
from kavi_gates.config import DiffAllowlistConfig, KaviConfig, LoadedConfig
from kavi_gates.diff_allowlist import DiffAllowlistGate, check_changes
from kavi_gates.errors import EXIT_USAGE, UsageError
from kavi_gates.gate import GateContext, GateOutcome
from kavi_gates.models import Status
from kavi_gates.runner import run_gates

ALLOW = ("skills/*.py", "tests/skills/test_*.py")


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout


def write(root: Path, rel: str, text: str = "x = 1\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A committed repository: one skill, its test, a README outside the allowlist."""
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "test@example.com")
    git(tmp_path, "config", "user.name", "Test")
    git(tmp_path, "config", "commit.gpgsign", "false")
    write(tmp_path, "skills/echo.py")
    write(tmp_path, "tests/skills/test_echo.py")
    write(tmp_path, "README.md", "hello\n")
    write(tmp_path, ".gitignore", "*.log\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "init")
    return tmp_path


def check(root: Path, base: str | None = None, **settings: tuple[str, ...]) -> GateOutcome:
    # judge="all": these tests are about what the gate finds, not whose change it judges.
    config = KaviConfig(
        diff_allowlist=DiffAllowlistConfig(**{"allow": ALLOW, "judge": "all", **settings})
    )
    loaded = LoadedConfig(config=config, root=root, source="test")
    return DiffAllowlistGate().check(GateContext(loaded=loaded, files=(), base=base))


def rules(outcome: GateOutcome) -> list[tuple[str, str]]:
    return sorted((f.rule, f.path) for f in outcome.findings)


def test_clean_repository_passes(repo: Path) -> None:
    assert check(repo).findings == []


def test_staged_change_inside_the_allowlist_passes(repo: Path) -> None:
    write(repo, "skills/echo.py", "x = 2\n")
    git(repo, "add", "skills/echo.py")
    assert check(repo).findings == []


def test_staged_change_outside_the_allowlist_is_kav701(repo: Path) -> None:
    write(repo, "README.md", "changed\n")
    git(repo, "add", "README.md")
    assert rules(check(repo)) == [("KAV701", "README.md")]


def test_untracked_file_outside_the_allowlist_is_named(repo: Path) -> None:
    write(repo, "evil.py")
    (finding,) = check(repo).findings
    assert (finding.rule, finding.path) == ("KAV701", "evil.py")
    assert "evil.py" in finding.message


def test_ignored_untracked_file_is_not_a_change(repo: Path) -> None:
    write(repo, "debug.log")
    assert check(repo).findings == []


def test_deletion_outside_the_allowlist_counts(repo: Path) -> None:
    git(repo, "rm", "-q", "README.md")
    assert rules(check(repo)) == [("KAV701", "README.md")]


def test_unstaged_edit_outside_the_allowlist_counts(repo: Path) -> None:
    write(repo, "README.md", "edited, not staged\n")
    assert rules(check(repo)) == [("KAV701", "README.md")]


def test_rename_from_allowed_to_forbidden_path_is_refused(repo: Path) -> None:
    git(repo, "mv", "skills/echo.py", "echo_escaped.py")
    (finding,) = check(repo).findings
    assert (finding.rule, finding.path) == ("KAV701", "echo_escaped.py")
    assert "renamed skills/echo.py -> echo_escaped.py" in finding.message


def test_rename_from_forbidden_to_allowed_path_counts_the_old_side(repo: Path) -> None:
    git(repo, "mv", "README.md", "skills/readme.py")
    assert rules(check(repo)) == [("KAV701", "README.md")]


def test_symlink_inside_allowed_dir_pointing_at_etc_passwd_is_refused(repo: Path) -> None:
    os.symlink("/etc/passwd", repo / "skills" / "passwd.py")
    assert rules(check(repo)) == [("KAV703", "skills/passwd.py")]


def test_staged_symlink_is_refused_by_its_git_mode(repo: Path) -> None:
    os.symlink("echo.py", repo / "skills" / "alias.py")
    git(repo, "add", "skills/alias.py")
    assert rules(check(repo)) == [("KAV703", "skills/alias.py")]


def test_nested_repository_is_refused_as_a_submodule_change(repo: Path) -> None:
    nested = repo / "skills" / "vendored"
    nested.mkdir()
    git(nested, "init", "-q")
    write(nested, "x.py")
    git(nested, "add", "x.py")
    git(nested, "-c", "user.email=a@b", "-c", "user.name=n", "commit", "-qm", "x")
    assert ("KAV705", "skills/vendored") in rules(check(repo))


def test_file_turned_executable_is_refused(repo: Path) -> None:
    (repo / "skills" / "echo.py").chmod(0o755)
    git(repo, "add", "skills/echo.py")
    assert rules(check(repo)) == [("KAV706", "skills/echo.py")]


def test_new_executable_file_is_refused(repo: Path) -> None:
    write(repo, "skills/run.py").chmod(0o755)
    assert rules(check(repo)) == [("KAV706", "skills/run.py")]


def test_required_glob_not_touched_is_kav702(repo: Path) -> None:
    write(repo, "skills/echo.py", "x = 3\n")
    outcome = check(repo, require=("tests/skills/test_*.py",))
    assert rules(outcome) == [("KAV702", "tests/skills/test_*.py")]


def test_required_glob_touched_passes(repo: Path) -> None:
    write(repo, "tests/skills/test_echo.py", "y = 1\n")
    assert check(repo, require=("tests/skills/test_*.py",)).findings == []


def test_allow_glob_that_matched_nothing_is_a_note(repo: Path) -> None:
    write(repo, "skills/echo.py", "x = 4\n")
    outcome = check(repo)
    assert "allow glob 'tests/skills/test_*.py' matched no changed path" in outcome.notes


def test_repository_without_commits_counts_everything_staged(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    write(tmp_path, "skills/new.py")
    write(tmp_path, "setup.py")
    git(tmp_path, "add", "-A")
    assert rules(check(tmp_path)) == [("KAV701", "setup.py")]


def test_base_ref_sees_committed_changes_since_the_ref(repo: Path) -> None:
    write(repo, "README.md", "committed later\n")
    git(repo, "commit", "-qam", "later")
    assert rules(check(repo, base="HEAD~1")) == [("KAV701", "README.md")]


def test_base_ref_also_counts_untracked_files(repo: Path) -> None:
    write(repo, "notes.txt")
    assert rules(check(repo, base="HEAD")) == [("KAV701", "notes.txt")]


def test_unknown_ref_is_a_usage_error(repo: Path) -> None:
    with pytest.raises(UsageError, match="unknown git ref 'no-such-ref'") as caught:
        check(repo, base="no-such-ref")
    assert caught.value.exit_code == EXIT_USAGE


def test_not_a_git_repository_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not inside a git repository") as caught:
        check(tmp_path)
    assert caught.value.exit_code == EXIT_USAGE


def test_project_in_a_subdirectory_sees_only_its_own_paths(repo: Path) -> None:
    project = repo / "sub"
    write(project, "skills/a.py")
    write(repo, "outside.txt")
    assert check(project).findings == []


@pytest.fixture
def sandbox(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A baseline copy of the repository and a sandbox copy an agent may edit."""
    base = tmp_path_factory.mktemp("baseline")
    shutil.copytree(repo, base, dirs_exist_ok=True, symlinks=True)
    work = tmp_path_factory.mktemp("sandbox")
    shutil.copytree(repo, work, dirs_exist_ok=True, symlinks=True)
    return base, work


def test_directory_baseline_with_allowed_edit_passes(sandbox: tuple[Path, Path]) -> None:
    base, work = sandbox
    write(work, "skills/echo.py", "x = 5\n")
    assert check(work, base=f"dir:{base}").findings == []


def test_directory_baseline_counts_added_files_outside_the_allowlist(
    sandbox: tuple[Path, Path],
) -> None:
    base, work = sandbox
    write(work, "pyproject.toml")
    assert rules(check(work, base=f"dir:{base}")) == [("KAV701", "pyproject.toml")]


def test_directory_baseline_counts_deletions(sandbox: tuple[Path, Path]) -> None:
    base, work = sandbox
    (work / "README.md").unlink()
    assert rules(check(work, base=f"dir:{base}")) == [("KAV701", "README.md")]


def test_directory_baseline_refuses_symlinked_directory(sandbox: tuple[Path, Path]) -> None:
    base, work = sandbox
    os.symlink("/etc", work / "skills" / "etc.py")
    assert rules(check(work, base=f"dir:{base}")) == [("KAV703", "skills/etc.py")]


def test_directory_baseline_refuses_mode_change_to_executable(sandbox: tuple[Path, Path]) -> None:
    base, work = sandbox
    (work / "skills" / "echo.py").chmod(0o755)
    assert rules(check(work, base=f"dir:{base}")) == [("KAV706", "skills/echo.py")]


def test_missing_directory_baseline_is_a_usage_error(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="baseline directory does not exist"):
        check(repo, base=f"dir:{tmp_path / 'missing'}")


def test_absolute_and_parent_paths_are_kav704(tmp_path: Path) -> None:
    changes = [Change("added", "/etc/passwd"), Change("added", "skills/../../x.py")]
    findings, _ = check_changes(changes, DiffAllowlistConfig(allow=("**",)), tmp_path)
    assert sorted(f.rule for f in findings) == ["KAV704", "KAV704"]


def test_run_gates_reports_the_diff_allowlist_failure(repo: Path) -> None:
    write(repo, "evil.py")
    config = KaviConfig(diff_allowlist=DiffAllowlistConfig(judge="all"))
    loaded = LoadedConfig(config=config, root=repo, source="test")
    report = run_gates(loaded, only=["diff-allowlist"])
    (result,) = report.results
    assert result.status is Status.FAIL
    assert [(f.rule, f.path) for f in report.findings] == [("KAV701", "evil.py")]
    assert report.exit_code == 1
