"""create_daily_note: append an entry to ``daily/<YYYY-MM-DD>.md``, creating it with a heading.

FILE_WRITE, append mode: existing entries are never rewritten; every byte goes through
``self.context.files.append`` (the runtime's guarded file API rooted in the vault).
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from kavi_skills import BaseSkill

DAILY_DIR = "daily"


class DailyNoteInput(BaseModel):
    """The entry and, optionally, the day it belongs to (default: today, local time)."""

    body: str = Field(min_length=1)
    date: dt.date | None = Field(default=None, description="YYYY-MM-DD; today when omitted.")


class DailyNoteOutput(BaseModel):
    """Where the entry went."""

    path: str
    """Vault-relative path of the daily note."""
    created: bool
    """True when this call created the note (and wrote its heading)."""
    appended_chars: int


class CreateDailyNoteSkill(BaseSkill):
    """Append an entry to the day's note in ``daily/``."""

    name = "create_daily_note"
    description = "Append an entry to daily/<date>.md in the vault, creating it with a heading."
    side_effect_class = "FILE_WRITE"
    input_model = DailyNoteInput
    output_model = DailyNoteOutput

    def execute(self, data: DailyNoteInput) -> DailyNoteOutput:
        """Append ``body`` as a paragraph; write ``# <date>`` first if the note is new."""
        files = self.context.files
        if files is None:
            raise PermissionError("create_daily_note needs the guarded file API (FILE_WRITE)")
        day = (data.date or dt.date.today()).isoformat()
        path = f"{DAILY_DIR}/{day}.md"
        created = not files.exists(path)
        entry = data.body.strip("\n") + "\n"
        text = f"# {day}\n\n{entry}" if created else f"\n{entry}"
        files.append(path, text)
        return DailyNoteOutput(path=path, created=created, appended_chars=len(text))
