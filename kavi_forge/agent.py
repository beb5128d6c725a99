"""Running the coding agent: packet on stdin, inside its sandbox, under a hard timeout.

The agent's environment is an allowlist built from nothing (``forge.agent_env``, see
:func:`kavi_forge.agent_view.agent_environment`); what it sees is
:class:`kavi_forge.agent_view.AgentView`. In the bubblewrap sandbox every process it started
dies with it (a PID namespace), whether it succeeded, failed or timed out.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from kavi_forge.errors import AgentNotInstalled
from kavi_sandbox import Backend, SandboxError, SandboxPolicy, run

OUTPUT_LIMIT = 20_000
SECRET_MARKERS = (
    "KEY",
    "TOKEN",
    "SECRET",
    "PASSW",
    "API",
    "CREDENTIAL",
    "AUTH",
    "PRIVATE",
    "COOKIE",
    "SESSION",
    "CERT",
)


def looks_secret(name: str) -> bool:
    """True for names like API_KEY or GH_TOKEN. Only widens what is redacted from notes;
    what the agent may read is decided by the allowlist, never by this guess."""
    upper = name.upper()
    return any(marker in upper for marker in SECRET_MARKERS)


def agent_argv(command: str) -> list[str]:
    """Split the configured command (its program is located by ``resolve_view``)."""
    try:
        argv = shlex.split(command)
    except ValueError as err:
        raise AgentNotInstalled(f"the agent command cannot be parsed: {err}") from None
    if not argv:
        raise AgentNotInstalled("the agent command is empty (set forge.agent or pass --agent)")
    return argv


@dataclass(frozen=True)
class AgentRun:
    """What the agent did: exit code (None when stopped) and its output, bounded."""

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool
    backend: str = "none"
    stopped: str = ""
    """Why the agent was stopped short of exiting by itself ('' when it exited)."""


def _bounded(data: bytes) -> str:
    text = data.decode("utf-8", "replace")
    return text if len(text) <= OUTPUT_LIMIT else text[:OUTPUT_LIMIT] + "\n[... cut]"


def run_agent(argv: list[str], packet: str, policy: SandboxPolicy, backend: Backend) -> AgentRun:
    """Run the agent under ``policy``; at the wall time everything it started is killed."""
    try:
        result = run(argv, policy, backend=backend, input=packet.encode("utf-8"))
    except (SandboxError, OSError) as err:
        return AgentRun(None, "", f"the agent could not start: {err}", False, backend.name, "start")
    stopped = "timeout" if result.timed_out else "output" if result.output_exceeded else ""
    return AgentRun(
        None if stopped else result.returncode,
        _bounded(result.stdout),
        _bounded(result.stderr),
        result.timed_out,
        result.backend,
        stopped,
    )
