"""summarize_note: summarise one vault note through the LLM, or deterministically without it.

READ_ONLY. The note is read from the vault (symlinks and paths leaving it are refused). With
``self.context.llm`` the skill asks for a strict JSON object (``NoteSummary``); when there is
no client, the endpoint is down, or it answers with anything but that JSON, the summary is
the note's first sentences (``method="fallback"``) and ``error`` says why.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from kavi_skills import BaseSkill
from kavi_skills.llm import LLMError, LLMUnavailable
from skills._vault import check_note_path, first_sentences, parse_note, resolve_note


class SummarizeInput(BaseModel):
    """Which note, and how the summary should read."""

    path: str = Field(description="Vault-relative .md path.")
    style: Literal["paragraph", "bullets"] = "paragraph"
    max_chars: int = Field(default=12_000, ge=100, le=100_000)
    """The note is cut to this many characters before it is sent."""

    @field_validator("path")
    @classmethod
    def _relative_md(cls, value: str) -> str:
        return check_note_path(value)


class NoteSummary(BaseModel):
    """The JSON object the model must answer with."""

    summary: str
    key_points: list[str]


class SummarizeOutput(BaseModel):
    """The summary and how it was made."""

    path: str
    title: str
    summary: str
    key_points: list[str]
    method: Literal["llm", "fallback"]
    model: str | None
    truncated: bool
    error: str | None = None


class SummarizeNoteSkill(BaseSkill):
    """Summarise a note with the LLM, falling back to its first sentences."""

    name = "summarize_note"
    description = "Summarise a vault note via the LLM (strict JSON), or its first sentences."
    side_effect_class = "READ_ONLY"
    input_model = SummarizeInput
    output_model = SummarizeOutput

    def execute(self, data: SummarizeInput) -> SummarizeOutput:
        """Read the note, ask the LLM for a ``NoteSummary``, fall back on any LLM failure."""
        file = resolve_note(self.context.vault_dir, data.path)
        note = parse_note(data.path, file.read_text(encoding="utf-8"))
        text = note.body[: data.max_chars]
        truncated = len(note.body) > data.max_chars
        llm = self.context.llm
        error = "no LLM client configured"
        if llm is not None:
            shape = "3-5 short bullet points" if data.style == "bullets" else "one paragraph"
            prompt = (
                f"Summarise the note titled {note.title!r} as {shape} in 'summary', and list "
                f"its key points in 'key_points'.\n\n---\n{text}"
            )
            try:
                answer = NoteSummary.model_validate(llm.chat_json(prompt, NoteSummary))
            except (LLMUnavailable, LLMError) as exc:
                error = str(exc)
            else:
                return SummarizeOutput(
                    path=data.path,
                    title=note.title,
                    summary=answer.summary,
                    key_points=answer.key_points,
                    method="llm",
                    model=llm.model,
                    truncated=truncated,
                )
        return SummarizeOutput(
            path=data.path,
            title=note.title,
            summary=first_sentences(text),
            key_points=[],
            method="fallback",
            model=None,
            truncated=truncated,
            error=error,
        )
