"""Fixtures: the real bubblewrap backend, a policy that runs this interpreter, a loopback server."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kavi_sandbox import (
    BubblewrapBackend,
    Limits,
    SandboxPolicy,
    python_read_only_paths,
    select_backend,
)


@pytest.fixture(scope="session")
def bwrap_backend() -> BubblewrapBackend:
    """The real sandbox; these tests fail (never skip) where it cannot start."""
    backend = select_backend(sandbox=True)
    assert isinstance(backend, BubblewrapBackend)
    return backend


@pytest.fixture(scope="session")
def interpreter_paths() -> tuple[Path, ...]:
    return python_read_only_paths(["kavi_sandbox"])


PolicyFactory = Callable[..., SandboxPolicy]


@pytest.fixture
def policy(interpreter_paths: tuple[Path, ...]) -> PolicyFactory:
    """A policy that runs this interpreter; keyword arguments add to or replace its fields."""

    def make(**changes: Any) -> SandboxPolicy:
        read_only = (*interpreter_paths, *changes.pop("read_only", ()))
        changes.setdefault("limits", Limits(wall_time=30))
        changes.setdefault("env", {"LC_ALL": "C.UTF-8"})
        return SandboxPolicy(read_only=read_only, **changes)

    return make


@dataclass
class Loopback:
    url: str
    hits: list[str] = field(default_factory=list)


@pytest.fixture
def loopback() -> Iterator[Loopback]:
    """An HTTP server on 127.0.0.1 in the test's own network namespace; it records every hit."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            body = b"reached"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Loopback(f"http://127.0.0.1:{server.server_address[1]}/", seen)
    server.shutdown()
    server.server_close()
