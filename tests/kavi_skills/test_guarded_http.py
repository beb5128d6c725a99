"""The guarded HTTP client reaches declared hosts only."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from kavi_skills.errors import SideEffectRefused
from kavi_skills.guarded_http import GuardedHTTP


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/redirect-out":
            self.send_response(302)
            self.send_header("Location", "http://example.invalid/x")
            self.end_headers()
            return
        body = b"x" * 5000 if self.path == "/big" else json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_declared_host_is_reached(server: str) -> None:
    assert GuardedHTTP(["127.0.0.1"]).get_json(server + "/ok") == {"path": "/ok"}


def test_an_undeclared_host_is_refused_before_connecting(server: str) -> None:
    with pytest.raises(SideEffectRefused, match="not declared"):
        GuardedHTTP(["example.com"]).get_json(server + "/ok")


def test_a_host_port_entry_pins_the_port(server: str) -> None:
    with pytest.raises(SideEffectRefused, match="not declared"):
        GuardedHTTP(["127.0.0.1:1"]).get_json(server + "/ok")
    port = server.rsplit(":", 1)[1]
    assert GuardedHTTP([f"127.0.0.1:{port}"]).get_json(server + "/ok") == {"path": "/ok"}


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "http://user:pw@127.0.0.1/x"]
)
def test_other_schemes_and_credentials_are_refused(url: str) -> None:
    with pytest.raises(SideEffectRefused):
        GuardedHTTP(["127.0.0.1"]).get_json(url)


def test_a_redirect_to_another_host_is_refused(server: str) -> None:
    with pytest.raises(SideEffectRefused, match=r"example\.invalid"):
        GuardedHTTP(["127.0.0.1"]).get_json(server + "/redirect-out")


def test_a_response_over_the_size_cap_is_refused(server: str) -> None:
    with pytest.raises(SideEffectRefused, match="larger than"):
        GuardedHTTP(["127.0.0.1"], max_bytes=1000).get_json(server + "/big")
