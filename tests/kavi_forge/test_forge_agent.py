"""The agent's environment, the not-installed message and the timeout."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from kavi_forge.agent import agent_argv, clean_env, looks_secret, run_agent
from kavi_forge.errors import AgentNotInstalled


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
    assert looks_secret(name)


def test_clean_env_keeps_ordinary_variables_and_drops_secrets() -> None:
    env = {"PATH": "/bin", "HOME": "/h", "GH_TOKEN": "t", "MY_API_URL": "u"}
    assert clean_env(env) == {"PATH": "/bin", "HOME": "/h"}


def test_clean_env_drops_declared_secrets_whatever_their_name() -> None:
    assert clean_env({"WEATHER": "w", "PATH": "/bin"}, declared_secrets=["WEATHER"]) == {
        "PATH": "/bin"
    }


def test_allowed_names_pass_but_declared_secrets_never_do() -> None:
    env = {"ANTHROPIC_API_KEY": "a", "SKILL_TOKEN": "s"}
    cleaned = clean_env(
        env, declared_secrets=["SKILL_TOKEN"], allow=["ANTHROPIC_API_KEY", "SKILL_TOKEN"]
    )
    assert cleaned == {"ANTHROPIC_API_KEY": "a"}


def test_a_missing_agent_is_reported_clearly() -> None:
    with pytest.raises(AgentNotInstalled, match="'no-such-agent-xyz' is not installed"):
        agent_argv("no-such-agent-xyz -p")


def test_the_agent_reads_the_packet_on_stdin(tmp_path: Path) -> None:
    script = "import sys; print(sys.stdin.read().upper())"
    run = run_agent([sys.executable, "-c", script], "packet", tmp_path, {"PATH": ""}, 30)
    assert (run.returncode, run.stdout.strip(), run.timed_out) == (0, "PACKET", False)


def test_a_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    marker = tmp_path / "late"
    child = f"import time; time.sleep(3); open({str(marker)!r}, 'w').write('x')"
    script = (
        f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {child!r}]);"
        " time.sleep(30)"
    )
    started = time.monotonic()
    run = run_agent([sys.executable, "-c", script], "", tmp_path, {"PATH": ""}, 1)
    assert run.timed_out and run.returncode is None
    assert time.monotonic() - started < 10
    time.sleep(3.5)
    assert not marker.exists()
