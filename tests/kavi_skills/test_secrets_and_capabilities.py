"""Secrets: injected only when declared by the trusted entry, redacted everywhere."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kavi_skills.errors import ConfirmationRefused, SecretsError
from kavi_skills.executor import run_skill
from kavi_skills.secrets import REDACTED, Redactor, read_secrets_file, resolve_secrets

if TYPE_CHECKING:
    from runtime_project import Project

pytest_plugins = ["runtime_project"]

TOKEN = "tok-3f9a1c77e2"


class _Echo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"auth": "%s"}' % self.headers["Authorization"].encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = HTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/data"
    httpd.shutdown()
    httpd.server_close()


def test_a_declared_secret_reaches_the_skill_and_is_redacted_from_the_record(
    project: Project, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEMO_TOKEN", TOKEN)
    result = run_skill("fetch", {"url": server}, project.config(), yes=True)
    assert result.record.success, result.record.error
    assert result.record.output_json == {
        "data": {"auth": f"Bearer {REDACTED}"},
        "token_echo": REDACTED,
    }
    assert TOKEN not in project.log_path.read_text()


def test_a_secret_in_an_error_is_redacted(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEMO_TOKEN", TOKEN)
    result = run_skill(
        "fetch", {"url": "http://127.0.0.1/", "leak": True}, project.config(), yes=True
    )
    assert not result.record.success
    assert result.record.error == f"RuntimeError: server rejected token {REDACTED}"
    assert TOKEN not in project.log_path.read_text()


def test_secrets_come_from_a_private_secrets_file(project: Project) -> None:
    project.config_dir.mkdir(parents=True)
    path = project.config_dir / "secrets.env"
    path.write_text(f"# demo\nexport DEMO_TOKEN='{TOKEN}'\nOTHER=x\n")
    path.chmod(0o600)
    assert resolve_secrets(["DEMO_TOKEN"], project.config_dir, env={}) == {"DEMO_TOKEN": TOKEN}


def test_a_group_readable_secrets_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    path.write_text(f"DEMO_TOKEN={TOKEN}\n")
    path.chmod(0o640)
    with pytest.raises(SecretsError, match="chmod 600") as info:
        read_secrets_file(path)
    assert TOKEN not in str(info.value)


def test_a_missing_declared_secret_refuses_the_run(project: Project) -> None:
    with pytest.raises(SecretsError, match="DEMO_TOKEN"):
        run_skill("fetch", {"url": "http://127.0.0.1/"}, project.config(), yes=True)
    assert not project.log_path.exists()


def test_only_declared_names_are_injected(tmp_path: Path) -> None:
    env = {"DEMO_TOKEN": TOKEN, "AWS_SECRET": "nope"}
    assert resolve_secrets(["DEMO_TOKEN"], tmp_path, env=env) == {"DEMO_TOKEN": TOKEN}


def test_redactor_replaces_values_in_nested_data() -> None:
    redact = Redactor([TOKEN])
    assert redact.data({"a": [TOKEN, {"b": f"x{TOKEN}y"}], TOKEN: 1}) == {
        "a": [REDACTED, {"b": f"x{REDACTED}y"}],
        REDACTED: 1,
    }


def test_side_effects_without_yes_or_a_terminal_are_refused(project: Project) -> None:
    with pytest.raises(ConfirmationRefused, match="--yes"):
        run_skill("note", {"path": "a.md", "body": "x"}, project.config())
    assert not project.log_path.exists()


def test_a_declined_confirmation_refuses(project: Project) -> None:
    with pytest.raises(ConfirmationRefused, match="not confirmed"):
        run_skill("note", {"path": "a.md", "body": "x"}, project.config(), confirm=lambda q: False)


def test_a_file_write_skill_gets_guarded_files_rooted_in_the_vault(project: Project) -> None:
    result = run_skill("note", {"path": "n/a.md", "body": "x"}, project.config(), yes=True)
    assert result.record.success, result.record.error
    assert result.record.output_json == {"written_path": str(project.data_dir / "vault/n/a.md")}


def test_a_file_write_skill_cannot_escape_its_roots(project: Project, tmp_path: Path) -> None:
    result = run_skill("note", {"path": "../../x.md", "body": "x"}, project.config(), yes=True)
    assert not result.record.success
    assert result.record.error is not None and "SideEffectRefused" in result.record.error
    assert not (project.data_dir / "x.md").exists()
