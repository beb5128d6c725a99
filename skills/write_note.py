"""write_note: write a markdown note (title heading + body) into the vault.

FILE_WRITE. The only write goes through ``self.context.files`` (the runtime's guarded file
API rooted in the vault), so traversal, absolute paths and symlinks out are refused there
as well as by the input model. An existing note is replaced only with ``overwrite``.
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, Field, field_validator

from kavi_skills import BaseSkill
from skills._vault import check_note_path


class WriteNoteInput(BaseModel):
    """Where to write and what."""

    path: str = Field(description="Vault-relative path ending in .md, e.g. 'ideas/kavi.md'.")
    title: str = Field(min_length=1, max_length=200)
    body: str = ""
    overwrite: bool = False

    @field_validator("path")
    @classmethod
    def _relative_md(cls, value: str) -> str:
        return check_note_path(value)

    @field_validator("title")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value or "\r" in value:
            raise ValueError("title must be a single line")
        return value.strip()


class WriteNoteOutput(BaseModel):
    """What was written."""

    written_path: str
    """Vault-relative path of the note."""
    sha256: str
    """sha256 of the UTF-8 bytes written."""


class WriteNoteSkill(BaseSkill):
    """Write a markdown note with a title heading into the vault."""

    name = "write_note"
    description = "Write a markdown note (title heading and body) to a .md path in the vault."
    side_effect_class = "FILE_WRITE"
    input_model = WriteNoteInput
    output_model = WriteNoteOutput

    def execute(self, data: WriteNoteInput) -> WriteNoteOutput:
        """Render ``# title`` + body and write it atomically through the guarded API."""
        files = self.context.files
        if files is None:
            raise PermissionError("write_note needs the guarded file API (FILE_WRITE)")
        if not data.overwrite and files.exists(data.path):
            raise FileExistsError(f"note {data.path!r} exists; pass overwrite=true to replace it")
        body = data.body.strip("\n")
        text = f"# {data.title}\n\n{body}\n" if body else f"# {data.title}\n"
        files.write(data.path, text)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return WriteNoteOutput(written_path=data.path, sha256=digest)
