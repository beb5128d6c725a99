"""Worker processes with a time budget per job: the parser is native code that no Python
alarm can interrupt, so each file is analysed in a forked process the gate can kill.

The pool is a few pipes and ``os.fork`` (no ``multiprocessing``: its import and start-up
cost more than the small runs that wait on it). Jobs go out one at a time, each to an idle
worker; a worker past its job's deadline is killed and replaced, and its job reported as
``Overrun``, so one slow file never holds up or hangs the run. Without ``os.fork`` (not a
POSIX system) jobs run in this process, unbounded.

A worker can also be started early (``prestart``), before the process knows it will have
work, and load what its jobs need while the process does something else: the pre-commit
hook starts one while it reads its configuration, so that a file the cache cannot answer
waits for the analysis, not for libcst's import. Such a worker gets the job's function with
every job (pickled by name); a job's time budget starts when it is sent, after the worker
said it is ready.
"""

from __future__ import annotations

import contextlib
import faulthandler
import gc
import os
import pickle
import select
import signal
import struct
import time
from collections import deque
from collections.abc import Callable, Generator, Sequence
from collections.abc import Set as AbstractSet
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


def _serve(work: Callable[[Any], Any] | None, jobs_fd: int, results_fd: int) -> None:
    """The worker's loop: read a job, run it, answer; exit when the pool closes the pipe.
    Without ``work`` (a prestarted worker), each message is ``(function, job)``."""
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
            job = pickle.loads(message)
            function, job = (work, job) if work is not None else job
            payload = pickle.dumps((True, function(job)), pickle.HIGHEST_PROTOCOL)
        except BaseException as err:  # reported to the pool, never lost
            payload = pickle.dumps((False, f"{type(err).__name__}: {err}"))
        _write(results_fd, payload)


# Jobs each worker holds at once: the one it runs and the next, already in its pipe, so it
# never waits for the pool's process to be scheduled between two files (on a busy machine
# that wait was a large part of the wall time). The budget clock of the next one starts when
# the one before it is answered.
DEPTH = 2
# A job queued behind a running one waits in the pipe; a large one could fill it and block
# the pool while the worker blocks on a large answer. Those wait for an idle worker.
_QUEUED_BYTES = 16 * 1024


class Worker:
    def __init__(
        self,
        work: Callable[[Any], Any] | None,
        others: Sequence[int],
        preload: Callable[[], None] | None = None,
    ) -> None:
        jobs_read, self.jobs_fd = os.pipe()
        self.results_fd, results_write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: serve, then leave without running any cleanup
            status = 0
            try:
                for fd in (self.jobs_fd, self.results_fd, *others):
                    os.close(fd)
                # A crash is reported by the parent as a finding naming the file; a Python
                # stack dump (faulthandler, which pytest enables) would only be noise.
                faulthandler.disable()
                if preload is not None:
                    # What the parent had stays out of the collections the imports cause
                    # (and its memory pages unwritten).
                    gc.freeze()
                    preload()
                    _write(results_write, READY)
                _serve(work, jobs_read, results_write)
            except BaseException:
                status = 1
            finally:
                os._exit(status)
        os.close(jobs_read)
        os.close(results_write)
        self.generic = work is None
        self.ready = preload is None
        self.queue: deque[int] = deque()  # job indexes sent, the running one first
        self.deadline = 0.0

    def wait_ready(self, timeout: float) -> bool:
        """Block until a prestarted worker has loaded what it preloads (False: it died or
        took longer than ``timeout``; the caller stops it)."""
        if not self.ready:
            readable, _, _ = select.select([self.results_fd], [], [], timeout)
            self.ready = bool(readable) and _read(self.results_fd) == READY
        return self.ready

    def send(self, index: int, payload: bytes, budget: float) -> None:
        if not self.queue:
            self.deadline = time.monotonic() + budget
        _write(self.jobs_fd, payload)
        self.queue.append(index)

    def answered(self, budgets: Sequence[float]) -> int:
        """The running job was answered: the next one (if any) runs from now."""
        index = self.queue.popleft()
        if self.queue:
            self.deadline = time.monotonic() + budgets[self.queue[0]]
        return index

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
            number = os.WTERMSIG(status)
            if number == signal.SIGSEGV:  # libcst's parser recursing past the C stack
                return f"killed by signal {number} (the parser crashed: nesting too deep?)"
            return f"killed by signal {number}"
        return f"exit status {os.waitstatus_to_exitcode(status)}"


def run_budgeted(
    work: Callable[[Any], Any],
    jobs: Sequence[tuple[Any, float]],
    processes: int,
    prestarted: Sequence[Worker] = (),
    heavy: AbstractSet[int] = frozenset(),
) -> Generator[tuple[int, Outcome], None, None]:
    """Run ``work(job)`` for each ``(job, budget_seconds)`` in up to ``processes`` forked
    workers; yield ``(index, outcome)`` as jobs finish, in any order.

    ``prestarted`` workers (``take_prestarted``) are used first, once ready; they receive
    ``work`` with every job, so it must be picklable (a module-level function). The jobs
    whose indexes are in ``heavy`` (those that need the most memory) run one at a time:
    the others run beside them, in the order given, so the run's peak memory is one heavy
    job's, not one per worker (``work`` gives the memory back: ``release_memory``)."""
    if not CAN_FORK:
        yield from _run_here(work, jobs)
        return
    budgets = [budget for _, budget in jobs]
    pending = deque(range(len(jobs)))
    workers: dict[int, Worker] = {}  # results fd -> worker
    for early in prestarted:
        if early.wait_ready(STARTUP_TIMEOUT):
            workers[early.results_fd] = early
        else:  # it could not load what jobs need: fresh workers take over
            early.stop(kill=True)
    limit = max(1, min(processes, len(jobs)))
    # The workers share this process's memory pages until one side writes them, and a
    # collection here writes the header of every object it traverses: what exists now
    # stays out of this process's collections while the workers live (a full collection
    # late in a long run copied a fifth of what they share). Unfrozen when they are gone,
    # unless the caller had frozen objects of its own (unfreezing would release those too).
    thawed = gc.get_freeze_count() == 0
    gc.freeze()

    def retire(worker: Worker) -> str:
        """Stop a dead or overrun worker; the jobs it held but never started go back."""
        del workers[worker.results_fd]
        pending.extendleft(reversed(list(worker.queue)[1:]))
        return worker.stop(kill=True)

    try:
        while pending or any(w.queue for w in workers.values()):
            for worker in _fill(work, jobs, workers, pending, limit, heavy):  # died idle
                retire(worker)
            busy = [fd for fd, w in workers.items() if w.queue]
            if not busy:
                continue  # every worker died idle: _fill starts new ones
            soonest = min(workers[fd].deadline for fd in busy)
            ready, _, _ = select.select(busy, [], [], max(0.0, soonest - time.monotonic()))
            for fd in ready:
                worker = workers[fd]
                message = _read(fd)
                if message is None:
                    head = worker.queue[0]
                    yield head, Crashed(retire(worker))
                    continue
                succeeded, value = pickle.loads(message)
                index = worker.answered(budgets)
                yield index, Done(value) if succeeded else Failed(value)
            now = time.monotonic()
            for worker in list(workers.values()):
                if worker.queue and worker.deadline <= now:
                    head = worker.queue[0]
                    retire(worker)
                    yield head, Overrun(budgets[head])
    finally:
        for worker in workers.values():
            worker.stop(kill=bool(worker.queue))
        if thawed:
            gc.unfreeze()


def _fill(
    work: Callable[[Any], Any],
    jobs: Sequence[tuple[Any, float]],
    workers: dict[int, Worker],
    pending: deque[int],
    limit: int,
    heavy: AbstractSet[int] = frozenset(),
) -> list[Worker]:
    """Hand out pending jobs: to idle workers, then to new ones (up to ``limit``), then one
    more to each busy worker; a heavy job only while no worker holds one. Returns the idle
    workers found dead (nothing of theirs ran)."""
    dead: list[Worker] = []
    broken: set[int] = set()  # busy and unwritable: their answer (or end of file) tells
    while pending:
        held = heavy and any(i in heavy for w in workers.values() for i in w.queue)
        if held and pending[0] in heavy:
            light = next((i for i in pending if i not in heavy), None)
            if light is None:
                return dead  # only heavy jobs are left: the next waits for the one held
            pending.remove(light)
            pending.appendleft(light)
        open_ = [w for fd, w in workers.items() if fd not in broken and w not in dead]
        idle = [w for w in open_ if not w.queue]
        if idle:
            worker = idle[0]
        elif len(workers) - len(dead) < limit:
            others = [*workers.values(), *_prestarted]
            worker = Worker(work, [fd for w in others for fd in (w.jobs_fd, w.results_fd)])
            workers[worker.results_fd] = worker
        else:
            waiting = [w for w in open_ if len(w.queue) < DEPTH]
            if not waiting:
                return dead
            worker = waiting[0]
        index = pending.popleft()
        message = (work, jobs[index][0]) if worker.generic else jobs[index][0]
        payload = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        if worker.queue and len(payload) > _QUEUED_BYTES:
            pending.appendleft(index)  # it could fill the pipe while the worker answers
            return dead
        try:
            worker.send(index, payload, jobs[index][1])
        except OSError:  # it died: an idle one is replaced, a busy one reports its job
            pending.appendleft(index)
            if worker.queue:
                broken.add(worker.results_fd)
            else:
                dead.append(worker)
    return dead


def release_memory() -> None:
    """Give the memory this process freed back to the system (glibc keeps a freed heap for
    later: what libcst's parser used for a large file would stay this worker's until it
    exits). Elsewhere, nothing to do."""
    global _malloc_trim
    if _malloc_trim is None:
        try:
            import ctypes

            _malloc_trim = ctypes.CDLL(None).malloc_trim
        except (OSError, AttributeError):  # not glibc
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


_malloc_trim: Any = None

READY = b"ready"
STARTUP_TIMEOUT = 60.0
"""Seconds a prestarted worker may take to load what it preloads before it is replaced."""

_prestarted: list[Worker] = []


def prestart(preload: Callable[[], None]) -> None:
    """Fork a worker now that runs ``preload`` (imports, typically) and then waits for
    jobs; ``take_prestarted`` hands it to ``run_budgeted``, ``discard_prestarted`` stops it
    when no job came. Call it while this process has no threads (it forks)."""
    if CAN_FORK:
        others = [fd for w in _prestarted for fd in (w.jobs_fd, w.results_fd)]
        _prestarted.append(Worker(None, others, preload))


def has_prestarted() -> bool:
    """Is a prestarted worker waiting to be taken?"""
    return bool(_prestarted)


def take_prestarted() -> list[Worker]:
    """The prestarted workers, now the caller's (to pass to ``run_budgeted``)."""
    taken = list(_prestarted)
    _prestarted.clear()
    return taken


def discard_prestarted() -> None:
    """Kill and reap the prestarted workers no run took (the cache answered every file)."""
    for worker in take_prestarted():
        worker.stop(kill=True)


def _run_here(
    work: Callable[[Any], Any], jobs: Sequence[tuple[Any, float]]
) -> Generator[tuple[int, Outcome], None, None]:
    for index, (job, _budget) in enumerate(jobs):
        try:
            yield index, Done(work(job))
        except Exception as err:
            yield index, Failed(f"{type(err).__name__}: {err}")
