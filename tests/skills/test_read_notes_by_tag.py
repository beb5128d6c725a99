"""read_notes_by_tag finds notes by front-matter tags or #tags in the body."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from kavi_skills import SkillContext
from skills.read_notes_by_tag import ReadNotesByTagSkill, TaggedNotes, TagQuery

AddNote = Callable[[str, str], Path]


def _run(vault: Path, tag: str) -> TaggedNotes:
    return ReadNotesByTagSkill(SkillContext(vault_dir=vault)).execute(TagQuery(tag=tag))


def test_declares_read_only() -> None:
    assert ReadNotesByTagSkill.side_effect_class == "READ_ONLY"


def test_matches_front_matter_and_body_tags(vault: Path, add_note: AddNote) -> None:
    add_note("a.md", "---\ntitle: Alpha\ntags: [kavi, ideas]\n---\nbody\n")
    add_note("sub/b.md", "# Beta\n\nWorking on #Kavi today.\n")
    add_note("c.md", "---\ntags:\n  - other\n---\n# Gamma\n")
    out = _run(vault, "#kavi")
    assert out.tag == "kavi"
    assert [(n.path, n.title) for n in out.notes] == [("a.md", "Alpha"), ("sub/b.md", "Beta")]


def test_block_list_tags_and_file_name_titles(vault: Path, add_note: AddNote) -> None:
    add_note("plain.md", "---\ntags:\n  - other\n---\nno heading\n")
    assert [(n.path, n.title) for n in _run(vault, "other").notes] == [("plain.md", "plain")]


def test_headings_urls_and_nested_tags_are_not_tags(vault: Path, add_note: AddNote) -> None:
    add_note("a.md", "# kavi\nsee http://x.org/#kavi and #kavi/sub and a#kavi\n")
    assert _run(vault, "kavi").notes == []


def test_symlinks_and_hidden_folders_are_skipped(
    vault: Path, add_note: AddNote, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text("#kavi\n")
    (vault / "link.md").symlink_to(outside)
    add_note(".obsidian/x.md", "#kavi\n")
    assert _run(vault, "kavi").notes == []


def test_an_empty_vault_has_no_matches(vault: Path) -> None:
    assert _run(vault, "kavi").notes == []


@pytest.mark.parametrize("tag", ["", "#", "two words"])
def test_a_bad_tag_is_refused(tag: str) -> None:
    with pytest.raises(ValidationError):
        TagQuery(tag=tag)
