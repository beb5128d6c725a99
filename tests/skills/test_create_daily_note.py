"""create_daily_note appends to daily/<date>.md, creating it with a heading the first time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pydantic import ValidationError

from kavi_skills import SkillContext
from kavi_skills.guarded_files import GuardedFiles
from skills.create_daily_note import CreateDailyNoteSkill, DailyNoteInput, DailyNoteOutput


def _run(vault: Path, files: GuardedFiles | None, **data: object) -> DailyNoteOutput:
    skill = CreateDailyNoteSkill(SkillContext(vault_dir=vault, files=files))
    return skill.execute(DailyNoteInput.model_validate(data))


def test_declares_file_write() -> None:
    assert CreateDailyNoteSkill.side_effect_class == "FILE_WRITE"


def test_first_entry_creates_the_note_with_a_heading(vault: Path, files: GuardedFiles) -> None:
    out = _run(vault, files, date="2026-01-02", body="Started Kavi.")
    assert out.path == "daily/2026-01-02.md"
    assert out.created
    assert (vault / "daily" / "2026-01-02.md").read_text() == "# 2026-01-02\n\nStarted Kavi.\n"


def test_later_entries_are_appended(vault: Path, files: GuardedFiles) -> None:
    _run(vault, files, date="2026-01-02", body="one")
    out = _run(vault, files, date="2026-01-02", body="two")
    assert not out.created
    assert out.appended_chars == len("\ntwo\n")
    assert (vault / "daily" / "2026-01-02.md").read_text() == "# 2026-01-02\n\none\n\ntwo\n"


def test_date_defaults_to_today(vault: Path, files: GuardedFiles) -> None:
    out = _run(vault, files, body="now")
    assert out.path == f"daily/{dt.date.today().isoformat()}.md"


@pytest.mark.parametrize("date", ["2026-13-01", "yesterday", "../../etc"])
def test_a_bad_date_is_refused(date: str) -> None:
    with pytest.raises(ValidationError):
        DailyNoteInput.model_validate({"date": date, "body": "x"})


def test_an_empty_body_is_refused() -> None:
    with pytest.raises(ValidationError):
        DailyNoteInput(body="")


def test_without_the_file_capability_nothing_is_written(vault: Path) -> None:
    with pytest.raises(PermissionError):
        _run(vault, None, body="x")
    assert list(vault.iterdir()) == []
