"""The capabilities a skill holds inside its child: proxies that ask the trusted parent.

Nothing here can do what it asks for: there is no file handle, HTTP opener or LLM client
behind these objects, only the broker pipe. The parent decides each call from the skill's
trusted registry entry (:mod:`kavi_skills.broker`); patching, subclassing or rebuilding a
proxy changes only what the child asks, never what the parent grants.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from kavi_gates.errors import ConfigError, KaviError
from kavi_skills.errors import SecretsError, SideEffectRefused
from kavi_skills.hosts import check_url
from kavi_skills.llm import LLMError, LLMUnavailable, validate_chat_answer
from kavi_skills.protocol import CapabilityCall, CapabilityReply, read_frame, write_frame

# The parent's error types a skill may expect to catch; anything else arrives as RuntimeError.
_ERRORS: dict[str, type[Exception]] = {
    "SideEffectRefused": SideEffectRefused,
    "LLMUnavailable": LLMUnavailable,
    "LLMError": LLMError,
    "SecretsError": SecretsError,
    "ConfigError": ConfigError,
    "KaviError": KaviError,
    "OSError": OSError,
}


class BrokerClient:
    """Request/reply over the broker descriptor (one call at a time)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._next_id = 0

    def call(self, cap: str, **args: Any) -> Any:
        """Ask the parent to perform ``cap``; return its value or raise its error."""
        self._next_id += 1
        write_frame(self._fd, CapabilityCall(id=self._next_id, cap=cap, args=args))
        reply = CapabilityReply.model_validate(read_frame(self._fd))
        if reply.id != self._next_id:
            raise RuntimeError(f"broker answered call {reply.id}, expected {self._next_id}")
        if reply.ok:
            return reply.value
        error = _ERRORS.get(reply.error_type or "", RuntimeError)
        raise error(reply.message or f"{cap} failed")


class BrokeredFiles:
    """``self.context.files`` of a FILE_WRITE skill: the parent's GuardedFiles does the I/O."""

    def __init__(self, broker: BrokerClient, roots: Mapping[str, str]) -> None:
        self._broker = broker
        self._roots = {label: Path(path) for label, path in roots.items()}

    @property
    def roots(self) -> dict[str, Path]:
        """The granted roots by label."""
        return dict(self._roots)

    def resolve(self, path: str, root: str | None = None) -> Path:
        """The absolute path ``path`` names (checked by the parent)."""
        return Path(self._broker.call("files.resolve", path=path, root=root))

    def write(self, path: str, text: str, root: str | None = None) -> Path:
        """Atomically replace ``path`` with ``text``."""
        return Path(self._broker.call("files.write", path=path, text=text, root=root))

    def append(self, path: str, text: str, root: str | None = None) -> Path:
        """Append ``text`` to ``path``."""
        return Path(self._broker.call("files.append", path=path, text=text, root=root))

    def read(self, path: str, root: str | None = None) -> str:
        """Read ``path`` below a root."""
        return str(self._broker.call("files.read", path=path, root=root))

    def exists(self, path: str, root: str | None = None) -> bool:
        """True when ``path`` exists below the root."""
        return bool(self._broker.call("files.exists", path=path, root=root))

    def mkdir(self, path: str, root: str | None = None) -> Path:
        """Create directory ``path`` below the root."""
        return Path(self._broker.call("files.mkdir", path=path, root=root))


class BrokeredHTTP:
    """``self.context.http``: GET JSON through the parent, which allows only the trusted hosts."""

    def __init__(self, broker: BrokerClient, allowed_hosts: Sequence[str]) -> None:
        self._broker = broker
        self._hosts = tuple(allowed_hosts)

    @property
    def allowed_hosts(self) -> tuple[str, ...]:
        """The hosts of the skill's trusted entry."""
        return self._hosts

    def check_url(self, url: str) -> None:
        """Refuse ``url`` early (the parent checks again, and it is the check that counts)."""
        check_url(url, self._hosts)

    def get_json(self, url: str, headers: Mapping[str, str] | None = None) -> Any:
        """GET ``url`` through the parent and return its parsed JSON."""
        self.check_url(url)
        return self._broker.call("http.get_json", url=url, headers=dict(headers or {}))


class BrokeredLLM:
    """``self.context.llm``: the parent holds the client for the configured endpoint."""

    def __init__(self, broker: BrokerClient, model: str, embed_model: str, where: str) -> None:
        self._broker = broker
        self._model = model
        self._embed_model = embed_model
        self._where = where

    @property
    def model(self) -> str:
        """The chat model name."""
        return self._model

    @property
    def embed_model(self) -> str:
        """The embedding model name."""
        return self._embed_model

    def is_available(self) -> bool:
        """True when the endpoint answers."""
        return bool(self._broker.call("llm.available"))

    def chat_json(self, prompt: str, schema: type[BaseModel]) -> dict[str, Any]:
        """Ask for a JSON object shaped like ``schema``; validated here, with the skill's model."""
        answer = self._broker.call(
            "llm.chat_json",
            prompt=prompt,
            name=schema.__name__,
            schema=schema.model_json_schema(),
        )
        return validate_chat_answer(answer, schema, self._where)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed ``texts`` in one batch, in input order."""
        vectors = self._broker.call("llm.embed", texts=list(texts))
        return [[float(x) for x in vector] for vector in vectors]
