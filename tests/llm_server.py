"""A real OpenAI-compatible stand-in on loopback, plus the pytest fixtures that run it.

It speaks ``/v1/models``, ``/v1/chat/completions`` and ``/v1/embeddings`` over HTTP on
127.0.0.1 with an ephemeral port. Embeddings are a hashed bag of words, L2-normalised, so
texts sharing words are near each other and every run gives the same vectors. Switches on
the ``StandIn`` object make it misbehave: 503 with Retry-After, empty choices, non-JSON
content, JSON of the wrong shape, or a delay longer than the client's timeout.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from kavi_skills.llm import LLMClient, LLMSettings

DIMENSION = 64


def hashed_embedding(text: str, dimension: int = DIMENSION) -> list[float]:
    """Bag of lower-cased words hashed into ``dimension`` buckets, L2-normalised."""
    vector = [0.0] * dimension
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        bucket = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "big") % dimension
        vector[bucket] += 1.0
    norm = math.sqrt(sum(x * x for x in vector))
    if norm == 0.0:
        vector[0] = 1.0
        return vector
    return [x / norm for x in vector]


@dataclass
class StandIn:
    """The running server's switches and what it has seen."""

    base_url: str = ""
    mode: str = "ok"
    """ok | unavailable (503) | empty_choices | non_json | wrong_shape | slow."""
    retry_after: str | None = "0"
    fail_times: int = 1_000_000
    """In ``unavailable`` mode, how many requests get a 503 before the server recovers."""
    delay: float = 0.0
    chat_reply: dict[str, Any] | None = None
    """JSON object returned as the chat content; None derives one from the requested schema."""
    dimension: int = DIMENSION
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def paths(self) -> list[str]:
        """The request paths seen so far, in order."""
        return [path for path, _ in self.requests]


def _reply_for(schema: dict[str, Any], prompt: str) -> dict[str, Any]:
    """A minimal object satisfying ``schema``'s required fields, built from the prompt."""
    words = " ".join(prompt.split()[:12])
    defaults: dict[str, Any] = {"string": f"stand-in: {words}", "array": [], "integer": 0}
    defaults |= {"number": 0.0, "boolean": False, "object": {}}
    props: dict[str, Any] = schema.get("properties", {})
    return {
        name: defaults.get(props.get(name, {}).get("type", "string"), "")
        for name in schema.get("required", list(props))
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)

    def _misbehaved(self) -> bool:
        state = self.server.state
        if state.mode == "slow":
            time.sleep(state.delay)
        if state.mode == "unavailable" and state.fail_times > 0:
            state.fail_times -= 1
            headers = {"Retry-After": state.retry_after} if state.retry_after is not None else {}
            self._send(503, {"error": {"message": "overloaded"}}, headers)
            return True
        return False

    def do_GET(self) -> None:
        self.server.state.requests.append((self.path, {}))
        if self._misbehaved():
            return
        if self.path.rstrip("/") != "/v1/models":
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        models = [
            {"id": m, "object": "model", "created": 0, "owned_by": "kavi"}
            for m in ("stand-in-chat", "stand-in-embed")
        ]
        self._send(200, {"object": "list", "data": models})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
        state = self.server.state
        state.requests.append((self.path, body))
        if self._misbehaved():
            return
        if self.path == "/v1/chat/completions":
            self._send(200, self._chat(state, body))
        elif self.path == "/v1/embeddings":
            self._send(200, self._embeddings(state, body))
        else:
            self._send(404, {"error": {"message": f"no route {self.path}"}})

    @staticmethod
    def _chat(state: StandIn, body: dict[str, Any]) -> dict[str, Any]:
        prompt = str(body["messages"][-1]["content"])
        fmt = body.get("response_format") or {}
        schema: dict[str, Any] = fmt.get("json_schema", {}).get("schema", {})
        content = json.dumps(state.chat_reply or _reply_for(schema, prompt))
        if state.mode == "non_json":
            content = "Sure! Here is your summary: it is about notes."
        elif state.mode == "wrong_shape":
            content = json.dumps({"unexpected": True})
        choices = [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content},
            }
        ]
        return {
            "id": "chatcmpl-stand-in",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", ""),
            "choices": [] if state.mode == "empty_choices" else choices,
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        }

    @staticmethod
    def _embeddings(state: StandIn, body: dict[str, Any]) -> dict[str, Any]:
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        # Answer in reverse order: the client must sort by index.
        for index in reversed(range(len(texts))):
            vector = hashed_embedding(str(texts[index]), state.dimension)
            encoded: Any = vector
            if as_base64:
                encoded = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        return {
            "object": "list",
            "data": data,
            "model": body.get("model", ""),
            "usage": {"prompt_tokens": 0, "total_tokens": 0},
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: StandIn) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


@pytest.fixture
def llm_server() -> Iterator[StandIn]:
    """A running stand-in; flip ``mode`` and friends to make it misbehave."""
    state = StandIn()
    server = _Server(state)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def llm_client(llm_server: StandIn) -> LLMClient:
    """A client pointed at the stand-in, with a short timeout and instant retries."""
    return LLMClient(
        LLMSettings(
            base_url=llm_server.base_url,
            model="stand-in-chat",
            embed_model="stand-in-embed",
            timeout=2.0,
        )
    )


@pytest.fixture
def refused_base_url() -> str:
    """A loopback URL where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.fixture
def down_client(refused_base_url: str) -> LLMClient:
    """A client whose endpoint is down."""
    return LLMClient(LLMSettings(base_url=refused_base_url, timeout=2.0))
