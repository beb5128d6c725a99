"""Where the forge runs untrusted processes: in the OS sandbox, or unconfined only on request.

Everything the forge starts that an agent influences (the coding agent itself; ruff, mypy
and pytest over its code) goes through :mod:`kavi_sandbox`. The choice is made once per
command, before anything is recorded: the bubblewrap sandbox, or — only after an explicit
opt-out (``--no-sandbox`` or ``sandbox.enabled: false``) — no sandbox, which every build
summary, verification and note then records. Where no sandbox can start and nobody opted
out, the command refuses (exit 2) with the fix; it never falls back by itself.

The tools' view: the interpreter, its site-packages and Kavi's own packages read-only; the
sandbox copy writable (and, for mypy alone, Kavi's mypy cache); no network; an environment
built from nothing that forbids bytecode writes.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

from kavi_forge.errors import SandboxRefused
from kavi_gates import KAVI_PACKAGES
from kavi_gates.models import Finding, GateResult, Severity, Status
from kavi_sandbox import (
    SANDBOX_HOME,
    SANDBOX_TMP,
    Backend,
    Limits,
    SandboxPolicy,
    SandboxUnavailable,
    package_dir,
    python_read_only_paths,
    select_backend,
)

SANDBOX_CHECK = "sandbox"
TOOL_MEMORY = 4 << 30
"""Address space per tool process: mypy on pydantic-heavy code needs more than the 2 GiB
default, and a runaway test still stops far below the machine's memory."""
TOOL_OUTPUT = 4 << 20


@dataclass(frozen=True)
class Isolation:
    """The backend one forge command runs untrusted processes with, and why."""

    backend: Backend
    opted_out_by: str | None = None
    """``--no-sandbox`` or ``sandbox.enabled: false`` when unconfined; None when sandboxed."""

    @property
    def name(self) -> str:
        """``bubblewrap`` or ``none``: what the ledger records."""
        return self.backend.name

    @property
    def sandboxed(self) -> bool:
        return self.backend.sandboxed

    def record(self) -> dict[str, object]:
        """The JSON a build summary carries about it."""
        return {
            "backend": self.name,
            "sandboxed": self.sandboxed,
            "opted_out_by": self.opted_out_by,
        }

    def describe(self) -> str:
        """One line for notes and the terminal."""
        if self.sandboxed:
            return f"sandbox: {self.name} (no network for the tools, only the copy writable)"
        return (
            f"sandbox: none, opted out by {self.opted_out_by}: the agent and its code ran "
            "unconfined, with the user's privileges"
        )

    def result(self) -> GateResult:
        """A verification row saying how the checks ran (skip, with a warning, when unconfined)."""
        if self.sandboxed:
            return GateResult(gate=SANDBOX_CHECK, status=Status.PASS, notes=(self.name,))
        finding = Finding(
            gate=SANDBOX_CHECK,
            rule=SANDBOX_CHECK,
            severity=Severity.WARNING,
            path=".",
            message=self.describe(),
        ).with_fingerprint()
        return GateResult(
            gate=SANDBOX_CHECK, status=Status.SKIP, findings=(finding,), notes=(self.name,)
        )


def choose_isolation(*, enabled: bool, no_sandbox: bool) -> Isolation:
    """The sandbox, or no sandbox when explicitly opted out; refuse where none can start."""
    if no_sandbox:
        return Isolation(select_backend(sandbox=False), "--no-sandbox")
    if not enabled:
        return Isolation(select_backend(sandbox=False), "sandbox.enabled: false")
    try:
        return Isolation(select_backend(sandbox=True))
    except SandboxUnavailable as err:
        raise SandboxRefused(
            f"no sandbox can start, so nothing untrusted runs: {err}. To run the agent and "
            "its code unconfined anyway, opt out explicitly with --no-sandbox or "
            "`sandbox: {enabled: false}` (recorded in the ledger)"
        ) from None


class _Row(Protocol):
    @property
    def gate(self) -> str: ...

    @property
    def status(self) -> Status: ...


def was_sandboxed(rows: Iterable[_Row]) -> bool | None:
    """From a verification's rows: True/False, or None for one recorded before the row."""
    for row in rows:
        if row.gate == SANDBOX_CHECK:
            return row.status is Status.PASS
    return None


@cache
def tool_read_only() -> tuple[Path, ...]:
    """The interpreter, its site-packages and Kavi's packages (skills import kavi_skills)."""
    present = [name for name in KAVI_PACKAGES if package_dir(name) is not None]
    return python_read_only_paths(present)


def tool_env() -> dict[str, str]:
    """The tools' whole environment: no secret, no bytecode written, a private home."""
    return {
        "PATH": os.pathsep.join((os.path.dirname(sys.executable), "/usr/bin", "/bin")),
        "HOME": str(SANDBOX_HOME),
        "TMPDIR": str(SANDBOX_TMP),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONUTF8": "1",
    }


def tool_policy(
    copy: Path,
    env: dict[str, str],
    timeout: float,
    *,
    writable: tuple[Path, ...] = (),
    read_only: tuple[Path, ...] = (),
) -> SandboxPolicy:
    """Run a tool on ``copy``: no network, the copy (and ``writable``) the only writable paths."""
    mine = {copy, *writable}
    return SandboxPolicy(
        read_only=tuple(p for p in (*tool_read_only(), *read_only) if p not in mine),
        writable=tuple(mine),
        network="none",
        env=env,
        cwd=copy,
        limits=Limits(wall_time=timeout, memory_bytes=TOOL_MEMORY, output_bytes=TOOL_OUTPUT),
    )


def scrub_bytecode(root: Path) -> list[str]:
    """Remove every ``__pycache__`` and ``.pyc`` under ``root`` (never following a symlink).

    The copy never holds bytecode (it is not copied), so any there was planted: removed
    before the tools run, so they execute the checked source and nothing else."""
    removed: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        for name in list(dirnames):
            if name == "__pycache__":
                target = here / name
                if target.is_symlink():
                    target.unlink()
                else:
                    shutil.rmtree(target, ignore_errors=True)
                dirnames.remove(name)
                removed.append(target.relative_to(root).as_posix())
        for name in filenames:
            target = here / name
            if name.endswith((".pyc", ".pyo")) and not stat.S_ISDIR(target.lstat().st_mode):
                target.unlink()
                removed.append(target.relative_to(root).as_posix())
    return removed
