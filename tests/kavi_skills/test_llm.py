"""The LLM client against a real loopback stand-in: happy paths, bounds and every failure."""

from __future__ import annotations

import math

import pytest
from llm_server import StandIn, hashed_embedding
from pydantic import BaseModel

from kavi_gates.errors import ConfigError, KaviError
from kavi_skills.llm import (
    DEFAULT_BASE_URL,
    LLMClient,
    LLMError,
    LLMSettings,
    LLMUnavailable,
    bound_prompt,
)


class Summary(BaseModel):
    summary: str
    key_points: list[str]


def test_settings_default_to_the_local_gateway() -> None:
    settings = LLMSettings.from_env({})
    assert settings.base_url == DEFAULT_BASE_URL == "http://localhost:8000/v1"
    assert settings.model and settings.embed_model


def test_settings_come_from_the_environment() -> None:
    env = {
        "KAVI_LLM_BASE_URL": "http://127.0.0.1:9/v1",
        "KAVI_LLM_MODEL": "m",
        "KAVI_EMBED_MODEL": "e",
        "KAVI_LLM_TIMEOUT": "1.5",
        "KAVI_LLM_MAX_PROMPT_CHARS": "40",
    }
    settings = LLMSettings.from_env(env)
    assert (settings.base_url, settings.model, settings.embed_model) == (
        "http://127.0.0.1:9/v1",
        "m",
        "e",
    )
    assert (settings.timeout, settings.max_prompt_chars) == (1.5, 40)


@pytest.mark.parametrize("value", ["soon", "0", "-3"])
def test_a_bad_timeout_is_a_config_error(value: str) -> None:
    with pytest.raises(ConfigError, match="KAVI_LLM_TIMEOUT"):
        LLMSettings.from_env({"KAVI_LLM_TIMEOUT": value})


def test_bound_prompt_cuts_to_the_limit() -> None:
    assert bound_prompt("abcdef", 4) == "abcd"
    assert bound_prompt("abc", 4) == "abc"


def test_is_available_when_models_answers(llm_client: LLMClient, llm_server: StandIn) -> None:
    assert llm_client.is_available()
    assert llm_server.paths() == ["/v1/models"]


def test_is_not_available_when_the_connection_is_refused(down_client: LLMClient) -> None:
    assert not down_client.is_available()


def test_chat_json_returns_the_validated_object(llm_client: LLMClient, llm_server: StandIn) -> None:
    llm_server.chat_reply = {"summary": "short", "key_points": ["a", "b"]}
    assert llm_client.chat_json("summarise this", Summary) == {
        "summary": "short",
        "key_points": ["a", "b"],
    }
    _, body = llm_server.requests[-1]
    assert body["model"] == "stand-in-chat"
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"]["required"] == [
        "summary",
        "key_points",
    ]


def test_chat_json_bounds_the_prompt(llm_server: StandIn) -> None:
    client = LLMClient(LLMSettings(base_url=llm_server.base_url, max_prompt_chars=10))
    client.chat_json("x" * 500, Summary)
    _, body = llm_server.requests[-1]
    assert body["messages"][-1]["content"] == "x" * 10


def test_refused_connection_is_llm_unavailable(down_client: LLMClient) -> None:
    with pytest.raises(LLMUnavailable, match="connection refused") as info:
        down_client.chat_json("hi", Summary)
    assert isinstance(info.value, KaviError)


def test_a_timeout_is_llm_unavailable_and_names_the_limit(llm_server: StandIn) -> None:
    llm_server.mode, llm_server.delay = "slow", 1.0
    client = LLMClient(LLMSettings(base_url=llm_server.base_url, timeout=0.2))
    with pytest.raises(LLMUnavailable, match=r"timed out after 0\.2 s"):
        client.embed(["hello"])


def test_503_reports_the_retry_after_value(llm_server: StandIn) -> None:
    llm_server.mode, llm_server.retry_after = "unavailable", "120"
    client = LLMClient(LLMSettings(base_url=llm_server.base_url))
    with pytest.raises(LLMError, match=r"HTTP 503.*retry after 120 s"):
        client.chat_json("hi", Summary)
    assert len(llm_server.requests) == 1, "a Retry-After beyond max_retry_wait is not waited for"


def test_503_is_retried_a_bounded_number_of_times(llm_server: StandIn) -> None:
    llm_server.mode, llm_server.retry_after = "unavailable", "0"
    client = LLMClient(LLMSettings(base_url=llm_server.base_url, max_retries=2))
    with pytest.raises(LLMError, match=r"retry after 0 s\) after 3 attempt"):
        client.embed(["hi"])
    assert len(llm_server.requests) == 3


def test_503_then_recovery_succeeds(llm_server: StandIn, llm_client: LLMClient) -> None:
    llm_server.mode, llm_server.retry_after, llm_server.fail_times = "unavailable", "0", 1
    assert len(llm_client.embed(["hi"])[0]) == llm_server.dimension
    assert len(llm_server.requests) == 2


def test_503_without_retry_after_says_so(llm_server: StandIn, llm_client: LLMClient) -> None:
    llm_server.mode, llm_server.retry_after = "unavailable", None
    with pytest.raises(LLMError, match="no Retry-After"):
        llm_client.chat_json("hi", Summary)


def test_empty_choices_is_an_llm_error(llm_server: StandIn, llm_client: LLMClient) -> None:
    llm_server.mode = "empty_choices"
    with pytest.raises(LLMError, match="no choices"):
        llm_client.chat_json("hi", Summary)


def test_non_json_content_is_an_llm_error(llm_server: StandIn, llm_client: LLMClient) -> None:
    llm_server.mode = "non_json"
    with pytest.raises(LLMError, match="malformed JSON"):
        llm_client.chat_json("hi", Summary)


def test_json_of_the_wrong_shape_is_an_llm_error(
    llm_server: StandIn, llm_client: LLMClient
) -> None:
    llm_server.mode = "wrong_shape"
    with pytest.raises(LLMError, match="does not match Summary"):
        llm_client.chat_json("hi", Summary)


def test_embed_returns_vectors_in_input_order(llm_client: LLMClient) -> None:
    texts = ["alpha beta", "gamma", "delta epsilon zeta"]
    vectors = llm_client.embed(texts)
    for text, vector in zip(texts, vectors, strict=True):
        assert all(
            math.isclose(a, b, abs_tol=1e-6)
            for a, b in zip(vector, hashed_embedding(text), strict=True)
        )


def test_embed_sends_the_embed_model_and_bounds_each_text(llm_server: StandIn) -> None:
    client = LLMClient(
        LLMSettings(base_url=llm_server.base_url, embed_model="e-1", max_prompt_chars=5)
    )
    client.embed(["abcdefghij"])
    _, body = llm_server.requests[-1]
    assert body["model"] == "e-1"
    assert body["input"] == ["abcde"]


def test_embed_of_nothing_makes_no_request(llm_client: LLMClient, llm_server: StandIn) -> None:
    assert llm_client.embed([]) == []
    assert llm_server.requests == []


def test_embed_with_the_endpoint_down_is_llm_unavailable(down_client: LLMClient) -> None:
    with pytest.raises(LLMUnavailable):
        down_client.embed(["x"])
