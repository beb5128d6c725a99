"""The MCP server: ``tools/list`` from a fresh snapshot, ``tools/call`` through the runtime.

Built on the SDK's low-level :class:`mcp.server.Server` (the high-level ``MCPServer`` derives
schemas from Python signatures and turns exceptions into errors its own way; here every
schema comes from the skill's models, every annotation from its class and every error
from Kavi). Blocking work (verifying, describing, running) happens in worker threads, each
of which stays alive until its call returns: bubblewrap's ``--die-with-parent`` follows the
thread that started a sandbox.

When the set of tools changes (a skill drifted, was promoted or revoked, its attestation
broke), clients are told with ``notifications/tools/list_changed`` (handshake-era
connections) and a ``ToolsListChanged`` event (2026-era ``subscriptions/listen`` streams).
A watcher notices such changes without waiting for a request.
"""

from __future__ import annotations

import functools
import hashlib
import sys
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import mcp_types as types
from mcp.server import NotificationOptions, Server, ServerRequestContext
from mcp.server.models import InitializationOptions
from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler, ToolsListChanged
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from kavi_gates import __version__
from kavi_gates.config import LoadedConfig
from kavi_gates.errors import KaviError
from kavi_skills.executor import printable
from kavi_skills.records import RecordOrigin
from kavi_skills.serve.calls import CallOutcome, UnknownTool, call_skill
from kavi_skills.serve.catalog import Catalog, Snapshot, registry_or_empty
from kavi_skills.serve.tools import META_PREFIX, tool_for

WATCH_INTERVAL = 2.0
"""Seconds between the watcher's looks at the registry, the signers and the pinned files."""
MAX_CONCURRENT_RUNS = 4
"""Skills run (or described) at once; further calls wait their turn."""
_MAX_SESSIONS = 256
INSTRUCTIONS = (
    "Kavi serves the project's trusted skills: each tool runs only the exact code a person "
    "promoted (hash-pinned, signed), in a sandbox with only the capabilities its class grants. "
    "A skill with side effects runs only if the project allows it over MCP."
)


class _ToolServer(Server[Any]):
    """The SDK's server announcing ``tools.listChanged`` on every transport (streamable HTTP
    asks for the default initialization options)."""

    def create_initialization_options(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        return super().create_initialization_options(
            notification_options or NotificationOptions(tools_changed=True),
            experimental_capabilities,
            extensions,
        )


class KaviServer:
    """State shared by every connection of one ``kavi serve`` process."""

    def __init__(self, loaded: LoadedConfig, *, sandbox: bool | None = None) -> None:
        self.loaded = loaded
        self.sandbox = sandbox
        self.catalog = Catalog(loaded, sandbox=sandbox)
        self.bus = InMemorySubscriptionBus()
        self.process_session = uuid.uuid4().hex
        """The stdio connection's id in records (one client per ``kavi serve`` process)."""
        self._limiter = anyio.CapacityLimiter(MAX_CONCURRENT_RUNS)
        self._advertised: tuple[tuple[str, str, bool], ...] | None = None
        self._sessions: OrderedDict[str, ServerSession] = OrderedDict()
        self._fingerprint: str | None = None

    def server(self) -> Server[Any]:
        """The SDK server with Kavi's handlers."""
        return _ToolServer(
            "kavi",
            version=__version__,
            instructions=INSTRUCTIONS,
            on_list_tools=self.list_tools,
            on_call_tool=self.call_tool,
            on_subscriptions_listen=ListenHandler(self.bus),
        )

    async def _in_thread(self, work: functools.partial[Any]) -> Any:
        return await anyio.to_thread.run_sync(work, limiter=self._limiter)

    async def snapshot(self) -> Snapshot:
        """A fresh snapshot (verified now); tells clients if the tools changed."""
        snapshot: Snapshot = await self._in_thread(functools.partial(self.catalog.snapshot))
        await self._advertise(snapshot)
        return snapshot

    async def _advertise(self, snapshot: Snapshot) -> None:
        previous, self._advertised = self._advertised, snapshot.key
        if previous is None or previous == snapshot.key:
            return
        await self.bus.publish(ToolsListChanged())
        for key, session in list(self._sessions.items()):
            try:
                await session.send_tool_list_changed()
            except Exception:  # a client that went away: forget it
                self._sessions.pop(key, None)

    def _remember(self, ctx: ServerRequestContext[Any, Any]) -> str:
        key = self._session_id(ctx)
        self._sessions[key] = ctx.session
        self._sessions.move_to_end(key)
        while len(self._sessions) > _MAX_SESSIONS:
            self._sessions.popitem(last=False)
        return key

    def _session_id(self, ctx: ServerRequestContext[Any, Any]) -> str:
        headers = getattr(ctx.request, "headers", None)
        header = headers.get("mcp-session-id") if headers is not None else None
        return (
            printable(header, 128) if isinstance(header, str) and header else self.process_session
        )

    def _origin(self, ctx: ServerRequestContext[Any, Any], session: str) -> RecordOrigin:
        params = ctx.session.client_params
        info = params.client_info if params is not None else None
        client = None
        if info is not None:
            client = printable(f"{info.name} {info.version}".strip(), 200)
        return RecordOrigin(session=session, client=client)

    async def list_tools(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        """Every trusted skill that verifies now, as a tool (never cached by the client)."""
        self._remember(ctx)
        snapshot = await self.snapshot()
        tools = [tool_for(skill) for _, skill in sorted(snapshot.skills.items())]
        return types.ListToolsResult(tools=tools, ttl_ms=0)

    async def call_tool(
        self, ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        """Run one skill through the runtime; every failure is a tool error, never a crash."""
        session = self._remember(ctx)
        work = functools.partial(
            call_skill,
            params.name,
            params.arguments,
            self.loaded,
            self._origin(ctx, session),
            sandbox=self.sandbox,
        )
        try:
            outcome: CallOutcome = await self._in_thread(work)
        except UnknownTool as err:
            raise MCPError(INVALID_PARAMS, str(err)) from None
        except Exception as err:  # a bug of ours: the client gets it, the server goes on
            sys.stderr.write(f"kavi: error: serving {params.name!r}: {type(err).__name__}\n")
            return _error_result(f"{params.name}: internal error: {type(err).__name__}: {err}")
        if outcome.recheck:
            await self.snapshot()  # a drift or a broken attestation: the list changed
        meta = {f"{META_PREFIX}execution_id": outcome.execution_id}
        if not outcome.ok or outcome.output is None:
            return _error_result(outcome.message, meta)
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=outcome.message)],
            structured_content=outcome.output,
            _meta=meta,
        )

    def fingerprint(self) -> str:
        """A cheap digest of everything a snapshot depends on that can change on disk: the
        registry, the allowed signers, every attestation and every pinned file."""
        digest = hashlib.sha256()
        root = self.loaded.root

        def add(path: Path) -> None:
            try:
                digest.update(path.read_bytes())
            except OSError as err:
                digest.update(f"<{type(err).__name__}>".encode())
            digest.update(b"\0")

        add(self.loaded.allowed_signers())
        try:
            registry = registry_or_empty(self.loaded)
        except KaviError as err:
            digest.update(str(err).encode())
            return digest.hexdigest()
        for name, entry in sorted(registry.skills.items()):
            digest.update(name.encode() + b"\0" + entry.model_dump_json().encode())
            if entry.attestation:
                add(root / entry.attestation)
            for rel in sorted(entry.pins):
                add(root / rel)
        return digest.hexdigest()

    async def watch(self, interval: float = WATCH_INTERVAL) -> None:
        """Take a snapshot now (describing every skill before the first ``tools/list``), then
        again whenever the fingerprint changes."""
        while True:
            fingerprint = await anyio.to_thread.run_sync(self.fingerprint)
            if fingerprint != self._fingerprint:
                self._fingerprint = fingerprint
                try:
                    await self.snapshot()
                except Exception as err:  # reported; the next request verifies anew
                    sys.stderr.write(f"kavi: warning: cannot list the skills: {err}\n")
            await anyio.sleep(interval)


def _error_result(message: str, meta: dict[str, Any] | None = None) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=message)], is_error=True, _meta=meta
    )
