"""``kavi serve``: the project's trusted skills as MCP tools (stdio, or HTTP on loopback).

Imports the MCP SDK at once, so without the runtime extra the command is replaced by the
stand-in that names what to install (exit 2).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import anyio
import typer

from kavi_gates.config import load_config
from kavi_gates.errors import UsageError
from kavi_sandbox import SandboxError, select_backend
from kavi_skills.capabilities import project_paths
from kavi_skills.errors import SandboxRefused
from kavi_skills.isolation import sandbox_enabled
from kavi_skills.serve.catalog import check_allow_list
from kavi_skills.serve.server import KaviServer
from kavi_skills.serve.transport import (
    check_host,
    http_token,
    is_loopback,
    listen,
    serve_http,
    serve_stdio,
)


def serve(
    http: Annotated[
        bool, typer.Option("--http", help="Streamable HTTP instead of stdio (loopback only).")
    ] = False,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="With --http: the address to listen on: loopback, or the one the config "
            "allows (serve.host).",
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int | None,
        typer.Option(
            "--port", help="With --http: the port (default: serve.port, 8765).", min=0, max=65535
        ),
    ] = None,
    no_sandbox: Annotated[
        bool,
        typer.Option(
            "--no-sandbox",
            help="Run skills without the OS sandbox (explicit opt-out, in every record).",
        ),
    ] = False,
    project: Annotated[
        Path | None,
        typer.Option(
            "--project",
            help="The project to serve (default: the one around the current directory); "
            "MCP clients start servers from their own directory.",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Config file (YAML or TOML) instead of discovery."),
    ] = None,
) -> None:
    """Serve the project's trusted skills as MCP tools, each call through `kavi run`'s runtime.

    Only skills whose pins and signed attestation verify are listed; every call is verified
    again, runs sandboxed and is logged (`kavi log`). A skill with side effects runs only if
    the config lists it under serve.allow.
    """
    if project is not None and not project.is_dir():
        raise UsageError(f"--project {project}: not a directory")
    loaded = load_config(config, start=project)
    check_allow_list(loaded)
    sandbox = False if no_sandbox else None
    if no_sandbox:
        sys.stderr.write("kavi: warning: --no-sandbox: skills run without OS isolation\n")
    try:  # refuse now, not on every call, when no sandbox can start here
        select_backend(sandbox=sandbox_enabled(loaded, sandbox))
    except SandboxError as err:
        raise SandboxRefused(
            f"cannot run skills in a sandbox: {err}. To serve without one, opt out explicitly "
            "with --no-sandbox or `sandbox: {enabled: false}` in the config"
        ) from None
    kavi = KaviServer(loaded, sandbox=sandbox)
    if not http:
        # stderr: stdout is the protocol's (a client shows this line in its server log).
        sys.stderr.write(f"kavi: serving the trusted skills of {loaded.root} over MCP (stdio)\n")
        sys.stderr.flush()
        anyio.run(serve_stdio, kavi)
        return
    check_host(host, loaded)
    if not is_loopback(host):
        sys.stderr.write(
            f"kavi: warning: serving on {host}: plain HTTP, so anyone on the path can read "
            "the token and call the allowed skills\n"
        )
    token = http_token(project_paths(loaded).config_dir)
    listener = listen(host, loaded.config.serve.port if port is None else port)
    anyio.run(serve_http, kavi, listener, host, token)


def register(app: typer.Typer) -> None:
    """Add ``kavi serve`` to the ``kavi`` app."""
    app.command("serve")(serve)
