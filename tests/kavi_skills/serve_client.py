"""A real ``kavi serve`` process and the MCP SDK's own client talking to it."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import mcp_types as types
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

_REPO = Path(__file__).resolve().parents[2]
ENV_KEYS = ("PATH", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "KAVI_LLM_BASE_URL")


def server_env(**extra: str) -> dict[str, str]:
    """The server's environment: the test's private XDG directories, nothing of the user's."""
    env = {key: os.environ[key] for key in ENV_KEYS if key in os.environ}
    env["PYTHONPATH"] = str(_REPO)
    env.update(extra)
    return env


def serve_argv(*args: str) -> list[str]:
    """``kavi serve ARGS`` through the real entry point."""
    return [sys.executable, "-m", "kavi_hooks.cli", "serve", *args]


def stdio_parameters(root: Path, *args: str, **env: str) -> StdioServerParameters:
    argv = serve_argv(*args)
    return StdioServerParameters(command=argv[0], args=argv[1:], env=server_env(**env), cwd=root)


@asynccontextmanager
async def connect(
    root: Path, *args: str, mode: str = "legacy", notes: list[Any] | None = None, **env: str
) -> AsyncIterator[Client]:
    """A connected SDK client of a fresh ``kavi serve`` in ``root`` (its stderr is kept)."""

    async def on_message(message: Any) -> None:
        if notes is not None and not isinstance(message, Exception):
            notes.append(message)

    client = Client(
        stdio_parameters(root, *args, **env),
        mode=mode,
        message_handler=on_message,
        read_timeout_seconds=120,
        cache=None,
    )
    async with client:
        yield client


def text_of(result: types.CallToolResult) -> str:
    """The text content of a tool result."""
    return "".join(block.text for block in result.content if isinstance(block, types.TextContent))
