"""The one home of path rules: globs, relative paths, the safe-path predicate, atomic writes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kavi_gates.paths import (
    UnsafePath,
    atomic_write,
    check_relative,
    is_safe_relative,
    match_glob,
    relpath,
    xdg_base,
)


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("skills/a.py", "skills/*.py", True),
        ("skills/sub/a.py", "skills/*.py", False),  # * never crosses a directory
        ("skills/sub/a.py", "skills/**/*.py", True),
        ("skills/a.py", "skills/**/*.py", True),  # **/ matches zero directories too
        ("a/b/c.txt", "**", True),
        ("skills/a.py", "skills/?.py", True),
        ("skills/ab.py", "skills/?.py", False),
        ("skills/a.py", "skills/[ab].py", True),
        ("skills/c.py", "skills/[!ab].py", True),
        ("skills/a.py", "skills/[!ab].py", False),
        ("skills/a.py", "skills/", True),  # a trailing slash names a directory
        ("skills", "skills/", True),
        ("skillsx/a.py", "skills/", False),
        ("skills/a.py", "skills/a.py", True),
        ("skills/a.pyc", "skills/*.py", False),  # anchored at the end
        ("x/skills/a.py", "skills/*.py", False),  # anchored at the start
        ("skills/a[1].py", "skills/a[1.py", False),  # an unclosed [ is a literal
        ("skills/a[1.py", "skills/a[1.py", True),
        ("a.b", "a.b", True),
        ("axb", "a.b", False),  # regex characters are literals
    ],
)
def test_globs_match_like_gitignore(path: str, pattern: str, expected: bool) -> None:
    assert match_glob(path, pattern) is expected


def test_relpath_is_posix_and_keeps_symlinks_as_named(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert relpath(tmp_path / "link" / "a.py", tmp_path) == "link/a.py"
    assert relpath(Path("/elsewhere/x.py"), tmp_path) == "/elsewhere/x.py"


def test_relpath_matches_whole_components_only(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "ab").mkdir()
    # "ab/x.py" starts with the text of root "a" but is not under it
    assert relpath(tmp_path / "ab" / "x.py", tmp_path / "a") == f"{tmp_path.as_posix()}/ab/x.py"
    assert relpath(tmp_path / "a" / ".." / "ab" / "x.py", tmp_path) == "ab/x.py"
    assert relpath(tmp_path / "a", tmp_path / "a") == "."
    assert relpath(Path("/etc/hosts"), Path("/")) == "etc/hosts"


def test_relpath_finds_paths_under_a_root_named_through_a_link(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    assert relpath(tmp_path / "real" / "a.py", tmp_path / "alias") == "a.py"


@pytest.mark.parametrize(
    "unsafe",
    [
        "",
        "/etc/passwd",
        "../outside",
        "a/../../outside",
        "a/..",
        "..",
        "~/.ssh/id_rsa",
        "~root/x",
        "a\\..\\b",
        "C:/Windows",
        "c:x",
        "a\0b",
        "a//b",
        "./a",
        "a/./b",
        "a/",
        ".",
    ],
)
def test_unsafe_relative_paths_are_refused(unsafe: str) -> None:
    assert not is_safe_relative(unsafe)
    with pytest.raises(UnsafePath):
        check_relative(unsafe)


@pytest.mark.parametrize("safe", ["a", "a/b.py", ".hidden/x", "a..b/c", "x~y", "…/é.md"])
def test_ordinary_relative_paths_are_safe(safe: str) -> None:
    assert check_relative(safe).as_posix() == safe


def test_atomic_write_replaces_with_the_mode_and_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "file.txt"
    atomic_write(target, b"one", mode=0o600)
    atomic_write(target, b"two", mode=0o600)
    assert target.read_bytes() == b"two"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(target.parent) == ["file.txt"]


def test_atomic_write_failure_keeps_the_old_bytes_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):
        atomic_write(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["file.txt"]


def test_atomic_write_never_writes_through_a_symlink(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    link = tmp_path / "link.txt"
    link.symlink_to(outside)
    atomic_write(link, b"new")
    assert outside.read_text() == "keep"
    assert not link.is_symlink() and link.read_bytes() == b"new"


def test_relative_xdg_values_are_ignored_as_the_spec_says(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "XDG_CACHE_HOME": "relative/cache"}
    assert xdg_base("XDG_CACHE_HOME", env) == tmp_path / ".cache"
    env["XDG_CACHE_HOME"] = str(tmp_path / "abs")
    assert xdg_base("XDG_CACHE_HOME", env) == tmp_path / "abs"
    assert xdg_base("XDG_DATA_HOME", {"HOME": str(tmp_path)}) == tmp_path / ".local/share"
