"""Running the coding agent: packet on stdin, a secret-free environment, a hard timeout."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from kavi_forge.errors import AgentNotInstalled

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
OUTPUT_LIMIT = 20_000


def looks_secret(name: str) -> bool:
    """True for env var names that look like they hold a secret (API_KEY, GH_TOKEN...)."""
    upper = name.upper()
    return any(marker in upper for marker in SECRET_MARKERS)


def clean_env(
    environ: Mapping[str, str],
    *,
    declared_secrets: Iterable[str] = (),
    allow: Iterable[str] = (),
) -> dict[str, str]:
    """``environ`` without secret-looking names and without any secret a skill declares.

    ``allow`` lets named variables through (the agent's own login); declared skill secrets
    never pass, whatever ``allow`` says.
    """
    declared, allowed = set(declared_secrets), set(allow)
    return {
        name: value
        for name, value in environ.items()
        if name not in declared and (name in allowed or not looks_secret(name))
    }


def agent_argv(command: str) -> list[str]:
    """Split the configured command; refuse clearly when its program is not installed."""
    argv = shlex.split(command)
    if not argv:
        raise AgentNotInstalled("the agent command is empty (set forge.agent or pass --agent)")
    if shutil.which(argv[0]) is None:
        raise AgentNotInstalled(
            f"agent command {argv[0]!r} is not installed (not found on PATH); install it, "
            "or pass --agent CMD / set forge.agent in kavi.yaml or [tool.kavi.forge]"
        )
    return argv


@dataclass(frozen=True)
class AgentRun:
    """What the agent did: exit code (None on timeout) and its output, bounded."""

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool


def _bounded(data: bytes) -> str:
    text = data.decode("utf-8", "replace")
    return text if len(text) <= OUTPUT_LIMIT else text[:OUTPUT_LIMIT] + "\n[... cut]"


def run_agent(
    argv: list[str], packet: str, cwd: Path, env: Mapping[str, str], timeout: float
) -> AgentRun:
    """Run the agent in its own process group; on timeout the whole group is killed."""
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(packet.encode("utf-8"), timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        return AgentRun(None, _bounded(out), _bounded(err), timed_out=True)
    return AgentRun(process.returncode, _bounded(out), _bounded(err), timed_out=False)
