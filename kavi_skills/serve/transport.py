"""Serving over stdio (the default) or streamable HTTP on loopback.

HTTP listens on loopback (``127.0.0.1``, ``::1``, ``localhost``) only, unless the project's
config names the one other address it may use (``serve.host``): a tool server reachable
from the network would hand every caller the project's trusted skills.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import AsyncIterable
from dataclasses import dataclass
from typing import Protocol

import anyio
from anyio.streams.memory import MemoryObjectSendStream
from mcp.server.stdio import stdio_server
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.message import SessionMessage
from mcp_types import INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError
from pydantic import ValidationError

from kavi_gates.config import LoadedConfig
from kavi_gates.errors import UsageError
from kavi_skills.serve.server import KaviServer

LOOPBACK_NAMES = frozenset({"localhost"})
MCP_PATH = "/mcp"


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


async def serve_http(kavi: KaviServer, listener: Listener, host: str) -> None:
    """Serve streamable HTTP on ``listener`` until interrupted."""
    import uvicorn

    server = kavi.server()
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH, host=host, transport_security=_security(host)
    )
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    sys.stderr.write(f"kavi: serving MCP on {listener.url}\n")
    sys.stderr.flush()
    async with anyio.create_task_group() as group:
        group.start_soon(kavi.watch)
        await uvicorn.Server(config).serve(sockets=[listener.sock])
        group.cancel_scope.cancel()
