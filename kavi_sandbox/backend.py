"""Backends: bubblewrap (the sandbox) and an explicit, recorded "no sandbox".

Callers choose with :func:`select_backend`; there is no automatic fallback. ``name`` and
``sandboxed`` are what a caller records (ledger, execution log) about how code ran.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Sequence
from typing import IO, Protocol

from kavi_sandbox import bwrap, seccomp
from kavi_sandbox.errors import SandboxUnavailable
from kavi_sandbox.policy import SANDBOX_HOME, SANDBOX_TMP, SandboxPolicy, is_within
from kavi_sandbox.process import SandboxedProcess, SandboxResult, limits_preexec

PIPE = subprocess.PIPE
DEVNULL = subprocess.DEVNULL


class Backend(Protocol):
    """Starts a command under a policy."""

    @property
    def name(self) -> str:
        """``bubblewrap`` or ``none``: what a caller records."""
        ...

    @property
    def sandboxed(self) -> bool:
        """False only for the explicit opt-out."""
        ...

    def spawn(
        self, argv: Sequence[str], policy: SandboxPolicy, *, stdin: int = DEVNULL
    ) -> SandboxedProcess:
        """Start ``argv`` (stdout and stderr captured, bounded) and return at once."""
        ...


def _memfd(name: str, data: bytes) -> int:
    fd = os.memfd_create(name, 0)  # not CLOEXEC-less: Popen's pass_fds makes it inheritable
    try:
        os.write(fd, data)
        os.lseek(fd, 0, os.SEEK_SET)
    except OSError:
        os.close(fd)
        raise
    return fd


def _closer(fds: Sequence[int], extra: Callable[[], None] | None = None) -> Callable[[], None]:
    def close() -> None:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        if extra is not None:
            extra()

    return close


class BubblewrapBackend:
    """The Linux sandbox: namespaces by bubblewrap, plus a seccomp filter on every process."""

    name = "bubblewrap"
    sandboxed = True

    def __init__(self, found: bwrap.Bubblewrap, pending: bwrap.PendingProbe | None = None) -> None:
        self.bwrap = found
        self._pending = pending

    def spawn(
        self, argv: Sequence[str], policy: SandboxPolicy, *, stdin: int = DEVNULL
    ) -> SandboxedProcess:
        """Start ``argv`` in a new sandbox for ``policy``."""
        if not argv:
            raise ValueError("empty command")
        program = seccomp.base_filter(allow_processes=policy.allow_processes)
        fds = [_memfd("kavi-seccomp", program)]

        def empty_fd() -> int:
            fds.append(_memfd("kavi-masked", b""))
            return fds[-1]

        try:
            options = bwrap.options(self.bwrap, policy, fds[0], empty_fd)
            args_fd = _memfd("kavi-bwrap-args", b"".join(a.encode() + b"\0" for a in options))
        except BaseException:
            _closer(fds)()
            raise
        fds.append(args_fd)
        try:
            popen = subprocess.Popen(
                [str(self.bwrap.path), "--args", str(args_fd), "--", *argv],
                stdin=stdin,
                stdout=PIPE,
                stderr=PIPE,
                env={},
                cwd="/",
                pass_fds=(*fds, *policy.pass_fds),
                preexec_fn=limits_preexec(policy.limits),
            )
        except OSError as err:
            _closer(fds)()
            raise SandboxUnavailable(
                f"cannot start bubblewrap at {self.bwrap.path}: {err}"
            ) from None
        _closer(fds)()  # the child holds its own copies; bwrap reads them at start
        process = SandboxedProcess(
            popen, policy.limits, backend=self.name, sandboxed=True, kill_group=False
        )
        if self._pending is not None:  # the probe ran alongside; nothing returns before it
            try:
                self._pending.result()
            except SandboxUnavailable:
                process.close()
                raise
            self._pending = None
        return process


class NoSandboxBackend:
    """The explicit opt-out: a plain child process with the policy's environment, cwd and
    limits, and none of its isolation (every path visible, host network, processes allowed).
    Callers must have chosen it and must record ``sandboxed=False``."""

    name = "none"
    sandboxed = False

    def spawn(
        self, argv: Sequence[str], policy: SandboxPolicy, *, stdin: int = DEVNULL
    ) -> SandboxedProcess:
        """Start ``argv`` as an ordinary child in its own process group."""
        if not argv:
            raise ValueError("empty command")
        scratch: str | None = None
        cwd = str(policy.cwd)
        private = is_within(policy.cwd, SANDBOX_HOME) or is_within(policy.cwd, SANDBOX_TMP)
        if private and not os.path.isdir(cwd):  # no tmpfs without a sandbox: a scratch dir
            scratch = tempfile.mkdtemp(prefix="kavi-nosandbox-")
            cwd = scratch
        popen = subprocess.Popen(
            list(argv),
            stdin=stdin,
            stdout=PIPE,
            stderr=PIPE,
            env=dict(policy.env),
            cwd=cwd,
            pass_fds=policy.pass_fds,
            preexec_fn=limits_preexec(policy.limits),
            start_new_session=True,
        )
        cleanup = (lambda: shutil.rmtree(scratch, ignore_errors=True)) if scratch else None
        return SandboxedProcess(
            popen,
            policy.limits,
            backend=self.name,
            sandboxed=False,
            kill_group=True,
            on_close=cleanup,
        )


def select_backend(
    *, sandbox: bool = True, probe_alongside: bool = False
) -> BubblewrapBackend | NoSandboxBackend:
    """The bubblewrap backend (probed once per process; raises :class:`SandboxUnavailable`
    naming the fix), or — only when the caller explicitly opted out — no sandbox.

    With ``probe_alongside`` the probe's result is awaited by the first ``spawn``, after it
    has started its own process (the two start in parallel); ``spawn`` still returns only
    once the probe passed, and raises (killing what it started) if it did not.
    """
    if not sandbox:
        return NoSandboxBackend()
    pending = bwrap.start_probe()
    if probe_alongside:
        return BubblewrapBackend(pending.bwrap, pending)
    return BubblewrapBackend(pending.result())


def run(
    argv: Sequence[str],
    policy: SandboxPolicy,
    *,
    backend: Backend | None = None,
    input: bytes | None = None,
) -> SandboxResult:
    """Run ``argv`` under ``policy`` to the end (or the wall time) and return the result."""
    chosen = backend if backend is not None else select_backend()
    with chosen.spawn(argv, policy, stdin=PIPE if input is not None else DEVNULL) as process:
        stdin = process.stdin
        if input is not None and stdin is not None:
            # A thread, so a command that never reads cannot block us past the wall time.
            threading.Thread(target=_feed, args=(stdin, input), daemon=True).start()
        return process.result()


def _feed(stream: IO[bytes], data: bytes) -> None:
    with contextlib.suppress(OSError):
        stream.write(data)
    with contextlib.suppress(OSError):
        stream.close()
