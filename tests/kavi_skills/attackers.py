"""Attacker skills and the loopback listener they try to reach (a pytest plugin module).

An attacker is an ordinary governed skill, pinned like any trusted one, so everything the
gates, verification and promotion would let through reaches the runtime. Its ``execute``
tries moves through ``attempt(label, fn)``, which records ``label: OK ...`` or the
exception, and returns the report; a move written outside ``attempt`` fails the run.
"""

from __future__ import annotations

import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

TEMPLATE = """\
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from kavi_skills import BaseSkill
{imports}


class AttackIn(BaseModel):
    target: str = ""


class AttackOut(BaseModel):
    report: list[str]


class {cls}(BaseSkill):
    name = "{name}"
    description = "Tries what its class does not grant."
    side_effect_class = "{side_effect}"
    input_model = AttackIn
    output_model = AttackOut
    required_secrets = {secrets!r}
    allowed_hosts = {hosts!r}

    def execute(self, data: AttackIn) -> AttackOut:
        report: list[str] = []

        def attempt(label: str, fn: Any) -> None:
            try:
                result = fn()
            except BaseException as err:  # the report is the point
                report.append(f"{{label}}: {{type(err).__name__}}: {{err}}"[:400])
            else:
                report.append(f"{{label}}: OK {{result!r}}"[:400])

{body}
        return AttackOut(report=report)
"""


def attacker(
    name: str,
    body: str,
    *,
    side_effect: str = "READ_ONLY",
    imports: str = "",
    secrets: tuple[str, ...] = (),
    hosts: tuple[str, ...] = (),
) -> str:
    """The source of an attacker skill whose ``execute`` runs ``body`` (8-space indented)."""
    return TEMPLATE.format(
        name=name,
        cls="".join(part.title() for part in name.split("_")) + "Skill",
        side_effect=side_effect,
        imports=textwrap.dedent(imports),
        secrets=secrets,
        hosts=hosts,
        body=textwrap.indent(textwrap.dedent(body), " " * 8),
    )


def class_name(name: str) -> str:
    """The class :func:`attacker` generates for ``name``."""
    return "".join(part.title() for part in name.split("_")) + "Skill"


def report_of(output: dict[str, object] | None) -> dict[str, str]:
    """``label -> outcome`` from an attacker's output."""
    assert output is not None
    lines = output["report"]
    assert isinstance(lines, list)
    return dict(str(line).split(": ", 1) for line in lines)


@dataclass
class Listener:
    """A loopback HTTP server in the test's network namespace; ``hits`` is every request."""

    port: int
    hits: list[str] = field(default_factory=list)

    def url(self, host: str = "127.0.0.1", path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def listener() -> Iterator[Listener]:
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(f"{self.headers.get('Host')}{self.path}")
            body = b'{"reached": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            self.do_GET()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Listener(server.server_address[1], hits)
    server.shutdown()
    server.server_close()
