"""The runtime's client for an OpenAI-compatible endpoint: strict-JSON chat and embeddings.

Every failure surfaces as a ``KaviError``: ``LLMUnavailable`` when the endpoint cannot be
reached in time (callers fall back to their deterministic path), ``LLMError`` when it
answered but the answer is unusable (503, empty choices, malformed JSON, wrong shape).

``openai`` is imported when a client is built, not with this module: a skill's sandboxed
child imports the error types from here and talks to the endpoint only through the parent.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from kavi_gates.errors import ConfigError, KaviError

if TYPE_CHECKING:
    import openai

DEFAULT_BASE_URL = "http://localhost:8000/v1"
DEFAULT_MODEL = "gpt-oss-20b"
DEFAULT_EMBED_MODEL = "bge-large"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_PROMPT_CHARS = 12_000
# The gateway ignores the key, but the openai client refuses to start without one.
_PLACEHOLDER_API_KEY = "kavi-local"

_N = TypeVar("_N", int, float)
_T = TypeVar("_T")


class LLMUnavailable(KaviError):
    """The endpoint refused the connection or did not answer within the timeout."""


class LLMError(KaviError):
    """The endpoint answered, but not with something usable."""


@dataclass(frozen=True)
class LLMSettings:
    """Where the endpoint is and how patient to be with it."""

    base_url: str = DEFAULT_BASE_URL
    model: str = DEFAULT_MODEL
    embed_model: str = DEFAULT_EMBED_MODEL
    timeout: float = DEFAULT_TIMEOUT
    max_prompt_chars: int = DEFAULT_MAX_PROMPT_CHARS
    max_retries: int = 2
    """How many times a 503 is retried (after its Retry-After) before giving up."""
    max_retry_wait: float = 5.0
    """A Retry-After longer than this (seconds) is not waited for: the error is raised at once."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LLMSettings:
        """Read ``KAVI_LLM_BASE_URL``, ``KAVI_LLM_MODEL``, ``KAVI_EMBED_MODEL``,
        ``KAVI_LLM_TIMEOUT`` and ``KAVI_LLM_MAX_PROMPT_CHARS``; unset means the default."""
        env = os.environ if environ is None else environ
        return cls(
            base_url=env.get("KAVI_LLM_BASE_URL") or DEFAULT_BASE_URL,
            model=env.get("KAVI_LLM_MODEL") or DEFAULT_MODEL,
            embed_model=env.get("KAVI_EMBED_MODEL") or DEFAULT_EMBED_MODEL,
            timeout=_positive(env, "KAVI_LLM_TIMEOUT", DEFAULT_TIMEOUT, float),
            max_prompt_chars=_positive(
                env, "KAVI_LLM_MAX_PROMPT_CHARS", DEFAULT_MAX_PROMPT_CHARS, int
            ),
        )


def _positive(env: Mapping[str, str], key: str, default: _N, kind: Callable[[str], _N]) -> _N:
    raw = env.get(key)
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{key}={raw!r} is not a number") from None
    if value <= 0:
        raise ConfigError(f"{key}={raw!r} must be positive")
    return value


def where(settings: LLMSettings) -> str:
    """How errors name the endpoint."""
    return f"LLM endpoint {settings.base_url}"


def validate_chat_answer(answer: Any, schema: type[BaseModel], where: str) -> dict[str, Any]:
    """``answer`` validated against ``schema``, as a dict, or an ``LLMError`` saying why not."""
    try:
        return schema.model_validate(answer).model_dump(mode="json")
    except ValidationError as exc:
        raise LLMError(
            f"{where}: chat completion does not match {schema.__name__}: "
            f"{exc.error_count()} error(s), first: {exc.errors()[0]['msg']}"
        ) from None


def bound_prompt(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters (the endpoint never sees more)."""
    return text if len(text) <= limit else text[:limit]


class LLMClient:
    """Chat with strict JSON output and batch embeddings against one configured endpoint."""

    def __init__(self, settings: LLMSettings | None = None) -> None:
        import openai  # ~0.6 s: paid by the process that talks to the endpoint, when it does

        self.settings = settings if settings is not None else LLMSettings.from_env()
        # Retries are ours (bounded, Retry-After aware, reported), never the library's.
        self._client = openai.OpenAI(
            base_url=self.settings.base_url,
            api_key=_PLACEHOLDER_API_KEY,
            timeout=self.settings.timeout,
            max_retries=0,
        )

    @property
    def model(self) -> str:
        """The chat model name sent with every completion."""
        return self.settings.model

    @property
    def embed_model(self) -> str:
        """The embedding model name sent with every embedding request."""
        return self.settings.embed_model

    def is_available(self) -> bool:
        """True when ``GET /models`` answers; never raises."""
        import openai

        try:
            self._client.models.list()
        except openai.OpenAIError:
            return False
        return True

    def chat_json(self, prompt: str, schema: type[BaseModel]) -> dict[str, Any]:
        """Ask for a JSON object shaped like ``schema``; return it validated, as a dict."""
        answer = self.chat_json_raw(prompt, schema.__name__, schema.model_json_schema())
        return validate_chat_answer(answer, schema, self._where())

    def chat_json_raw(self, prompt: str, name: str, json_schema: dict[str, Any]) -> Any:
        """Ask for JSON matching ``json_schema`` (named ``name``); return it parsed, not yet
        validated (a sandboxed skill's parent cannot rebuild the skill's model class)."""
        system = (
            "Answer with one JSON object and nothing else. It must match this JSON schema: "
            + json.dumps(json_schema, sort_keys=True)
        )
        response = self._call(
            "chat completion",
            lambda: self._client.chat.completions.create(
                model=self.settings.model,
                messages=[
                    {"role": "system", "content": system},
                    {
                        "role": "user",
                        "content": bound_prompt(prompt, self.settings.max_prompt_chars),
                    },
                ],
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": name, "schema": json_schema},
                },
            ),
        )
        if not response.choices:
            raise LLMError(f"{self._where()}: chat completion returned no choices")
        content = response.choices[0].message.content
        if not content or not content.strip():
            raise LLMError(f"{self._where()}: chat completion returned empty content")
        try:
            return json.loads(content)
        except json.JSONDecodeError as exc:
            raise LLMError(
                f"{self._where()}: malformed JSON in chat completion ({exc.msg}): {content[:80]!r}"
            ) from None

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed ``texts`` in one batch; vectors come back in input order (sorted by index)."""
        if not texts:
            return []
        bounded = [bound_prompt(t, self.settings.max_prompt_chars) for t in texts]
        response = self._call(
            "embeddings",
            lambda: self._client.embeddings.create(model=self.settings.embed_model, input=bounded),
        )
        data = sorted(response.data, key=lambda item: item.index)
        if [item.index for item in data] != list(range(len(texts))):
            raise LLMError(
                f"{self._where()}: embeddings returned {len(data)} vector(s) "
                f"for {len(texts)} input(s)"
            )
        vectors = [list(item.embedding) for item in data]
        if len({len(v) for v in vectors}) != 1 or not vectors[0]:
            raise LLMError(f"{self._where()}: embeddings have inconsistent or zero dimension")
        return vectors

    def _where(self) -> str:
        return where(self.settings)

    def _call(self, what: str, request: Callable[[], _T]) -> _T:
        """Run ``request``, mapping transport failures to Kavi errors; retry 503s, bounded."""
        import openai

        attempt = 0
        while True:
            try:
                return request()
            except openai.APITimeoutError:
                raise LLMUnavailable(
                    f"{self._where()}: {what} timed out after {self.settings.timeout:g} s"
                ) from None
            except openai.APIConnectionError as exc:
                raise LLMUnavailable(f"{self._where()}: {what} failed: {_reason(exc)}") from None
            except openai.APIStatusError as exc:
                if exc.status_code != 503:
                    raise LLMError(
                        f"{self._where()}: {what} failed with HTTP {exc.status_code}"
                    ) from None
                retry_after = exc.response.headers.get("retry-after")
                wait = _seconds(retry_after)
                if (
                    attempt >= self.settings.max_retries
                    or wait is None
                    or wait > self.settings.max_retry_wait
                ):
                    hint = f"retry after {retry_after} s" if retry_after else "no Retry-After"
                    raise LLMError(
                        f"{self._where()}: {what} got HTTP 503 (service unavailable, {hint}) "
                        f"after {attempt + 1} attempt(s)"
                    ) from None
                attempt += 1
                time.sleep(wait)


def _seconds(header: str | None) -> float | None:
    """Retry-After as seconds, or None when absent or given as an HTTP date."""
    if header is None:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        return None


def _reason(exc: openai.APIConnectionError) -> str:
    cause = exc.__cause__
    while cause is not None and cause.__cause__ is not None:
        cause = cause.__cause__
    return f"connection refused or unreachable ({cause})" if cause else "connection error"
