"""The agent's environment (an allowlist), what its sandbox shows it, and its end."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from kavi_forge.agent import AgentRun, agent_argv, looks_secret, run_agent
from kavi_forge.agent_view import (
    agent_environment,
    program_binds,
    protected_paths,
    resolve_view,
)
from kavi_forge.errors import AgentConfigError, AgentNotInstalled
from kavi_gates.config import AgentPath
from kavi_sandbox import SANDBOX_HOME, BubblewrapBackend, select_backend


@pytest.fixture(scope="module")
def bwrap() -> BubblewrapBackend:
    backend = select_backend(sandbox=True)
    assert isinstance(backend, BubblewrapBackend)
    return backend


@pytest.mark.parametrize(
    "name",
    [
        "OPENAI_API_KEY",
        "GITHUB_TOKEN",
        "DB_PASSWORD",
        "AWS_SECRET_ACCESS_KEY",
        "ANTHROPIC_API_KEY",
        "AUTH_HEADER",
    ],
)
def test_secret_looking_names_are_recognised(name: str) -> None:
    assert looks_secret(name)  # used only to widen redaction, never to decide access


def test_the_agent_environment_is_exactly_the_allowlist() -> None:
    env = {"PATH": "/bin", "HOME": "/h", "GH_TOKEN": "t", "MY_API_URL": "u", "WEATHER": "w"}
    assert agent_environment(env, ["PATH", "LANG"], []) == (
        {"PATH": "/bin", "HOME": str(SANDBOX_HOME)},
        (),
    )


def test_declared_secrets_never_pass_whatever_their_name_even_when_listed() -> None:
    env, withheld = agent_environment(
        {"WEATHER": "w", "PATH": "/bin"}, ["PATH", "WEATHER"], ["WEATHER"]
    )
    assert env == {"PATH": "/bin", "HOME": str(SANDBOX_HOME)}
    assert withheld == ("WEATHER",)


def test_allowed_names_pass_but_declared_secrets_never_do() -> None:
    env, withheld = agent_environment(
        {"ANTHROPIC_API_KEY": "a", "SKILL_TOKEN": "s", "HOME": "/h"},
        ["ANTHROPIC_API_KEY", "SKILL_TOKEN", "HOME"],
        ["SKILL_TOKEN"],
    )
    assert env == {"ANTHROPIC_API_KEY": "a", "HOME": "/h"} and withheld == ("SKILL_TOKEN",)


def test_a_missing_agent_is_reported_clearly(tmp_path: Path) -> None:
    protected = protected_paths(tmp_path / "repo", [], None)
    with pytest.raises(AgentNotInstalled, match="'no-such-agent-xyz' is not installed"):
        program_binds(agent_argv("no-such-agent-xyz -p")[0], "/usr/bin:/bin", protected, None)


def script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/usr/bin/env python3\n{body}\n")
    path.chmod(0o755)
    return path


def test_the_program_is_bound_through_its_directory_and_its_interpreter(tmp_path: Path) -> None:
    agent = script(tmp_path / "tools" / "agent", "pass")
    search = os.pathsep.join((str(Path(sys.executable).parent), "/usr/bin"))
    executable, binds = program_binds(
        str(agent), search, protected_paths(tmp_path / "repo", [], None), None
    )
    assert executable == str(agent)
    assert agent.parent in binds
    # a bin/ directory binds its installation prefix: the interpreter's stdlib comes along
    assert any(Path(sys.base_prefix).resolve().is_relative_to(p) for p in binds)


def test_a_program_inside_the_repository_is_refused(tmp_path: Path) -> None:
    agent = script(tmp_path / "repo" / "tools" / "agent", "pass")
    with pytest.raises(AgentConfigError, match="would expose the repository"):
        program_binds(str(agent), "", protected_paths(tmp_path / "repo", [], None), None)


def test_a_program_beside_the_repository_is_narrowed_to_the_file(tmp_path: Path) -> None:
    """Its directory is the repository's parent: binding it would show the repository."""
    agent = script(tmp_path / "agent", "pass")
    (tmp_path / "repo").mkdir()
    _, binds = program_binds(str(agent), "", protected_paths(tmp_path / "repo", [], None), None)
    assert agent in binds and tmp_path not in binds


@pytest.mark.parametrize("configured", ["~", "~/", "/"])
def test_agent_paths_that_expose_home_or_everything_are_refused(
    tmp_path: Path, configured: str
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    agent = script(tmp_path / "bin-dir" / "agent", "pass")
    entry = AgentPath(path=configured if configured != "~" else "~/.")
    with pytest.raises(AgentConfigError, match="would expose"):
        resolve_view(
            str(agent),
            search_path="",
            configured=[entry],
            protected=protected_paths(tmp_path / "repo", [tmp_path / "data"], home),
            home=home,
        )


def test_agent_paths_bind_as_configured_and_missing_ones_are_named(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    (home / ".claude.json").write_text("{}")
    agent = script(tmp_path / "bin-dir" / "agent", "pass")
    view = resolve_view(
        str(agent),
        search_path="",
        configured=[
            AgentPath(path="~/.claude"),
            AgentPath(path="~/.claude.json", mode="ro"),
            AgentPath(path="~/.absent"),
        ],
        protected=protected_paths(tmp_path / "repo", [], home),
        home=home,
    )
    assert view.writable == (home / ".claude",)
    assert home / ".claude.json" in view.read_only
    assert view.missing == ("~/.absent",)


def run_in_view(
    tmp_path: Path, body: str, backend: BubblewrapBackend, timeout: float = 30
) -> tuple[Path, AgentRun]:
    copy = tmp_path / "copy"
    copy.mkdir(exist_ok=True)
    agent = script(tmp_path / "agent-dir" / "agent", body)
    search = os.pathsep.join((str(Path(sys.executable).parent), "/usr/bin", "/bin"))
    protected = protected_paths(tmp_path / "repo", [], None)
    view = resolve_view(
        str(agent), search_path=search, configured=[], protected=protected, home=None
    )
    policy = view.policy(
        copy, {"PATH": search}, network="none", timeout=timeout, protected=protected
    )
    return copy, run_agent([view.executable], "packet", policy, backend)


def test_the_agent_reads_the_packet_on_stdin_in_its_copy(
    tmp_path: Path, bwrap: BubblewrapBackend
) -> None:
    body = "import os, sys; print(sys.stdin.read().upper(), os.getcwd())"
    copy, run = run_in_view(tmp_path, body, bwrap)
    assert (run.returncode, run.stdout.split(), run.timed_out) == (
        0,
        ["PACKET", str(copy)],
        False,
    )
    assert run.backend == "bubblewrap"


def test_a_timeout_kills_everything_the_agent_started(
    tmp_path: Path, bwrap: BubblewrapBackend
) -> None:
    marker = "late"
    child = f"import time; time.sleep(3); open({marker!r}, 'w').write('x')"
    body = (
        "import os, subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', {child!r}], start_new_session=True)\n"
        "time.sleep(30)"
    )
    started = time.monotonic()
    copy, run = run_in_view(tmp_path, body, bwrap, timeout=1)
    assert run.timed_out and run.returncode is None
    assert time.monotonic() - started < 10
    time.sleep(3.5)
    assert not (copy / marker).exists()


def test_a_detached_child_dies_when_the_agent_exits_successfully(
    tmp_path: Path, bwrap: BubblewrapBackend
) -> None:
    child = "import time; time.sleep(2); open('late', 'w').write('x')"
    body = (
        "import subprocess, sys\n"
        f"subprocess.Popen([sys.executable, '-c', {child!r}], start_new_session=True,\n"
        "                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,\n"
        "                 stderr=subprocess.DEVNULL)\n"
    )
    copy, run = run_in_view(tmp_path, body, bwrap)
    assert run.returncode == 0
    time.sleep(3)
    assert not (copy / "late").exists()
