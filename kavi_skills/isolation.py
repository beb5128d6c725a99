"""Starting a skill's child process: the sandbox policy and the broker pipe.

The child sees, read-only, the interpreter with its site-packages, Kavi's own runtime
packages (only their directories, never a checkout around them) and the vault; nothing of
the repository, Kavi's data and config directories or the home directory. It has no
network namespace access, may not start processes, and its environment is built from
nothing: ``LC_ALL``, ``HOME`` (an empty tmpfs), ``PYDANTIC_DISABLE_PLUGINS``, ``TZ`` when
the caller has one, and later the declared secrets (sent over the pipe, so they never
appear in any command line).
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from kavi_gates.config import LoadedConfig
from kavi_ledger.paths import KaviPaths
from kavi_sandbox import (
    SANDBOX_HOME,
    Limits,
    SandboxedProcess,
    SandboxError,
    SandboxPolicy,
    python_read_only_paths,
    select_backend,
)
from kavi_sandbox.policy import is_within
from kavi_skills.errors import SandboxRefused
from kavi_skills.protocol import MAX_CHILD_FRAME, read_frame, write_frame

CHILD_MODULE = "kavi_skills.sandbox_child"
CHILD_PACKAGES = ("kavi_skills", "kavi_gates", "kavi_sandbox")
"""The installed packages the child imports (bound read-only, one directory each)."""
OUTPUT_LIMIT = 1 << 20
"""What a skill may print on stdout and stderr (each); more stops its process."""


def sandbox_enabled(loaded: LoadedConfig, sandbox: bool | None) -> bool:
    """The caller's explicit choice, else the project's ``sandbox.enabled`` (default true)."""
    return loaded.config.sandbox.enabled if sandbox is None else sandbox


def _home() -> Path | None:
    try:
        return Path.home()
    except (RuntimeError, KeyError):  # no HOME and no passwd entry: nothing to hide there
        return None


def child_policy(loaded: LoadedConfig, paths: KaviPaths, broker_fd: int) -> SandboxPolicy:
    """What a skill's child may see and do (see the module docstring)."""
    read_only = list(python_read_only_paths(CHILD_PACKAGES))
    vault = Path(os.path.abspath(paths.vault_dir))
    if (
        vault.is_dir()
    ):  # a bind mount is live: notes written later are seen, a vault made later is not
        read_only.append(vault)
    visible = [Path(p) for p in read_only]
    sensitive = [loaded.root, paths.data_dir, paths.config_dir, paths.cache_dir]
    home = _home()
    if home is not None:
        sensitive.append(home)
    # Hide what lies *inside* something visible (a vault holding the config directory, a
    # virtual environment's prefix holding the repository...); what is outside is unseen.
    masked = [
        Path(os.path.abspath(path))
        for path in sensitive
        if any(is_within(Path(os.path.abspath(path)), v) and Path(path) != v for v in visible)
        and not any(is_within(v, Path(os.path.abspath(path))) for v in visible)
    ]
    # No pydantic plugins in a skill's child: their entry-point scan of site-packages is the
    # slowest part of the child's start-up, and no plugin should see a skill's data.
    env = {"LC_ALL": "C.UTF-8", "HOME": str(SANDBOX_HOME), "PYDANTIC_DISABLE_PLUGINS": "__all__"}
    if os.environ.get("TZ"):
        env["TZ"] = os.environ["TZ"]  # so "today" in a skill is the user's day
    settings = loaded.config.sandbox
    return SandboxPolicy(
        read_only=tuple(read_only),
        masked=tuple(masked),
        network="none",
        env=env,
        # The child sets its own memory limit before any skill code runs (--memory-mb):
        # a limit applied here would make this large process fork instead of vfork.
        limits=Limits(wall_time=settings.timeout, memory_bytes=None, output_bytes=OUTPUT_LIMIT),
        allow_processes=False,
        pass_fds=(broker_fd,),
    )


class SkillProcess:
    """A started child waiting for its run request, and the parent's end of the pipe."""

    def __init__(
        self, process: SandboxedProcess, channel: socket.socket, sees_vault: bool = True
    ) -> None:
        self.process = process
        self._channel = channel
        self.sees_vault = sees_vault
        """False when the vault did not exist yet when it started (so it cannot see it)."""
        self.fd = channel.fileno()
        self.backend = process.backend
        self.sandboxed = process.sandboxed

    @classmethod
    def start(cls, loaded: LoadedConfig, paths: KaviPaths, sandbox: bool | None) -> SkillProcess:
        """Start a child now (its start-up overlaps the caller's trust check)."""
        enabled = sandbox_enabled(loaded, sandbox)
        try:
            backend = select_backend(sandbox=enabled, probe_alongside=True)
        except SandboxError as err:
            raise SandboxRefused(
                f"cannot run skills in a sandbox: {err}. To run without one, opt out "
                "explicitly with --no-sandbox or `sandbox: {enabled: false}` in the config "
                "(every execution record then says sandbox: none)"
            ) from None
        parent_end, child_end = socket.socketpair()
        try:
            policy = child_policy(loaded, paths, child_end.fileno())
            argv = [sys.executable, "-I", "-B", "-m", CHILD_MODULE]
            argv += ["--broker-fd", str(child_end.fileno())]
            argv += ["--memory-mb", str(loaded.config.sandbox.memory_mb)]
            if backend.sandboxed:
                argv.append("--confine")
            process = backend.spawn(argv, policy)
        except SandboxError as err:
            parent_end.close()
            raise SandboxRefused(
                f"cannot run skills in a sandbox: {err}. To run without one, opt out "
                "explicitly with --no-sandbox or `sandbox: {enabled: false}` in the config "
                "(every execution record then says sandbox: none)"
            ) from None
        finally:
            child_end.close()
        parent_end.setblocking(False)
        return cls(process, parent_end, sees_vault=Path(paths.vault_dir).is_dir())

    def deadline(self) -> float:
        """When the wall-time limit ends (``time.monotonic()``)."""
        left = self.process.remaining()
        return time.monotonic() + (left if left is not None else 24 * 3600.0)

    def send(self, message: BaseModel) -> None:
        """Send one message (bounded by the wall time)."""
        write_frame(self.fd, message, self.deadline())

    def receive(self) -> Any:
        """The child's next message as JSON (bounded in size and by the wall time)."""
        return read_frame(self.fd, MAX_CHILD_FRAME, self.deadline())

    def failure_detail(self) -> str:
        """Why the child ended without an answer (completes "the skill's process ...")."""
        code = self.process.wait(timeout=2.0)
        if self.process.timed_out:
            return "timed out (the sandbox's wall-time limit); its processes were killed"
        if self.process.output_exceeded:
            return f"printed more than {OUTPUT_LIMIT} bytes; its process was stopped"
        stderr = " ".join(self.process.stderr_text().split())
        tail = f": {stderr[-400:]}" if stderr else ""
        return f"ended without a result (exit code {code}){tail}"

    def close(self) -> None:
        """Kill whatever is left of the child and close the pipe."""
        self.process.close()
        with contextlib.suppress(OSError):
            self._channel.close()

    def __enter__(self) -> SkillProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
