"""Worker processes with a time budget per job: the parser is native code that no Python
alarm can interrupt, so each file is analysed in a forked process the gate can kill.

The pool is a few pipes and ``os.fork`` (no ``multiprocessing``: its import and start-up
cost more than the small runs that wait on it). Jobs go out one at a time, each to an idle
worker; a worker past its job's deadline is killed and replaced, and its job reported as
``Overrun``, so one slow file never holds up or hangs the run. Without ``os.fork`` (not a
POSIX system) jobs run in this process, unbounded.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import select
import signal
import struct
import time
from collections import deque
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any

_HEADER = struct.Struct("!Q")
CAN_FORK = hasattr(os, "fork")


@dataclass(frozen=True)
class Done:
    value: Any


@dataclass(frozen=True)
class Failed:
    """The job raised: ``error`` is ``"Type: message"``."""

    error: str


@dataclass(frozen=True)
class Overrun:
    """The job ran past its budget and its worker was killed."""

    budget: float


@dataclass(frozen=True)
class Crashed:
    """The worker died without answering (a signal, the out-of-memory killer)."""

    detail: str


Outcome = Done | Failed | Overrun | Crashed


def _write(fd: int, payload: bytes) -> None:
    view = memoryview(_HEADER.pack(len(payload)) + payload)
    while view:
        view = view[os.write(fd, view) :]


def _read(fd: int) -> bytes | None:
    """One framed message, or None at end of file (the other side is gone)."""
    header = _read_exactly(fd, _HEADER.size)
    if header is None:
        return None
    return _read_exactly(fd, _HEADER.unpack(header)[0])


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks: list[bytes] = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _serve(work: Callable[[Any], Any], jobs_fd: int, results_fd: int) -> None:
    """The worker's loop: read a job, run it, answer; exit when the pool closes the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the pool's process handles Ctrl-C
    # A worker builds and drops one syntax tree after another, with no reference cycles
    # (the analysis breaks its own: ModuleFacts.release): collecting every 700 new objects
    # would cost it a tenth of its time for nothing. Inherited objects stay out of
    # collections altogether (and their memory pages unwritten).
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    while True:
        message = _read(jobs_fd)
        if message is None:
            return
        # Answers are plain tuples: unpickling them needs no class of this module, which
        # an interpreter that reloads modules (pytester) may have replaced meanwhile.
        try:
            payload = pickle.dumps((True, work(pickle.loads(message))), pickle.HIGHEST_PROTOCOL)
        except BaseException as err:  # reported to the pool, never lost
            payload = pickle.dumps((False, f"{type(err).__name__}: {err}"))
        _write(results_fd, payload)


class _Worker:
    def __init__(self, work: Callable[[Any], Any], others: Sequence[int]) -> None:
        jobs_read, self.jobs_fd = os.pipe()
        self.results_fd, results_write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: serve, then leave without running any cleanup
            status = 0
            try:
                for fd in (self.jobs_fd, self.results_fd, *others):
                    os.close(fd)
                _serve(work, jobs_read, results_write)
            except BaseException:
                status = 1
            finally:
                os._exit(status)
        os.close(jobs_read)
        os.close(results_write)
        self.job: int | None = None
        self.deadline = 0.0

    def send(self, index: int, job: Any, budget: float) -> None:
        self.job = index
        self.deadline = time.monotonic() + budget
        _write(self.jobs_fd, pickle.dumps(job, pickle.HIGHEST_PROTOCOL))

    def stop(self, kill: bool) -> str:
        """Close the pipes and reap the process; the wait status, described."""
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        for fd in (self.jobs_fd, self.results_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        _, status = os.waitpid(self.pid, 0)
        if os.WIFSIGNALED(status):
            return f"killed by signal {os.WTERMSIG(status)}"
        return f"exit status {os.waitstatus_to_exitcode(status)}"


def run_budgeted(
    work: Callable[[Any], Any], jobs: Sequence[tuple[Any, float]], processes: int
) -> Generator[tuple[int, Outcome], None, None]:
    """Run ``work(job)`` for each ``(job, budget_seconds)`` in up to ``processes`` forked
    workers; yield ``(index, outcome)`` as jobs finish, in any order."""
    if not CAN_FORK:
        yield from _run_here(work, jobs)
        return
    pending = deque(range(len(jobs)))
    idle: list[_Worker] = []
    busy: dict[int, _Worker] = {}  # results fd -> worker
    limit = max(1, min(processes, len(jobs)))
    try:
        while pending or busy:
            while pending and (idle or len(busy) < limit):
                worker = idle.pop() if idle else _spawn(work, busy, idle)
                index = pending.popleft()
                job, budget = jobs[index]
                try:
                    worker.send(index, job, budget)
                except OSError:  # it died while idle: reap it and try a fresh one
                    worker.stop(kill=True)
                    worker = _spawn(work, busy, idle)
                    worker.send(index, job, budget)
                busy[worker.results_fd] = worker
            timeout = max(0.0, min(w.deadline for w in busy.values()) - time.monotonic())
            ready, _, _ = select.select(list(busy), [], [], timeout)
            for fd in ready:
                worker = busy.pop(fd)
                answered = worker.job
                assert answered is not None
                message = _read(fd)
                if message is None:
                    yield answered, Crashed(worker.stop(kill=True))
                    continue
                succeeded, value = pickle.loads(message)
                worker.job = None
                idle.append(worker)
                yield answered, Done(value) if succeeded else Failed(value)
            now = time.monotonic()
            for fd, worker in list(busy.items()):
                if worker.deadline <= now:
                    del busy[fd]
                    worker.stop(kill=True)
                    assert worker.job is not None
                    yield worker.job, Overrun(jobs[worker.job][1])
    finally:
        for worker in (*idle, *busy.values()):
            worker.stop(kill=worker.job is not None)


def _spawn(work: Callable[[Any], Any], busy: dict[int, _Worker], idle: list[_Worker]) -> _Worker:
    others = [fd for w in (*busy.values(), *idle) for fd in (w.jobs_fd, w.results_fd)]
    return _Worker(work, others)


def _run_here(
    work: Callable[[Any], Any], jobs: Sequence[tuple[Any, float]]
) -> Generator[tuple[int, Outcome], None, None]:
    for index, (job, _budget) in enumerate(jobs):
        try:
            yield index, Done(work(job))
        except Exception as err:
            yield index, Failed(f"{type(err).__name__}: {err}")
