"""The forge runs everything untrusted in the OS sandbox: attacks that worked on the old forge,
tried again as the attacker would, each proven to have run, failed, and left no trace.

Every test here uses the real bubblewrap sandbox (they fail, never skip, where it cannot
start), real git repositories, a real ledger and a real loopback server.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from attacks import (
    CLEAN_SKILL,
    CLEAN_TEST,
    agent_command,
    attack_test,
    report,
    survivors,
    tree,
    write_agent,
)
from forge_project import Repo

from kavi_forge import Forge, build_proposal
from kavi_gates.config import load_config
from kavi_ledger.db import open_ledger
from kavi_ledger.models import ArtifactKind
from kavi_ledger.paths import resolve_paths
from kavi_ledger.states import latest_verification, list_builds


@contextlib.contextmanager
def loopback() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on 127.0.0.1 of the host's network namespace; it records every hit."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "7")
            self.end_headers()
            self.wfile.write(b"reached")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", hits
    finally:
        server.shutdown()
        server.server_close()


class Target:
    """A repository worth attacking: a pending proposal's secret under a plain name (in the
    environment and the secrets file), a home with an SSH key, a loopback server."""

    def __init__(self, repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.repo = repo
        self.value = "weather-" + secrets.token_hex(8)
        self.file_value = "other-" + secrets.token_hex(8)
        monkeypatch.setenv("WEATHER_ID", self.value)
        code, _, err = repo.kavi(
            "propose",
            "--name",
            "weather",
            "--desc",
            "d",
            "--side-effect",
            "NETWORK",
            "--io-schema-json",
            "{}",
            "--required-secrets",
            '["WEATHER_ID", "OTHER_CFG"]',
        )
        assert code == 0, err
        self.config_dir = tmp_path / "xdg-config" / "kavi"
        self.config_dir.mkdir(parents=True, exist_ok=True)
        secrets_file = self.config_dir / "secrets.env"
        secrets_file.write_text(f"OTHER_CFG={self.file_value}\n")
        secrets_file.chmod(0o600)
        self.home = tmp_path / "home"
        (self.home / ".ssh").mkdir(parents=True)
        (self.home / ".ssh" / "id_rsa").write_text("PRIVATE KEY\n")
        monkeypatch.setenv("HOME", str(self.home))
        self.agent = write_agent(tmp_path / "attacker")
        self.pid = repo.propose()

    def targets(self, url: str) -> dict[str, str]:
        return {
            "repo": str(self.repo.root),
            "secrets": str(self.config_dir / "secrets.env"),
            "ledger": str(self.repo.data / "kavi" / "ledger.db"),
            "home": str(self.home),
            "url": url,
            "value": self.value,
        }

    def command(
        self, mode: str, url: str, files: tuple[str, str] = (CLEAN_SKILL, CLEAN_TEST)
    ) -> str:
        targets = self.targets(url)
        if mode in ("attack-test", "gated-test"):
            targets["attack_test"] = attack_test(self.targets(url))
        return agent_command(self.agent, mode, targets, files)

    def stored(self) -> bytes:
        """Everything the forge stored: the ledger (with its WAL) and every vault note."""
        return b"".join(p.read_bytes() for p in sorted(self.repo.data.rglob("*")) if p.is_file())

    def assert_no_secret_stored(self) -> None:
        stored = self.stored()
        assert self.value.encode() not in stored and self.file_value.encode() not in stored

    def assert_left_no_trace(self, before: dict[str, bytes], copied: tuple[str, ...] = ()) -> None:
        time.sleep(3)  # past the late writer's sleep
        assert survivors() == []
        after = tree(self.repo.root)
        assert {k: v for k, v in after.items() if k not in copied} == before
        assert not (self.repo.root / "planted-late").exists()
        assert not (self.repo.root / "skills" / "evil.py").exists()
        code, _, _ = self.repo.kavi("run", "evil", "--json", "{}")
        assert code != 0


@pytest.fixture
def target(repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Target:
    return Target(repo, tmp_path, monkeypatch)


def set_forge(repo: Repo, **settings: object) -> None:
    config = repo.root / "kavi.yaml"
    data = yaml.safe_load(config.read_text())
    data.setdefault("forge", {}).update(settings)
    config.write_text(yaml.safe_dump(data))


@contextlib.contextmanager
def forge() -> Iterator[Forge]:
    loaded = load_config()
    paths = resolve_paths(loaded.config.storage, loaded.root)
    db = open_ledger(paths.ledger)
    try:
        yield Forge(loaded=loaded, paths=paths, db=db)
    finally:
        db.close()


def assert_all_blocked(moves: dict[str, object]) -> None:
    assert set(moves) >= {"repo", "parent_cwd", "secrets_file", "ledger", "home", "network"}
    assert moves["repo"] == "blocked: FileNotFoundError" or str(moves["repo"]).startswith("blocked")
    for name, outcome in moves.items():
        if name == "secret_in_env":
            assert outcome == []
        else:
            assert str(outcome).startswith("blocked") or "own copy" in str(outcome), name


@pytest.mark.slow
def test_an_agent_reaches_nothing_outside_its_copy_and_leaves_nothing_behind(
    target: Target,
) -> None:
    set_forge(target.repo, agent_network="none")
    before = tree(target.repo.root)
    with loopback() as (url, hits):
        code, _, err = target.repo.kavi(
            "build", target.pid, "--agent", target.command("escape", url)
        )
    assert code == 0, err  # the attack failed quietly; the honest part of the work went on
    (log,) = target.repo.notes(ArtifactKind.BUILD_LOG)
    moves = report(log, "REPORT ")
    assert_all_blocked(moves)
    assert hits == []
    target.assert_no_secret_stored()
    target.assert_left_no_trace(before, ("skills/shout.py", "tests/skills/test_shout.py"))


@pytest.mark.slow
def test_agent_written_tests_never_run_before_every_gate_passed(target: Target) -> None:
    before = tree(target.repo.root)
    with loopback() as (url, hits):
        command = target.command("gated-test", url)
        code, _, err = target.repo.kavi("build", target.pid, "--agent", command, "--keep-sandbox")
    kept = Path(err.split("sandbox kept: ")[1].split()[0])
    assert code == 1 and "(VERIFY_POLICY)" in err
    assert not (kept / "repo" / "ran-at-import").exists()  # the test file was never imported
    db = open_ledger(target.repo.data / "kavi" / "ledger.db")
    (build,) = list_builds(db, target.pid)
    checks = json.loads(build.summary or "{}")["checks"]
    assert (checks["policy"], checks["ruff"], checks["mypy"], checks["pytest"]) == (
        "fail",
        "skip",
        "skip",
        "skip",
    )
    assert hits == []
    target.assert_left_no_trace(before)


@pytest.mark.slow
def test_agent_written_tests_that_pass_the_gates_run_confined(target: Target) -> None:
    before = tree(target.repo.root)
    with loopback() as (url, hits), forge() as opened:
        outcome = build_proposal(opened, target.pid, agent=target.command("attack-test", url))
    assert not outcome.succeeded and outcome.kind is not None
    assert outcome.kind.value == "VERIFY_TEST"
    (pytest_result,) = [r for r in outcome.results if r.gate == "pytest"]
    moves = report(pytest_result.findings[0].message, "ATTACK-REPORT ")
    assert_all_blocked(moves)
    assert hits == []  # the tools have no network, whatever the agent's is
    target.assert_no_secret_stored()
    target.assert_left_no_trace(before)


@pytest.mark.slow
def test_kavi_promote_path_runs_the_repository_copy_of_the_tests_confined(
    target: Target, tmp_path: Path
) -> None:
    """``kavi promote PATH`` verifies a hand-placed skill: its test runs in the sandbox too."""
    with loopback() as (url, hits):
        (target.repo.root / "skills" / "shout.py").write_text(CLEAN_SKILL)
        test = target.repo.root / "tests" / "skills" / "test_shout.py"
        test.parent.mkdir(parents=True, exist_ok=True)
        test.write_text(attack_test(target.targets(url)))
        before = tree(target.repo.root)
        code, _, err = target.repo.kavi("promote", "skills/shout.py", "--yes")
    assert code == 1 and "failed verification (pytest: " in err
    db = open_ledger(target.repo.data / "kavi" / "ledger.db")
    run = latest_verification(db, target.pid)  # the adoption reuses the pending proposal
    assert run is not None
    row = next(r for r in run.results if r.gate == "pytest")
    moves = report(json.loads(row.findings_json)[0]["message"], "ATTACK-REPORT ")
    assert_all_blocked(moves)
    assert hits == []
    assert yaml.safe_load((target.repo.root / "skills/registry.yaml").read_text())["skills"] == {}
    target.assert_no_secret_stored()
    target.assert_left_no_trace(before)


@pytest.mark.slow
def test_a_secret_the_agent_repeats_is_redacted_from_everything_stored(target: Target) -> None:
    settings = target.repo.root / "config" / "settings.txt"
    settings.parent.mkdir()
    settings.write_text(f"weather={target.value}\nother={target.file_value}\n")
    with loopback() as (url, _):
        code, _, err = target.repo.kavi("build", target.pid, "--agent", target.command("leak", url))
    assert code == 0, err
    (log,) = target.repo.notes(ArtifactKind.BUILD_LOG)
    assert "weather=[REDACTED]" in log and "other=[REDACTED]" in log
    target.assert_no_secret_stored()


@pytest.mark.slow
@pytest.mark.parametrize(("network", "reached"), [("host", True), ("none", False)])
def test_the_agent_network_is_what_the_config_says(
    target: Target, network: str, reached: bool
) -> None:
    set_forge(target.repo, agent_network=network)
    with loopback() as (url, hits):
        command = target.command("net", url)
        code, _, err = target.repo.kavi("build", target.pid, "--agent", command)
    assert code == 0, err
    (log,) = target.repo.notes(ArtifactKind.BUILD_LOG)
    outcome = str(report(log, "REPORT ")["network"])
    assert outcome.startswith("REACHED") is reached
    assert (hits == ["/"]) is reached


@pytest.mark.slow
def test_configured_agent_paths_are_its_login_and_nothing_else_of_home(target: Target) -> None:
    login = target.home / ".fake-login"
    login.mkdir()
    (login / "token").write_text("login-token")
    set_forge(
        target.repo,
        agent_env=["PATH", "LANG", "HOME"],
        agent_paths=["~/.fake-login"],
    )
    with loopback() as (url, _):
        code, _, err = target.repo.kavi(
            "build", target.pid, "--agent", target.command("login", url)
        )
    assert code == 0, err
    (log,) = target.repo.notes(ArtifactKind.BUILD_LOG)
    moves = report(log, "REPORT ")
    assert moves["token"] == "REACHED: login-token"
    assert str(moves["ssh_key"]).startswith("blocked")
    assert (login / "state").read_text() == "seen"  # read-write, as configured


@pytest.mark.slow
def test_a_special_file_from_the_agent_fails_the_build_without_blocking_it(
    target: Target,
) -> None:
    with loopback() as (url, _):
        started = time.monotonic()
        code, _, err = target.repo.kavi("build", target.pid, "--agent", target.command("fifo", url))
    assert code == 1 and "(GATE_VIOLATION)" in err and "special file" in err
    assert time.monotonic() - started < 120
    assert not (target.repo.root / "skills" / "shout.py").exists()


@pytest.mark.slow
def test_planted_bytecode_never_stands_in_for_the_checked_source(target: Target) -> None:
    """The agent leaves a valid .pyc of a passing skill beside a failing source of the same
    size and mtime: the tests must run the source the gates checked, and fail."""
    with loopback() as (url, _):
        code, _, err = target.repo.kavi("build", target.pid, "--agent", target.command("pyc", url))
    assert code == 1 and "(VERIFY_TEST)" in err
    assert not (target.repo.root / "skills" / "shout.py").exists()
