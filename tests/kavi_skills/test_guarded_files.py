"""The guarded file API keeps every read and write inside its granted roots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kavi_skills.errors import SideEffectRefused
from kavi_skills.guarded_files import GuardedFiles, roots_for


@pytest.fixture
def files(tmp_path: Path) -> GuardedFiles:
    return GuardedFiles({"vault": tmp_path / "vault", "out": tmp_path / "out"})


def test_writes_land_below_the_default_root_atomically(files: GuardedFiles, tmp_path: Path) -> None:
    written = files.write("notes/a.md", "one")
    files.write("notes/a.md", "two")
    assert written == tmp_path / "vault" / "notes" / "a.md"
    assert written.read_text() == "two"
    assert [p.name for p in written.parent.iterdir()] == ["a.md"]  # no temp files left


def test_a_named_root_can_be_chosen(files: GuardedFiles, tmp_path: Path) -> None:
    files.write("x.txt", "x", root="out/")
    assert (tmp_path / "out" / "x.txt").read_text() == "x"


def test_an_ungranted_root_is_refused(files: GuardedFiles) -> None:
    with pytest.raises(SideEffectRefused, match="not granted"):
        files.write("x.txt", "x", root="elsewhere")


def test_append_creates_then_appends(files: GuardedFiles) -> None:
    files.append("daily/d.md", "a\n")
    files.append("daily/d.md", "b\n")
    assert files.read("daily/d.md") == "a\nb\n"


@pytest.mark.parametrize("bad", ["../x", "a/../../x", "/etc/x", "", "~/x", "a\0b", "."])
def test_traversal_absolute_and_empty_paths_are_refused(
    files: GuardedFiles, bad: str, tmp_path: Path
) -> None:
    with pytest.raises(SideEffectRefused):
        files.write(bad, "x")
    assert not (tmp_path / "x").exists()


def test_a_symlinked_directory_pointing_out_is_refused(files: GuardedFiles, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "vault").mkdir()
    (tmp_path / "vault" / "link").symlink_to(outside)
    for op in (files.write, files.append):
        with pytest.raises(SideEffectRefused, match="symlink"):
            op("link/x.txt", "x")
    assert list(outside.iterdir()) == []


def test_a_symlinked_file_is_not_written_through(files: GuardedFiles, tmp_path: Path) -> None:
    target = tmp_path / "secret.txt"
    target.write_text("keep")
    (tmp_path / "vault").mkdir()
    os.symlink(target, tmp_path / "vault" / "f.txt")
    with pytest.raises(SideEffectRefused):
        files.append("f.txt", "x")
    with pytest.raises(SideEffectRefused):
        files.read("f.txt")
    files.write("f.txt", "new")  # replaces the link itself, never the target
    assert target.read_text() == "keep"
    assert not (tmp_path / "vault" / "f.txt").is_symlink()


def test_mkdir_and_exists(files: GuardedFiles) -> None:
    files.mkdir("a/b")
    assert files.exists("a/b")
    assert not files.exists("a/c")
    assert not files.exists("../x")


def test_roots_for_grants_the_vault_and_safe_allowed_write_paths(tmp_path: Path) -> None:
    roots = roots_for(tmp_path, ("vault_out/", "../escape/", "/abs/"), tmp_path / "v")
    assert roots == {"vault": tmp_path / "v", "vault_out": tmp_path / "vault_out"}
