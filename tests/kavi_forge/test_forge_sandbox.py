"""Sandboxes: what the copy leaves out, and the safe copy-back."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from kavi_forge.errors import ForgeError
from kavi_forge.sandbox import Sandbox, copy_back, copy_tree, create_sandbox


def tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize(
    "rel",
    [
        ".git/config",
        ".venv/lib/x.py",
        "env/pyvenv.cfg",
        ".env",
        ".env.local",
        "server.pem",
        "id.key",
        "ledger.db",
        "data.sqlite3",
        "__pycache__/m.pyc",
        ".mypy_cache/x.json",
        ".ruff_cache/y",
        ".pytest_cache/z",
        "credentials.json",
        "pkg.egg-info/PKG-INFO",
    ],
)
def test_copy_leaves_out_secrets_vcs_venvs_databases_and_caches(tmp_path: Path, rel: str) -> None:
    source = tree(tmp_path / "src", {rel: "x", "skills/keep.py": "y"})
    copy_tree(source, tmp_path / "dst")
    assert (tmp_path / "dst/skills/keep.py").is_file()
    assert not (tmp_path / "dst" / rel).exists()


def test_copy_never_follows_or_copies_symlinks(tmp_path: Path) -> None:
    outside = tree(tmp_path / "outside", {"secret.txt": "s"})
    source = tree(tmp_path / "src", {"a.py": "a"})
    os.symlink(outside, source / "linked_dir")
    os.symlink(outside / "secret.txt", source / "linked_file")
    skipped = copy_tree(source, tmp_path / "dst")
    assert sorted(os.listdir(tmp_path / "dst")) == ["a.py"]
    assert len(skipped) == 2


def test_copy_leaves_out_kavi_storage_inside_the_repo(tmp_path: Path) -> None:
    source = tree(tmp_path / "src", {"a.py": "a", ".kavi/vault/n.md": "n"})
    copy_tree(source, tmp_path / "dst", [source / ".kavi"])
    assert not (tmp_path / "dst/.kavi").exists()


def test_a_sandbox_has_a_git_baseline_and_an_identical_baseline_copy(tmp_path: Path) -> None:
    source = tree(tmp_path / "src", {"skills/a.py": "a"})
    sandbox = create_sandbox(source, prefix="test")
    try:
        assert (sandbox.repo / ".git").is_dir()
        assert (sandbox.baseline / "skills/a.py").read_text() == "a"
    finally:
        sandbox.remove()
    assert not sandbox.path.exists()


def test_a_sandbox_of_a_git_worktree_never_touches_the_real_repository(tmp_path: Path) -> None:
    # A linked worktree (or a submodule) has a `.git` *file* naming the real git dir: copied
    # into the sandbox, the baseline commit landed on the real branch.
    main = tree(tmp_path / "main", {"skills/a.py": "a"})

    def git(cwd: Path, *args: str) -> str:
        done = subprocess.run(
            ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    git(main, "init", "-q", "-b", "main")
    git(main, "add", "-A")
    git(main, "commit", "-qm", "init")
    git(main, "worktree", "add", "-q", "-b", "feature", str(tmp_path / "wt"))
    worktree = tmp_path / "wt"
    (worktree / "skills/b.py").write_text("uncommitted")
    heads = (git(worktree, "rev-parse", "HEAD"), git(main, "rev-parse", "main"))
    sandbox = create_sandbox(worktree, prefix="test")
    try:
        assert (sandbox.repo / ".git").is_dir()
        assert (sandbox.repo / "skills/b.py").read_text() == "uncommitted"
    finally:
        sandbox.remove()
    assert (git(worktree, "rev-parse", "HEAD"), git(main, "rev-parse", "main")) == heads
    assert git(worktree, "status", "--porcelain") == "?? skills/b.py"


@pytest.fixture
def built(tmp_path: Path) -> tuple[Sandbox, Path]:
    root = tree(tmp_path / "root", {"skills/old.py": "old", "skills/gone.py": "gone"})
    sandbox = create_sandbox(root, prefix="test")
    (sandbox.repo / "skills/new.py").write_text("new")
    (sandbox.repo / "skills/gone.py").unlink()
    yield sandbox, root
    sandbox.remove()


def test_copy_back_writes_additions_and_handles_deletions(built: tuple[Sandbox, Path]) -> None:
    sandbox, root = built
    copied = copy_back(sandbox, root, ["skills/new.py", "skills/gone.py"])
    assert copied == ["skills/gone.py", "skills/new.py"]
    assert (root / "skills/new.py").read_text() == "new"
    assert not (root / "skills/gone.py").exists()


@pytest.mark.parametrize("rel", ["../escape.py", "/abs.py", "skills/./x.py", "a\\b.py"])
def test_copy_back_refuses_unsafe_paths(built: tuple[Sandbox, Path], rel: str) -> None:
    sandbox, root = built
    with pytest.raises(ForgeError, match="unsafe path"):
        copy_back(sandbox, root, [rel])


def test_copy_back_refuses_a_symlink_in_the_sandbox(built: tuple[Sandbox, Path]) -> None:
    sandbox, root = built
    os.symlink("/etc/passwd", sandbox.repo / "skills/link.py")
    with pytest.raises(ForgeError, match="symlink"):
        copy_back(sandbox, root, ["skills/link.py"])


def test_copy_back_refuses_a_symlinked_parent_in_the_repo(
    built: tuple[Sandbox, Path], tmp_path: Path
) -> None:
    sandbox, root = built
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", root / "linked")
    (sandbox.repo / "linked").mkdir()
    (sandbox.repo / "linked/x.py").write_text("x")
    with pytest.raises(ForgeError, match="symlink"):
        copy_back(sandbox, root, ["linked/x.py"])
    assert not (tmp_path / "elsewhere/x.py").exists()


def test_copy_back_refuses_a_file_the_repo_changed_during_the_build(
    built: tuple[Sandbox, Path],
) -> None:
    sandbox, root = built
    (sandbox.repo / "skills/old.py").write_text("from the agent")
    (root / "skills/old.py").write_text("edited meanwhile")
    with pytest.raises(ForgeError, match="changed in the repository"):
        copy_back(sandbox, root, ["skills/old.py", "skills/new.py"])
    assert not (root / "skills/new.py").exists()  # all checked before the first write
