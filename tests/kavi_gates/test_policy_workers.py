"""The budgeted worker processes: every job answered, overruns and crashes contained, no
process left behind."""

from __future__ import annotations

import gc
import os
import signal
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
