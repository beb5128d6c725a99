"""``kavi serve`` at the protocol's edges: malformed requests, unknown tools, HTTP on loopback,
and the command's refusals."""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import mcp_types as types
import pytest
from kavi_cli import run_kavi
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client
from mcp.shared.exceptions import MCPError
from serve_client import connect, serve_argv, server_env, text_of

from kavi_skills.records import ExecutionLog
from kavi_skills.serve.tools import annotations_for

if TYPE_CHECKING:
    from runtime_project import Project

pytest_plugins = ["runtime_project"]


class RawPeer:
    """A ``kavi serve`` process spoken to in raw JSON-RPC lines, as a broken client would."""

    def __init__(self, root: Path) -> None:
        self.process = subprocess.Popen(
            serve_argv(),
            cwd=root,
            env=server_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._buffer = b""

    def send(self, line: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + b"\n")
        self.process.stdin.flush()

    def request(self, id_: int, method: str, params: Any) -> None:
        self.send(
            json.dumps({"jsonrpc": "2.0", "id": id_, "method": method, "params": params}).encode()
        )

    def receive(self, timeout: float = 60.0) -> dict[str, Any]:
        """The next message that is a response (notifications are skipped)."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                message = json.loads(line)
                if "id" in message:
                    return dict(message)
            left = deadline - time.monotonic()
            assert left > 0, "no response in time"
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                assert chunk, "the server closed its stdout"
                self._buffer += chunk

    def close(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            return self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()


@pytest.fixture
def peer(project: Project) -> Iterator[RawPeer]:
    raw = RawPeer(project.root)
    raw.request(
        0,
        "initialize",
        {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "raw-test", "version": "1"},
        },
    )
    assert raw.receive()["result"]["serverInfo"]["name"] == "kavi"
    raw.send(b'{"jsonrpc": "2.0", "method": "notifications/initialized"}')
    yield raw
    if raw.process.poll() is None:
        raw.close()


def test_malformed_requests_get_protocol_errors_and_the_server_keeps_serving(
    peer: RawPeer, project: Project
) -> None:
    peer.send(b"{this is not json")
    peer.send(b'{"hello": "a JSON object, but no JSON-RPC message"}')
    peer.request(2, "tools/call", {"name": 5})
    peer.request(3, "tools/call", {"name": "echo", "arguments": "not an object"})
    peer.request(4, "no/such/method", {})
    errors = []
    for _ in range(5):
        message = peer.receive()
        assert "error" in message, message
        errors.append((message["id"], message["error"]["code"]))
    assert errors == [(None, -32700), (None, -32600), (2, -32602), (3, -32602), (4, -32601)]
    peer.request(5, "tools/call", {"name": "echo", "arguments": {"text": "after all that"}})
    answer = peer.receive()
    assert answer["id"] == 5 and answer["result"]["structuredContent"] == {"text": "after all that"}
    assert peer.close() == 0  # stdin closed: the server ends cleanly
    (record,) = ExecutionLog(project.log_path).read().records  # the malformed ran nothing
    assert record.success and record.input_json == {"text": "after all that"}


def test_an_unknown_tool_is_a_protocol_error_and_is_logged(project: Project) -> None:
    (project.root / "skills" / "loose.py").write_text("# an agent's file, never promoted\n")

    async def session() -> MCPError:
        async with connect(project.root) as client:
            with pytest.raises(MCPError) as caught:
                await client.call_tool("loose", {"text": "x"})
            assert not (await client.call_tool("echo", {"text": "ok"})).is_error
            return caught.value

    error = anyio.run(session)
    assert error.code == -32602
    assert error.message == (
        "unknown tool 'loose': not a trusted skill (trusted skills: echo, fetch, note, shout)"
    )
    refused, ran = ExecutionLog(project.log_path).read().records
    assert refused.skill_name == "loose" and not refused.success and refused.sandbox is None
    assert refused.error is not None and refused.error.startswith("refused: unknown tool")
    assert ran.success


def test_http_serves_on_loopback_to_holders_of_the_token(project: Project, tmp_path: Path) -> None:
    stderr = (tmp_path / "serve.err").open("w+")
    process = subprocess.Popen(
        serve_argv("--http", "--port", "0"),
        cwd=project.root,
        env=server_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    try:
        deadline = time.monotonic() + 60
        found = None
        while found is None and time.monotonic() < deadline and process.poll() is None:
            found = re.search(
                r"serving MCP on (http://\S+) .*the token is in (\S+)\)",
                Path(stderr.name).read_text(),
            )
            time.sleep(0.05)
        assert found is not None, Path(stderr.name).read_text()
        url, token_file = found.group(1), Path(found.group(2))
        assert url.startswith("http://127.0.0.1:")
        assert token_file.stat().st_mode & 0o777 == 0o600
        assert token_file.is_relative_to(project.config_dir)
        token = token_file.read_text().strip()

        async def session(headers: dict[str, str]) -> tuple[list[str], types.CallToolResult]:
            transport = streamable_http_client(url, http_client=create_mcp_http_client(headers))
            async with Client(transport, mode="legacy", cache=None) as client:
                names = [tool.name for tool in (await client.list_tools()).tools]
                return names, await client.call_tool("echo", {"text": "over http"})

        names, result = anyio.run(session, {"Authorization": f"Bearer {token}"})
        assert names == ["echo", "fetch", "note", "shout"]
        assert result.structured_content == {"text": "over http"}, text_of(result)
        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))

        def post(headers: dict[str, str]) -> int:
            request = urllib.request.Request(
                url,
                data=b"{}",
                method="POST",
                headers={"Content-Type": "application/json", **headers},
            )
            with pytest.raises(urllib.error.HTTPError) as refused:
                no_proxy.open(request, timeout=30)
            return refused.value.code

        # Any local process reaches loopback: without the token (or with another) nothing
        # is listed or called.
        assert post({}) == 401
        assert post({"Authorization": f"Bearer {token[:-1]}x"}) == 401
        assert post({"Authorization": token}) == 401
        # DNS rebinding: a page elsewhere that resolves its own name to 127.0.0.1 is refused.
        bearer = {"Authorization": f"Bearer {token}"}
        for header, value in (("Host", "attacker.example"), ("Origin", "http://attacker.example")):
            assert post({**bearer, header: value}) in (403, 421)
        (record,) = ExecutionLog(project.log_path).read().records
        assert record.origin is not None and len(record.origin.session) >= 16
    finally:
        process.terminate()
        process.wait(timeout=30)
        stderr.close()


def test_a_token_file_others_can_read_is_refused(project: Project) -> None:
    from kavi_skills.serve.transport import TOKEN_FILE

    project.config_dir.mkdir(parents=True, exist_ok=True)
    token_file = project.config_dir / TOKEN_FILE
    token_file.write_text("x" * 43 + "\n")
    token_file.chmod(0o644)
    result = run_kavi(["serve", "--http", "--port", "0"], cwd=project.root)
    assert result.exit_code == 2
    assert f"refusing the serve token {token_file}: it must be a regular file of yours" in (
        result.stderr
    )
    token_file.unlink()
    token_file.symlink_to(project.root / "kavi.yaml")
    result = run_kavi(["serve", "--http", "--port", "0"], cwd=project.root)
    assert result.exit_code == 2 and "serve token" in result.stderr, result.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::", "example.com"])
def test_http_refuses_any_address_but_loopback(project: Project, host: str) -> None:
    result = run_kavi(["serve", "--http", "--host", host], cwd=project.root)
    assert result.exit_code == 2
    assert f"refusing to listen on {host}: kavi serve --http listens on loopback only" in (
        result.stderr
    )
    assert "serve:" in result.stderr and "Traceback" not in result.stderr


def test_a_taken_port_is_a_usage_error(project: Project) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_kavi(["serve", "--http", "--port", str(port)], cwd=project.root)
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_serve_config_is_validated(project: Project) -> None:
    config = project.root / "kavi.yaml"
    base = config.read_text()
    for extra, problem in (
        ("serve:\n  allowed: [echo]\n", "unknown config key 'serve.allowed'"),
        ("serve:\n  allow: ['no spaces']\n", "'no spaces' is not a skill name"),
        ("serve:\n  host: 'http://x'\n", "is not a host name or IP address"),
        ("serve:\n  port: 70000\n", "serve.port"),
    ):
        config.write_text(base + extra)
        result = run_kavi(["serve"], cwd=project.root)
        assert result.exit_code == 2 and problem in result.stderr, result.stderr


def test_without_the_mcp_sdk_serve_names_what_to_install(project: Project) -> None:
    blocked = (
        "import sys; sys.modules['mcp'] = None; from kavi_hooks.cli import main; "
        "raise SystemExit(main(['serve']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", blocked],
        cwd=project.root,
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "kavi: error: kavi serve needs Kavi's runtime dependencies (module 'mcp' is not "
        "installed): pip install 'kavi[runtime]'"
    )


def test_annotations_claim_only_what_each_class_guarantees() -> None:
    assert annotations_for("READ_ONLY") == types.ToolAnnotations(
        read_only_hint=True, open_world_hint=False
    )
    for cls in ("MONEY", "MESSAGING"):
        assert annotations_for(cls) == types.ToolAnnotations(
            read_only_hint=False, destructive_hint=True, open_world_hint=True
        )
    assert annotations_for("SECRET_READ").read_only_hint is False
    assert annotations_for("NOT_A_CLASS") == types.ToolAnnotations()


def test_kavi_init_prints_the_mcp_client_snippet_and_it_works(project: Project) -> None:
    result = run_kavi(["init", "--print", "mcp"], cwd=project.root / "skills")
    assert result.exit_code == 0
    entry = json.loads(result.stdout)["mcpServers"]["kavi"]
    assert entry["args"] == ["serve", "--project", str(project.root)]
    assert Path(entry["command"]).is_absolute() or entry["command"] == "kavi"
    listed = run_kavi(["init", "--print", "list"], cwd=project.root)
    assert "mcp" in listed.stdout.split()
    # As a client would start it: from another directory, by the snippet's arguments.
    argv = serve_argv(*entry["args"][1:])

    async def session() -> list[str]:
        parameters = StdioServerParameters(
            command=argv[0], args=argv[1:], env=server_env(), cwd=project.root.parent
        )
        async with Client(parameters, mode="legacy", cache=None) as client:
            return [tool.name for tool in (await client.list_tools()).tools]

    assert anyio.run(session) == ["echo", "fetch", "note", "shout"]
