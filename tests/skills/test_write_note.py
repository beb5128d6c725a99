"""write_note writes a titled markdown note into the vault, only through the guarded API."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pydantic import ValidationError

from kavi_skills import SkillContext
from kavi_skills.errors import SideEffectRefused
from kavi_skills.guarded_files import GuardedFiles
from skills.write_note import WriteNoteInput, WriteNoteOutput, WriteNoteSkill


def _run(vault: Path, files: GuardedFiles | None, **data: object) -> WriteNoteOutput:
    skill = WriteNoteSkill(SkillContext(vault_dir=vault, files=files))
    return skill.execute(WriteNoteInput.model_validate(data))


def test_declares_file_write() -> None:
    assert WriteNoteSkill.side_effect_class == "FILE_WRITE"
    assert WriteNoteSkill.required_secrets == ()


def test_writes_title_and_body_and_returns_the_hash(vault: Path, files: GuardedFiles) -> None:
    out = _run(vault, files, path="ideas/kavi.md", title="Kavi", body="Gates first.")
    written = (vault / "ideas" / "kavi.md").read_bytes()
    assert written == b"# Kavi\n\nGates first.\n"
    assert out == WriteNoteOutput(
        written_path="ideas/kavi.md", sha256=hashlib.sha256(written).hexdigest()
    )


def test_output_round_trips_through_its_model(vault: Path, files: GuardedFiles) -> None:
    out = _run(vault, files, path="a.md", title="A")
    assert WriteNoteOutput.model_validate_json(out.model_dump_json()) == out


def test_an_existing_note_is_kept_unless_overwrite(vault: Path, files: GuardedFiles) -> None:
    _run(vault, files, path="a.md", title="First")
    with pytest.raises(FileExistsError):
        _run(vault, files, path="a.md", title="Second")
    _run(vault, files, path="a.md", title="Second", overwrite=True)
    assert (vault / "a.md").read_text().startswith("# Second")


@pytest.mark.parametrize("path", ["/etc/x.md", "../out.md", "a/../../b.md", "notes.txt", ""])
def test_input_refuses_paths_outside_the_vault_or_not_markdown(path: str) -> None:
    with pytest.raises(ValidationError):
        WriteNoteInput(path=path, title="t")


def test_a_multi_line_title_is_refused() -> None:
    with pytest.raises(ValidationError):
        WriteNoteInput(path="a.md", title="one\ntwo")


def test_a_symlink_out_of_the_vault_is_refused(
    vault: Path, files: GuardedFiles, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (vault / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(SideEffectRefused):
        _run(vault, files, path="link/x.md", title="t")
    assert list(outside.iterdir()) == []


def test_without_the_file_capability_nothing_is_written(vault: Path) -> None:
    with pytest.raises(PermissionError):
        _run(vault, None, path="a.md", title="t")
    assert list(vault.iterdir()) == []
