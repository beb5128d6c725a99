"""read_notes_by_tag: list the vault's notes carrying a tag.

READ_ONLY. A note matches when its front-matter ``tags`` (list or comma-separated) or a
``#tag`` in its body equals the tag, case-insensitively; nested tags match exactly
(``#a/b`` is not ``#a``). Symlinked and hidden files are skipped; reading uses the vault
path from the context only.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from kavi_skills import BaseSkill
from skills._vault import load_notes


class TagQuery(BaseModel):
    """The tag to look for, with or without its leading ``#``."""

    tag: str = Field(min_length=1, max_length=100)

    @field_validator("tag")
    @classmethod
    def _normalise(cls, value: str) -> str:
        tag = value.strip().lstrip("#").lower()
        if not tag or any(ch.isspace() for ch in tag):
            raise ValueError("tag must be one word, e.g. 'project' or '#project'")
        return tag


class TaggedNote(BaseModel):
    """One matching note."""

    path: str
    title: str


class TaggedNotes(BaseModel):
    """The matching notes, in path order."""

    tag: str
    notes: list[TaggedNote]


class ReadNotesByTagSkill(BaseSkill):
    """Find the notes that carry a tag."""

    name = "read_notes_by_tag"
    description = "List vault notes whose front-matter tags or #tags in the body match a tag."
    side_effect_class = "READ_ONLY"
    input_model = TagQuery
    output_model = TaggedNotes

    def execute(self, data: TagQuery) -> TaggedNotes:
        """Scan the vault's notes and keep those tagged ``data.tag``."""
        matches = [
            TaggedNote(path=note.path, title=note.title)
            for note in load_notes(self.context.vault_dir)
            if data.tag in note.tags
        ]
        return TaggedNotes(tag=data.tag, notes=matches)
