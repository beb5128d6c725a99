"""Serving over stdio (the default) or streamable HTTP on loopback.

HTTP listens on loopback (``127.0.0.1``, ``::1``, ``localhost``) only, unless the project's
config names the one other address it may use (``serve.host``): a tool server reachable
from the network would hand every caller the project's trusted skills. Loopback is not a
boundary either: every local process (another user's, a sandbox given the host's network)
reaches it. So every HTTP request must carry the server's bearer token, kept in an
owner-only file in Kavi's config directory.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import os
import secrets
import socket
import stat
import sys
from collections.abc import AsyncIterable, Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import anyio
from anyio.streams.memory import MemoryObjectSendStream
from mcp.server.stdio import stdio_server
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.message import SessionMessage
from mcp_types import INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError
from pydantic import ValidationError

from kavi_gates.config import LoadedConfig
from kavi_gates.errors import UsageError
from kavi_gates.storage import create_storage_dir
from kavi_skills.serve.server import KaviServer

LOOPBACK_NAMES = frozenset({"localhost"})
MCP_PATH = "/mcp"
TOKEN_FILE = "serve-token"


def is_loopback(host: str) -> bool:
    """True for a loopback address (127.0.0.0/8, ::1) or ``localhost``."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_host(host: str, loaded: LoadedConfig) -> None:
    """Refuse any address but loopback and the one the config allows."""
    if is_loopback(host) or host == loaded.config.serve.host:
        return
    raise UsageError(
        f"refusing to listen on {host}: kavi serve --http listens on loopback only, unless "
        f"the project's config allows that address (serve: {{host: {host!r}}} in "
        f"{loaded.source if loaded.source.startswith('/') else 'kavi.yaml'})"
    )


@dataclass(frozen=True)
class Listener:
    """A bound, listening socket and the URL clients use."""

    sock: socket.socket
    url: str


def listen(host: str, port: int) -> Listener:
    """Bind now, so a taken port is a clear error before anything is served."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise UsageError(f"cannot listen on {host}:{port}: {err.strerror}") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as err:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {err.strerror}") from None
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if family == socket.AF_INET6 else bound_host
    return Listener(sock, f"http://{shown}:{bound_port}{MCP_PATH}")


def http_token(config_dir: Path) -> tuple[str, Path]:
    """The HTTP endpoint's bearer token and its file (created owner-only on first use).

    A token file that others may read, or that is not a regular file, is refused: it would
    hand them the skills.
    """
    path = config_dir / TOKEN_FILE
    create_storage_dir(config_dir, "config")
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as err:
        raise UsageError(f"cannot read the serve token {path}: {err.strerror}") from None
    with os.fdopen(fd) as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_mode & 0o077 or info.st_uid != os.getuid():
            raise UsageError(
                f"refusing the serve token {path}: it must be a regular file of yours with "
                "mode 0600 (delete it and a new one is made)"
            )
        token = handle.read().strip()
    if len(token) < 32:
        raise UsageError(f"the serve token {path} is too short (delete it and a new one is made)")
    return token, path


_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
_App = Callable[[_Scope, _Receive, _Send], Awaitable[None]]


def require_token(app: _App, token: str) -> _App:
    """Wrap an ASGI app: an HTTP request without ``Authorization: Bearer <token>`` gets 401."""
    expected = f"Bearer {token}".encode()

    async def guarded(scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or ()).get(b"authorization", b"")
            if not hmac.compare_digest(given, expected):
                body = b'{"error": "unauthorized: send Authorization: Bearer <kavi serve token>"}'
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"www-authenticate", b'Bearer realm="kavi serve"'),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await app(scope, receive, send)

    return guarded


def _security(host: str) -> TransportSecuritySettings:
    """DNS-rebinding protection: only our own Host and Origin headers are accepted."""
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
    origins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    if not is_loopback(host):
        shown = f"[{host}]" if ":" in host else host
        hosts.append(f"{shown}:*")
        origins.append(f"http://{shown}:*")
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


def _unreadable_answer(error: Exception) -> SessionMessage:
    """JSON-RPC's answer to a line that is no message: a parse error (not JSON) or an invalid
    request (JSON, but no JSON-RPC message), with a null id (none could be read)."""
    not_json = isinstance(error, ValidationError) and any(
        item["type"] == "json_invalid" for item in error.errors(include_url=False)
    )
    code, message = (
        (PARSE_ERROR, "Parse error") if not_json else (INVALID_REQUEST, "Invalid Request")
    )
    return SessionMessage(
        JSONRPCError(jsonrpc="2.0", id=None, error=ErrorData(code=code, message=message))
    )


class _Sender(Protocol):
    async def send(self, item: SessionMessage, /) -> None: ...


async def _answering_unreadable(
    source: AsyncIterable[SessionMessage | Exception],
    sink: MemoryObjectSendStream[SessionMessage | Exception],
    write_stream: _Sender,
) -> None:
    """Forward the client's messages; answer each unreadable line (the SDK drops it)."""
    async with sink:
        async for item in source:
            if isinstance(item, Exception):
                await write_stream.send(_unreadable_answer(item))
            else:
                await sink.send(item)


async def serve_stdio(kavi: KaviServer) -> None:
    """Serve one client on stdin/stdout until it closes them."""
    server = kavi.server()
    async with anyio.create_task_group() as group:
        group.start_soon(kavi.watch)
        async with stdio_server() as (read_stream, write_stream):
            sink, messages = anyio.create_memory_object_stream[SessionMessage | Exception](0)
            group.start_soon(_answering_unreadable, read_stream, sink, write_stream)
            await server.run(messages, write_stream, server.create_initialization_options())
        group.cancel_scope.cancel()


async def serve_http(
    kavi: KaviServer, listener: Listener, host: str, token: tuple[str, Path]
) -> None:
    """Serve streamable HTTP on ``listener`` until interrupted; ``token``: the bearer token
    every request must carry, and the file it is kept in (named to the user)."""
    import uvicorn

    server = kavi.server()
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH, host=host, transport_security=_security(host)
    )
    config = uvicorn.Config(require_token(app, token[0]), log_level="warning", lifespan="on")
    sys.stderr.write(
        f"kavi: serving MCP on {listener.url} (every request needs the header "
        f"`Authorization: Bearer <token>`, the token is in {token[1]})\n"
    )
    sys.stderr.flush()
    async with anyio.create_task_group() as group:
        group.start_soon(kavi.watch)
        await uvicorn.Server(config).serve(sockets=[listener.sock])
        group.cancel_scope.cancel()
