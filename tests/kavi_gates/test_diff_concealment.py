"""The diff allowlist sees what git's view hides (issue 11 item 4), with real git.

Each attack edits a governed path or Kavi's own config and then hides the edit from git the
way a local user (or an agent with a shell) could: index flags, ``.git/info/exclude``,
``core.excludesFile``, the global ignore file, an untracked self-ignoring ``.gitignore``, a
local clean filter, ``core.fileMode=false``. The change must still be judged, and the
concealment itself must be a finding where it touches a protected path.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kavi_gates.config import DiffAllowlistConfig, KaviConfig, LoadedConfig
from kavi_gates.diff_allowlist import DiffAllowlistGate
from kavi_gates.gate import GateContext, GateOutcome
from kavi_gates.runner import run_gates

ALLOW = ("skills/*.py", "tests/skills/test_*.py")
LOOSE = "policy:\n  process: allow\n  network: allow\n"


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout


def write(root: Path, rel: str, text: str = "x = 1\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture(autouse=True)
def private_git_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME of our own: the user's global git config and ignores never leak in."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    return home


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "test@example.com")
    git(root, "config", "user.name", "Test")
    git(root, "config", "commit.gpgsign", "false")
    write(root, "kavi.yaml", "policy:\n  process: deny\n")
    write(root, "skills/echo.py")
    write(root, "tests/skills/test_echo.py")
    write(root, "README.md", "hello\n")
    write(root, ".gitignore", "*.log\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    return root


def check(root: Path, base: str | None = None, judge: str = "all") -> GateOutcome:
    # judge="all": these tests are about what the gate sees, not whose change it judges.
    config = KaviConfig(diff_allowlist=DiffAllowlistConfig(allow=ALLOW, judge=judge))
    loaded = LoadedConfig(config=config, root=root, source=str(root / "kavi.yaml"))
    return DiffAllowlistGate().check(GateContext(loaded=loaded, files=(), base=base))


def rules(outcome: GateOutcome) -> list[tuple[str, str]]:
    return sorted((f.rule, f.path) for f in outcome.findings)


def test_git_itself_is_blind_to_a_skip_worktree_edit(repo: Path) -> None:
    """The control: after the flag, git status and git diff report nothing."""
    git(repo, "update-index", "--skip-worktree", "kavi.yaml")
    write(repo, "kavi.yaml", LOOSE)
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "diff", "HEAD", "--name-only") == ""


@pytest.mark.parametrize("base", [None, "HEAD"], ids=["index", "base-ref"])
def test_skip_worktree_on_kavi_yaml_cannot_hide_its_edit(repo: Path, base: str | None) -> None:
    git(repo, "update-index", "--skip-worktree", "kavi.yaml")
    write(repo, "kavi.yaml", LOOSE)
    assert rules(check(repo, base)) == [("KAV701", "kavi.yaml"), ("KAV707", "kavi.yaml")]


def test_assume_unchanged_on_kavi_yaml_cannot_hide_its_edit(repo: Path) -> None:
    git(repo, "update-index", "--assume-unchanged", "kavi.yaml")
    write(repo, "kavi.yaml", LOOSE)
    outcome = check(repo)
    assert rules(outcome) == [("KAV701", "kavi.yaml"), ("KAV707", "kavi.yaml")]
    flag = next(f for f in outcome.findings if f.rule == "KAV707")
    assert "assume-unchanged" in flag.message


def test_a_flag_on_a_protected_path_is_a_finding_even_without_an_edit(repo: Path) -> None:
    git(repo, "update-index", "--skip-worktree", "skills/echo.py")
    assert rules(check(repo)) == [("KAV707", "skills/echo.py")]


def test_a_flagged_edit_outside_the_protected_set_is_still_judged(repo: Path) -> None:
    git(repo, "update-index", "--assume-unchanged", "README.md")
    write(repo, "README.md", "edited behind a flag\n")
    assert rules(check(repo)) == [("KAV701", "README.md")]  # counted; the flag is not KAV707


def test_a_sparse_checkout_of_an_unprotected_path_is_not_a_change(repo: Path) -> None:
    git(repo, "update-index", "--skip-worktree", "README.md")
    (repo / "README.md").unlink()
    assert rules(check(repo)) == []


def test_a_new_governed_file_in_info_exclude_is_counted_and_named(repo: Path) -> None:
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "exclude").write_text("skills/sub/\n")
    write(repo, "skills/sub/evil.py", "import subprocess\n")
    assert git(repo, "status", "--porcelain") == ""  # git hides it
    outcome = check(repo)
    assert rules(outcome) == [("KAV701", "skills/sub/evil.py"), ("KAV708", "skills/sub/evil.py")]
    hidden = next(f for f in outcome.findings if f.rule == "KAV708")
    assert ".git/info/exclude" in hidden.message


def test_a_new_config_file_in_info_exclude_is_counted(repo: Path) -> None:
    (repo / ".git" / "info" / "exclude").write_text(".pre-commit-config.yaml\n")
    write(repo, ".pre-commit-config.yaml", "repos: []\n")
    assert rules(check(repo)) == [
        ("KAV701", ".pre-commit-config.yaml"),
        ("KAV708", ".pre-commit-config.yaml"),
    ]


def test_core_excludes_file_cannot_hide_a_new_governed_file(repo: Path, tmp_path: Path) -> None:
    excludes = write(tmp_path, "my-excludes", "*.py\n")
    git(repo, "config", "core.excludesFile", str(excludes))
    write(repo, "skills/sub/new.py")
    outcome = check(repo)
    assert rules(outcome) == [("KAV701", "skills/sub/new.py"), ("KAV708", "skills/sub/new.py")]
    assert str(excludes) in next(f.message for f in outcome.findings if f.rule == "KAV708")


def test_the_global_ignore_file_cannot_hide_a_new_governed_file(
    repo: Path, private_git_config: Path
) -> None:
    write(private_git_config, ".config/git/ignore", "skills/sub/\n")
    write(repo, "skills/sub/new.py")
    assert git(repo, "status", "--porcelain") == ""
    assert rules(check(repo)) == [
        ("KAV701", "skills/sub/new.py"),
        ("KAV708", "skills/sub/new.py"),
    ]


def test_an_untracked_gitignore_that_ignores_itself_cannot_hide_a_skill(repo: Path) -> None:
    write(repo, "skills/sub/.gitignore", "*\n")
    write(repo, "skills/sub/evil.py")
    assert git(repo, "status", "--porcelain") == ""
    assert rules(check(repo)) == [
        ("KAV701", "skills/sub/evil.py"),
        ("KAV708", "skills/sub/evil.py"),
    ]


def test_a_governed_file_ignored_by_the_tracked_gitignore_is_counted_but_not_named(
    repo: Path,
) -> None:
    write(repo, ".gitignore", "*.log\nskills/gen/\n")
    git(repo, "commit", "-qam", "ignore generated skills")
    write(repo, "skills/gen/made.py")
    assert rules(check(repo)) == [("KAV701", "skills/gen/made.py")]


def test_a_local_clean_filter_cannot_hide_an_edit_to_kavi_yaml(repo: Path) -> None:
    (repo / ".git" / "info" / "attributes").write_text("kavi.yaml filter=hide\n")
    git(repo, "config", "filter.hide.clean", "git show HEAD:kavi.yaml")
    write(repo, "kavi.yaml", LOOSE)
    git(repo, "add", "kavi.yaml")
    assert git(repo, "status", "--porcelain") == ""  # git's view: nothing changed
    assert rules(check(repo)) == [("KAV701", "kavi.yaml")]


def test_core_filemode_false_cannot_hide_a_skill_turned_executable(repo: Path) -> None:
    git(repo, "config", "core.fileMode", "false")
    (repo / "skills" / "echo.py").chmod(0o755)
    assert git(repo, "status", "--porcelain") == ""
    assert rules(check(repo)) == [("KAV706", "skills/echo.py")]


def test_a_crlf_checkout_of_a_protected_file_is_not_a_change(repo: Path) -> None:
    git(repo, "config", "core.autocrlf", "true")
    (repo / "kavi.yaml").write_bytes(b"policy:\r\n  process: deny\r\n")
    assert rules(check(repo)) == []


def test_a_project_in_a_subdirectory_is_protected_too(tmp_path: Path) -> None:
    top = tmp_path / "mono"
    root = top / "svc"
    root.mkdir(parents=True)
    git(top, "init", "-q", "-b", "main")
    write(root, "kavi.yaml", "policy: {}\n")
    write(top, "other/kavi.yaml", "policy: {}\n")
    git(top, "add", "-A")
    git(top, "-c", "user.email=a@b", "-c", "user.name=n", "commit", "-qm", "init")
    git(top, "update-index", "--skip-worktree", "svc/kavi.yaml", "other/kavi.yaml")
    write(root, "kavi.yaml", LOOSE)
    write(top, "other/kavi.yaml", LOOSE)  # outside the project: not this gate's business
    assert rules(check(root)) == [("KAV701", "kavi.yaml"), ("KAV707", "kavi.yaml")]


def test_kavi_check_exits_1_on_a_hidden_config_edit(repo: Path) -> None:
    git(repo, "update-index", "--skip-worktree", "kavi.yaml")
    write(repo, "kavi.yaml", LOOSE)
    config = KaviConfig(diff_allowlist=DiffAllowlistConfig(judge="all"))
    loaded = LoadedConfig(config=config, root=repo, source=str(repo / "kavi.yaml"))
    report = run_gates(loaded, only=["diff-allowlist"])
    assert report.exit_code == 1
    assert {f.rule for f in report.findings} == {"KAV701", "KAV707"}


def test_a_persons_change_is_not_judged_but_a_hidden_config_still_is_a_finding(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("KAVI_AGENT", "CLAUDECODE", "GITHUB_HEAD_REF"):
        monkeypatch.delenv(variable, raising=False)
    write(repo, "README.md", "a person's edit\n")
    assert rules(check(repo, judge="agents")) == []  # not an agent's change: not judged
    git(repo, "update-index", "--skip-worktree", "kavi.yaml")
    write(repo, "kavi.yaml", LOOSE)
    assert rules(check(repo, judge="agents")) == [("KAV707", "kavi.yaml")]
