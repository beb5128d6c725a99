"""A started sandbox: bounded output capture, a wall-time deadline, and kill-everything.

The caller gets a :class:`SandboxedProcess` (to talk to the process while it runs, e.g. over
a broker pipe) or, through ``run``, a :class:`SandboxResult`. Killing a bubblewrap sandbox
kills bwrap; ``--die-with-parent`` then takes down the PID namespace's init, and the kernel
kills every process left in it. Without a sandbox only the process group can be killed.
"""

from __future__ import annotations

import contextlib
import os
import resource
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from kavi_sandbox.policy import Limits

_CHUNK = 65536


@dataclass(frozen=True)
class SandboxResult:
    """How a sandboxed command ended and what it printed (each stream cut at the limit)."""

    returncode: int
    stdout: bytes
    stderr: bytes
    timed_out: bool
    output_exceeded: bool
    backend: str
    sandboxed: bool
    duration: float


def _count_user_processes(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if os.stat(entry.path).st_uid == uid:
                    count += 1
    return count


def limits_preexec(limits: Limits) -> Callable[[], None] | None:
    """A ``preexec_fn`` applying ``limits`` (rlimits are inherited through exec and fork), or
    None when there is nothing to apply.

    A ``preexec_fn`` makes the caller ``fork`` instead of ``vfork``: for a large caller that
    is tens of milliseconds per start, so a Python child that can apply its own limits before
    running untrusted code (see :func:`kavi_sandbox.confine.confine_self`) should leave
    ``memory_bytes`` and ``processes`` unset here.
    """
    if limits.memory_bytes is None and limits.processes is None:
        return None
    nproc = None
    if limits.processes is not None and os.getuid() != 0:
        # RLIMIT_NPROC counts all of the user's processes: leave room for the ones running.
        nproc = _count_user_processes(os.getuid()) + limits.processes
    memory = limits.memory_bytes

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        if nproc is not None:
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))

    return apply


class _BoundedReader(threading.Thread):
    """Drains one pipe, keeping at most ``limit`` bytes; calls ``overflow`` once past it."""

    def __init__(self, stream: IO[bytes], limit: int, overflow: Callable[[], None]) -> None:
        super().__init__(daemon=True)
        self._stream = stream
        self._limit = limit
        self._overflow = overflow
        self._chunks: list[bytes] = []
        self._size = 0
        self.exceeded = False

    def run(self) -> None:
        fd = self._stream.fileno()
        while True:
            try:
                chunk = os.read(fd, _CHUNK)
            except OSError:
                break
            if not chunk:
                break
            room = self._limit - self._size
            if room > 0:
                self._chunks.append(chunk[:room])
                self._size += min(room, len(chunk))
            if len(chunk) > room and not self.exceeded:
                self.exceeded = True
                self._overflow()
        self._stream.close()

    def data(self) -> bytes:
        return b"".join(self._chunks)


class SandboxedProcess:
    """A running sandboxed command. Use as a context manager: leaving it kills what is left."""

    def __init__(
        self,
        popen: subprocess.Popen[bytes],
        limits: Limits,
        *,
        backend: str,
        sandboxed: bool,
        kill_group: bool,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._popen = popen
        self._limits = limits
        self.backend = backend
        self.sandboxed = sandboxed
        self._kill_group = kill_group
        self._on_close = on_close
        self._started = time.monotonic()
        self.timed_out = False
        self._closed = False
        self._pidfd: int | None = None
        with contextlib.suppress(OSError, AttributeError):  # Linux 5.3+; else Popen's polling
            self._pidfd = os.pidfd_open(popen.pid)
        self._readers = [
            _BoundedReader(stream, limits.output_bytes, self.kill)
            for stream in (popen.stdout, popen.stderr)
            if stream is not None
        ]
        for reader in self._readers:
            reader.start()

    @property
    def pid(self) -> int:
        """The host pid of the outermost process (bwrap, or the command without a sandbox)."""
        return self._popen.pid

    @property
    def stdin(self) -> IO[bytes] | None:
        """The command's stdin when it was started with ``stdin=PIPE``."""
        return self._popen.stdin

    def restart_clock(self) -> None:
        """Count the wall time from now: for a process started ahead of its work (it idled
        while the caller was still deciding, e.g. asking for confirmation)."""
        self._started = time.monotonic()

    def remaining(self) -> float | None:
        """Seconds left of the wall-time limit (``None``: no limit)."""
        if self._limits.wall_time is None:
            return None
        return max(0.0, self._limits.wall_time - (time.monotonic() - self._started))

    def poll(self) -> int | None:
        """The exit code, or ``None`` while it runs (the deadline is enforced here too)."""
        code = self._popen.poll()
        if code is None and self.remaining() == 0.0:
            self.timed_out = True
            self.kill()
            code = self._popen.wait()
        return code

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait up to ``timeout`` (and never past the wall time, which kills everything)."""
        left = self.remaining()
        budget = left if timeout is None else (timeout if left is None else min(timeout, left))
        if budget is None or self._exited_within(budget):
            return self._popen.wait()
        if self.remaining() == 0.0:
            self.timed_out = True
            self.kill()
            return self._popen.wait()
        return None

    def _exited_within(self, seconds: float) -> bool:
        """Block until the process exits or ``seconds`` pass; True if it exited.

        A pidfd wakes us exactly when it exits (``Popen.wait(timeout)`` polls, with sleeps of
        up to 50 ms: tens of milliseconds on every short command).
        """
        if self._popen.poll() is not None:
            return True
        if self._pidfd is None:
            try:
                self._popen.wait(seconds)
            except subprocess.TimeoutExpired:
                return False
            return True
        readable, _, _ = select.select([self._pidfd], [], [], seconds)
        return bool(readable) or self._popen.poll() is not None

    def kill(self) -> None:
        """SIGKILL the sandbox (every process in it) or, unsandboxed, the process group."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if self._kill_group:
                os.killpg(self._popen.pid, signal.SIGKILL)
            else:
                self._popen.kill()

    @property
    def output_exceeded(self) -> bool:
        """True when stdout or stderr went past the output limit (the process was killed)."""
        return any(reader.exceeded for reader in self._readers)

    def result(self) -> SandboxResult:
        """Wait for the end (bounded by the wall time) and collect the output."""
        code = self.wait()
        if code is None:  # unreachable without a deadline; keep the type honest
            self.kill()
            code = self._popen.wait()
        for reader in self._readers:
            reader.join()
        stdout, stderr = (
            (self._readers[0].data(), self._readers[1].data())
            if len(self._readers) == 2
            else (b"", b"")
        )
        self.close()
        return SandboxResult(
            returncode=code,
            stdout=stdout,
            stderr=stderr,
            timed_out=self.timed_out,
            output_exceeded=self.output_exceeded,
            backend=self.backend,
            sandboxed=self.sandboxed,
            duration=time.monotonic() - self._started,
        )

    def stderr_text(self) -> str:
        """What stderr held so far (after the process ended), decoded leniently."""
        if len(self._readers) == 2:
            self._readers[1].join(timeout=1.0)
            return self._readers[1].data().decode("utf-8", "replace")
        return ""

    def close(self) -> None:
        """Kill whatever is still running and release the descriptors (once)."""
        if self._closed:
            return
        self._closed = True
        if self._popen.poll() is None:
            self.kill()
            self._popen.wait()
        if self._kill_group:  # the leader is gone; its group may not be
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._popen.pid, signal.SIGKILL)
        if self._popen.stdin is not None:
            with contextlib.suppress(OSError):
                self._popen.stdin.close()
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        if self._on_close is not None:
            self._on_close()
            self._on_close = None

    def __enter__(self) -> SandboxedProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
