from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml
from sqlite_utils import Database

from kavi_ledger.artifacts import atomic_write, verify_artifact, write_note, write_skill_spec
from kavi_ledger.models import ArtifactKind
from kavi_ledger.paths import KaviPaths
from kavi_ledger.records import list_artifacts
from kavi_ledger.states import create_proposal


def _front_matter(text: str) -> dict[str, object]:
    _, front, _ = text.split("---\n", 2)
    loaded = yaml.safe_load(front)
    assert isinstance(loaded, dict)
    return loaded


def test_a_note_file_name_carries_the_sha256_prefix_of_its_bytes(
    ledger: Database, paths: KaviPaths
) -> None:
    note = write_note(
        ledger, paths.vault_dir, kind=ArtifactKind.NOTE, title="Hello", body="body", related_id=None
    )
    data = (paths.vault_dir / note.path).read_bytes()
    assert note.sha256 == hashlib.sha256(data).hexdigest()
    assert note.path.endswith(f"-{note.sha256[:16]}.md")
    assert verify_artifact(paths.vault_dir, note)


def test_a_note_is_recorded_in_the_artifacts_table(ledger: Database, paths: KaviPaths) -> None:
    note = write_note(
        ledger,
        paths.vault_dir,
        kind=ArtifactKind.RESEARCH_NOTE,
        title="R",
        body="b",
        related_id="p-1",
    )
    assert list_artifacts(ledger, "p-1") == (note,)


def test_notes_have_front_matter_and_wiki_links_between_them(
    ledger: Database, paths: KaviPaths
) -> None:
    spec = write_note(
        ledger,
        paths.vault_dir,
        kind=ArtifactKind.SKILL_SPEC,
        title="Spec",
        body="s",
        related_id="p-1",
    )
    build = write_note(
        ledger,
        paths.vault_dir,
        kind=ArtifactKind.BUILD_LOG,
        title="Build 1",
        body="log",
        related_id="b-1",
        links=[spec],
    )
    text = (paths.vault_dir / build.path).read_text()
    front = _front_matter(text)
    assert front["kavi_id"] == build.id and front["kind"] == "BUILD_LOG"
    assert front["related_id"] == "b-1" and front["created"] == build.created_at
    assert f"[[{spec.note_name}]]" in text
    assert (paths.vault_dir / f"{spec.path}").name == f"{spec.note_name}.md"


def test_an_edited_note_no_longer_verifies(ledger: Database, paths: KaviPaths) -> None:
    note = write_note(
        ledger, paths.vault_dir, kind=ArtifactKind.NOTE, title="N", body="b", related_id=None
    )
    (paths.vault_dir / note.path).write_text("tampered")
    assert not verify_artifact(paths.vault_dir, note)


def test_the_skill_spec_note_describes_the_proposal(ledger: Database, paths: KaviPaths) -> None:
    proposal = create_proposal(
        ledger,
        name="write_note",
        description="Writes notes",
        io_schema={"type": "object"},
        side_effect_class="FILE_WRITE",
        required_secrets=["VAULT_TOKEN"],
    )
    spec = write_skill_spec(ledger, paths.vault_dir, proposal)
    text = (paths.vault_dir / spec.path).read_text()
    assert spec.kind is ArtifactKind.SKILL_SPEC and spec.related_id == proposal.id
    assert proposal.id in text and "VAULT_TOKEN" in text and "Writes notes" in text


def test_atomic_write_leaves_the_old_file_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "note.md"
    target.write_bytes(b"old")

    def broken_replace(src: str, dst: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("kavi_gates.paths.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["note.md"]
