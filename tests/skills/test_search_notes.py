"""search_notes ranks by embeddings through the LLM, lexically when the endpoint is down."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from llm_server import StandIn
from pydantic import ValidationError

from kavi_skills import SkillContext
from kavi_skills.llm import LLMClient
from kavi_skills.vectors import BACKEND_NUMPY, BACKEND_SQLITE_VEC
from skills.search_notes import SearchInput, SearchNotesSkill, SearchOutput

AddNote = Callable[[str, str], Path]


@pytest.fixture
def notes(add_note: AddNote) -> None:
    add_note("garden.md", "# Garden\n\nTomatoes and basil grow in the garden bed.\n")
    add_note("kavi.md", "# Kavi\n\nPolicy gates verify python skills before trust.\n")
    add_note("cooking.md", "# Cooking\n\nBasil pesto with garden tomatoes.\n")


def _run(vault: Path, llm: LLMClient | None, query: str, top_k: int = 5) -> SearchOutput:
    skill = SearchNotesSkill(SkillContext(vault_dir=vault, llm=llm))
    return skill.execute(SearchInput(query=query, top_k=top_k))


def test_declares_read_only() -> None:
    assert SearchNotesSkill.side_effect_class == "READ_ONLY"


@pytest.mark.usefixtures("notes")
def test_ranks_by_embedding_similarity(
    vault: Path, llm_client: LLMClient, llm_server: StandIn
) -> None:
    out = _run(vault, llm_client, "policy gates for python skills", top_k=2)
    assert out.method == "embedding"
    assert out.results[0].path == "kavi.md"
    assert len(out.results) == 2
    assert out.results[0].score > out.results[1].score


@pytest.mark.usefixtures("notes")
def test_records_model_dimension_and_backend(
    vault: Path, llm_client: LLMClient, llm_server: StandIn
) -> None:
    out = _run(vault, llm_client, "garden")
    assert (out.model, out.dimension) == ("stand-in-embed", llm_server.dimension)
    assert out.backend in (BACKEND_SQLITE_VEC, BACKEND_NUMPY)
    embeds = [body for path, body in llm_server.requests if path == "/v1/embeddings"]
    assert len(embeds) == 1, "query and notes are embedded in one batch"
    assert embeds[0]["model"] == "stand-in-embed"


@pytest.mark.usefixtures("notes")
def test_ranking_is_deterministic(vault: Path, llm_client: LLMClient) -> None:
    assert _run(vault, llm_client, "basil") == _run(vault, llm_client, "basil")


@pytest.mark.usefixtures("notes")
def test_endpoint_down_falls_back_to_lexical(vault: Path, down_client: LLMClient) -> None:
    out = _run(vault, down_client, "garden tomatoes")
    assert out.method == "lexical"
    assert out.model is None and out.error and "connection refused" in out.error
    assert [(h.path, h.score) for h in out.results] == [("cooking.md", 1.0), ("garden.md", 1.0)]


@pytest.mark.usefixtures("notes")
def test_a_503_falls_back_to_lexical(
    vault: Path, llm_client: LLMClient, llm_server: StandIn
) -> None:
    llm_server.mode, llm_server.retry_after = "unavailable", "60"
    out = _run(vault, llm_client, "policy")
    assert out.method == "lexical"
    assert out.error and "retry after 60 s" in out.error
    assert [h.path for h in out.results] == ["kavi.md"]


@pytest.mark.usefixtures("notes")
def test_no_llm_client_uses_lexical_ranking(vault: Path) -> None:
    out = _run(vault, None, "basil garden")
    assert out.method == "lexical"
    assert [(h.path, h.score) for h in out.results] == [("cooking.md", 1.0), ("garden.md", 1.0)]


def test_an_empty_vault_returns_nothing(vault: Path, llm_client: LLMClient) -> None:
    assert _run(vault, llm_client, "anything").results == []


@pytest.mark.parametrize("data", [{"query": ""}, {"query": "x", "top_k": 0}])
def test_bad_input_is_refused(data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SearchInput.model_validate(data)
