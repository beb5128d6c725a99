"""The budgeted worker processes: every job answered, overruns and crashes contained, no
process left behind."""

from __future__ import annotations

import gc
import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from processes import process_gone

from kavi_gates.policy.workers import Crashed, Done, Failed, Overrun, run_budgeted


def test_every_job_is_answered_with_its_index() -> None:
    results = dict(run_budgeted(lambda n: n * n, [(n, 10.0) for n in range(20)], 2))
    assert results == {n: Done(n * n) for n in range(20)}


def test_an_overrun_job_is_killed_and_the_others_finish(tmp_path: Path) -> None:
    def work(job: str) -> int:
        (tmp_path / f"{job}.pid").write_text(str(os.getpid()))
        if job == "slow":
            time.sleep(60)
        return os.getpid()

    jobs = [("slow", 0.3), ("a", 10.0), ("b", 10.0)]
    results = dict(run_budgeted(work, jobs, 2))
    assert results[0] == Overrun(0.3)
    assert isinstance(results[1], Done) and isinstance(results[2], Done)
    assert process_gone(int((tmp_path / "slow.pid").read_text()))


def test_a_job_that_raises_is_reported_and_the_worker_goes_on() -> None:
    def work(n: int) -> int:
        if n == 1:
            raise ValueError("boom")
        return n

    results = dict(run_budgeted(work, [(n, 10.0) for n in range(4)], 1))
    assert results == {0: Done(0), 1: Failed("ValueError: boom"), 2: Done(2), 3: Done(3)}


def test_a_worker_that_dies_is_a_crash_for_its_job_only() -> None:
    def work(n: int) -> int:
        if n == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        return n

    results = dict(run_budgeted(work, [(n, 10.0) for n in range(5)], 1))
    assert isinstance(results.pop(2), Crashed)
    assert results == {n: Done(n) for n in (0, 1, 3, 4)}


def test_no_worker_outlives_the_run(tmp_path: Path) -> None:
    def work(n: int) -> int:
        (tmp_path / f"{n}.pid").write_text(str(os.getpid()))
        return n

    list(run_budgeted(work, [(n, 10.0) for n in range(6)], 2))
    pids = {int(p.read_text()) for p in tmp_path.glob("*.pid")}
    assert pids and all(process_gone(pid) for pid in pids)


def test_stopping_early_kills_the_busy_workers(tmp_path: Path) -> None:
    def work(n: int) -> int:
        (tmp_path / f"{n}.pid").write_text(str(os.getpid()))
        if n:
            time.sleep(60)
        return n

    outcomes = run_budgeted(work, [(0, 10.0), (1, 60.0), (2, 60.0)], 3)
    assert next(outcomes) == (0, Done(0))
    deadline = time.monotonic() + 60  # until workers 1 and 2 are inside their jobs
    while sum(1 for p in tmp_path.glob("*.pid") if p.read_text()) < 3:
        assert time.monotonic() < deadline, "the jobs never started"
        time.sleep(0.01)
    outcomes.close()  # the consumer gives up: nothing may keep running
    pids = {int(p.read_text()) for p in tmp_path.glob("*.pid")}
    assert len(pids) == 3 and all(process_gone(pid) for pid in pids)


@pytest.mark.parametrize("size", [0, 1 << 20])
def test_large_jobs_and_answers_cross_the_pipes_whole(size: int) -> None:
    payload = b"x" * size
    results = dict(run_budgeted(lambda b: b + b"!", [(payload, 10.0)] * 3, 2))
    assert results == {i: Done(payload + b"!") for i in range(3)}


def test_a_job_queued_behind_an_overrun_runs_in_a_fresh_worker() -> None:
    # One worker holds two jobs; killing it for the first must not lose the second.
    def work(n: int) -> int:
        if n == 0:
            time.sleep(60)
        return n

    results = dict(run_budgeted(work, [(0, 0.3), (1, 10.0), (2, 10.0)], 1))
    assert results == {0: Overrun(0.3), 1: Done(1), 2: Done(2)}


def test_a_queued_jobs_budget_starts_when_it_starts() -> None:
    # Each job alone fits its budget; their sum does not. Queued behind another, a job's
    # clock must not run while it waits.
    def work(n: int) -> int:
        time.sleep(0.5)
        return n

    results = dict(run_budgeted(work, [(n, 1.2) for n in range(3)], 1))
    assert results == {n: Done(n) for n in range(3)}


def test_large_jobs_never_wait_in_a_busy_workers_pipe() -> None:
    # A large job queued behind a running one could fill the pipe while the worker blocks
    # on a large answer: both sides would wait forever. Large jobs go to idle workers only.
    def work(blob: bytes) -> bytes:
        return blob * 4  # an answer larger than a pipe's buffer

    blobs = [bytes([n]) * 200_000 for n in range(4)]
    results = dict(run_budgeted(work, [(b, 20.0) for b in blobs], 1))
    assert results == {n: Done(blobs[n] * 4) for n in range(4)}


def test_the_pools_objects_stay_out_of_its_collections_while_workers_live() -> None:
    # A collection writes the header of every object it traverses: in the pool's process
    # it would copy the memory pages the workers still share with it.
    assert gc.get_freeze_count() == 0
    frozen_during: list[int] = []
    for _index, outcome in run_budgeted(lambda n: n, [(n, 10.0) for n in range(4)], 2):
        assert isinstance(outcome, Done)
        frozen_during.append(gc.get_freeze_count())
    assert len(frozen_during) == 4 and all(count > 0 for count in frozen_during)
    assert gc.get_freeze_count() == 0  # collected again once the workers are gone


def test_a_run_stopped_early_unfreezes_too() -> None:
    outcomes = run_budgeted(lambda n: n, [(n, 10.0) for n in range(6)], 2)
    next(outcomes)
    assert gc.get_freeze_count() > 0
    outcomes.close()
    assert gc.get_freeze_count() == 0


def test_a_callers_own_frozen_objects_stay_frozen() -> None:
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        assert dict(run_budgeted(lambda n: n, [(1, 10.0)], 1)) == {0: Done(1)}
        assert gc.get_freeze_count() >= before
    finally:
        gc.unfreeze()


def test_heavy_jobs_run_one_at_a_time_beside_the_others(tmp_path: Path) -> None:
    """The jobs that need the most memory (libcst's parse of the largest files) never run
    together, so the run's peak is one of them, while the light ones keep the other worker
    busy; every job is still answered."""
    log = tmp_path / "log"

    def work(job: tuple[str, float]) -> str:
        name, seconds = job
        start = time.monotonic()
        time.sleep(seconds)
        with log.open("a") as out:  # one short append per job: whole lines
            out.write(f"{name} {start} {time.monotonic()} {os.getpid()}\n")
        return name

    jobs = [(("H0", 0.3), 10.0), (("H1", 0.3), 10.0), (("H2", 0.3), 10.0)]
    jobs += [((f"L{i}", 0.05), 10.0) for i in range(12)]
    results = dict(run_budgeted(work, jobs, 2, heavy=frozenset({0, 1, 2})))
    assert sorted(r.value for r in results.values() if isinstance(r, Done)) == sorted(
        job[0][0] for job in jobs
    )
    spans = {}
    for line in log.read_text().splitlines():
        name, start, end, pid = line.split()
        spans[name] = (float(start), float(end), pid)
    heavy = sorted(spans[n] for n in ("H0", "H1", "H2"))
    for (_, end, _), (start, _, _) in itertools.pairwise(heavy):
        assert start >= end, "two heavy jobs ran at once"
    light_beside = [n for n, (s, e, _) in spans.items() if n.startswith("L") and s < heavy[0][1]]
    assert light_beside, "the other worker idled while a heavy job ran"
    assert len({pid for _, _, pid in spans.values()}) == 2


def test_which_files_are_heavy() -> None:
    from kavi_gates.policy.misses import heavy_jobs

    kib = 1024
    sizes = [120 * kib, 107 * kib, 100 * kib, 70 * kib, 50 * kib] + [4 * kib] * 200
    assert heavy_jobs(sizes, 2) == {0, 1, 2, 3}  # >= 64 KiB and half the largest
    assert heavy_jobs(sizes, 1) == frozenset()  # one worker: one at a time anyway
    assert heavy_jobs([700 * kib, 200 * kib, *[100 * kib] * 10], 2) == frozenset()  # one
    # never more than one worker's share of the work: one at a time must not slow the run
    assert heavy_jobs([100 * kib] * 10, 2) == {0, 1, 2, 3, 4}
    assert heavy_jobs([30 * kib] * 10, 2) == frozenset()  # small files need little memory


def test_release_memory_gives_a_parse_back(tmp_path: Path) -> None:
    """Why heavy files end with ``release_memory``: glibc keeps the heap libcst's parser
    freed, so a worker stays as large as its largest parse (a fresh interpreter measures
    its resident memory around it)."""
    probe = (
        "import libcst\n"
        "from kavi_gates.policy.workers import release_memory\n"
        "def rss():\n"
        "    return int(open('/proc/self/statm').read().split()[1]) * 4096 >> 20\n"
        "source = ''.join(f'def f{i}(a, b):\\n    return [a + b * {i}, (a, b)]\\n'"
        " for i in range(4000))\n"
        "module = libcst.parse_module(source)\n"
        "del module\n"
        "kept = rss()\n"
        "release_memory()\n"
        "print(kept, rss())\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    kept, released = map(int, done.stdout.split())
    assert released < kept - 20, (kept, released)
