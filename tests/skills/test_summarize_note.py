"""summarize_note asks the LLM for strict JSON and falls back to the note's first sentences."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from llm_server import StandIn
from pydantic import ValidationError

from kavi_skills import SkillContext
from kavi_skills.llm import LLMClient
from skills.summarize_note import SummarizeInput, SummarizeNoteSkill, SummarizeOutput

AddNote = Callable[[str, str], Path]
NOTE = "---\ntitle: Gates\n---\n# Gates\n\nKavi has four gates. They fail closed. More text.\n"


def _run(vault: Path, llm: LLMClient | None, **data: object) -> SummarizeOutput:
    skill = SummarizeNoteSkill(SkillContext(vault_dir=vault, llm=llm))
    return skill.execute(SummarizeInput.model_validate({"path": "gates.md", **data}))


def test_declares_read_only() -> None:
    assert SummarizeNoteSkill.side_effect_class == "READ_ONLY"


def test_uses_the_llm_json_answer(
    vault: Path, add_note: AddNote, llm_client: LLMClient, llm_server: StandIn
) -> None:
    add_note("gates.md", NOTE)
    llm_server.chat_reply = {"summary": "Four gates.", "key_points": ["fail closed"]}
    out = _run(vault, llm_client, style="bullets")
    assert (out.method, out.summary, out.key_points) == ("llm", "Four gates.", ["fail closed"])
    assert (out.model, out.title, out.error) == ("stand-in-chat", "Gates", None)
    path, body = llm_server.requests[-1]
    assert path == "/v1/chat/completions"
    assert "bullet" in body["messages"][-1]["content"]
    assert "Kavi has four gates." in body["messages"][-1]["content"]


def test_endpoint_down_falls_back_to_first_sentences(
    vault: Path, add_note: AddNote, down_client: LLMClient
) -> None:
    add_note("gates.md", NOTE)
    out = _run(vault, down_client)
    assert (out.method, out.model) == ("fallback", None)
    assert out.summary == "Kavi has four gates. They fail closed."
    assert out.error is not None and "connection refused" in out.error


@pytest.mark.parametrize("mode", ["non_json", "empty_choices", "wrong_shape", "unavailable"])
def test_a_misbehaving_endpoint_falls_back(
    vault: Path, add_note: AddNote, llm_client: LLMClient, llm_server: StandIn, mode: str
) -> None:
    add_note("gates.md", NOTE)
    llm_server.mode, llm_server.retry_after = mode, "30"
    out = _run(vault, llm_client)
    assert out.method == "fallback"
    assert out.error


def test_no_llm_client_falls_back(vault: Path, add_note: AddNote) -> None:
    add_note("gates.md", NOTE)
    out = _run(vault, None)
    assert (out.method, out.error) == ("fallback", "no LLM client configured")


def test_long_notes_are_cut_and_flagged(
    vault: Path, add_note: AddNote, llm_client: LLMClient, llm_server: StandIn
) -> None:
    add_note("gates.md", "word " * 1000)
    out = _run(vault, llm_client, max_chars=100)
    assert out.truncated
    assert len(llm_server.requests[-1][1]["messages"][-1]["content"]) < 300


def test_a_missing_note_is_an_error(vault: Path) -> None:
    with pytest.raises(FileNotFoundError):
        _run(vault, None)


def test_a_symlinked_note_is_refused(vault: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.md").write_text("secret")
    (vault / "gates.md").symlink_to(tmp_path / "secret.md")
    with pytest.raises(ValueError, match="symlink"):
        _run(vault, None)


@pytest.mark.parametrize("path", ["../x.md", "/x.md", "x.txt"])
def test_input_refuses_paths_outside_the_vault(path: str) -> None:
    with pytest.raises(ValidationError):
        SummarizeInput(path=path)
