"""The analysis worker the pre-commit hook starts early: it loads while the hook reads its
configuration, its jobs' budgets start only once it is ready, one that dies while loading
is replaced, one no run needed is killed; and the guess of when to start it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from processes import process_gone

import kavi_gates.policy.misses
from kavi_gates.policy import prestart as early
from kavi_gates.policy.workers import (
    Done,
    discard_prestarted,
    has_prestarted,
    prestart,
    run_budgeted,
    take_prestarted,
)
from kavi_gates.report import FORMATS
from kavi_hooks import precommit


def _pid(_: int) -> int:
    return os.getpid()


def _slow_preload() -> None:
    time.sleep(0.5)


def _failing_preload() -> None:
    raise ImportError("no such analysis")


def test_a_prestarted_worker_takes_the_jobs_and_their_budgets_start_when_it_is_ready() -> None:
    prestart(_slow_preload)  # loading takes longer than any job's budget
    (worker,) = take_prestarted()
    results = dict(run_budgeted(_pid, [(n, 0.3) for n in range(3)], 1, [worker]))
    assert results == {n: Done(worker.pid) for n in range(3)}
    assert process_gone(worker.pid)


def test_a_prestarted_worker_that_dies_while_loading_is_replaced() -> None:
    prestart(_failing_preload)
    (worker,) = take_prestarted()
    results = dict(run_budgeted(_pid, [(n, 10.0) for n in range(2)], 1, [worker]))
    assert set(results) == {0, 1} and all(isinstance(r, Done) for r in results.values())
    assert worker.pid not in {r.value for r in results.values() if isinstance(r, Done)}
    assert process_gone(worker.pid)


def test_a_prestarted_worker_no_run_took_is_killed(tmp_path: Path) -> None:
    started = tmp_path / "pid"

    def preload() -> None:
        started.write_text(str(os.getpid()))
        time.sleep(60)

    prestart(preload)
    deadline = time.monotonic() + 30
    while not started.exists() or not started.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    discard_prestarted()
    assert process_gone(int(started.read_text())) and take_prestarted() == []


# --- when the hook starts it ------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "repo"
    (root / "skills").mkdir(parents=True)
    (root / "kavi.yaml").write_text('include: ["skills/**/*.py"]\n')
    (root / "skills" / "bad.py").write_text('import os\nx = eval("1 + 1")\n')
    (root / "skills" / "ok.py").write_text("import json\nprint(json.dumps([]))\n")
    (root / "notes.md").write_text("not python\n")
    monkeypatch.chdir(root)
    return root


def test_the_guess_is_a_changed_python_file_since_the_last_policy_run(repo: Path) -> None:
    files = ["skills/bad.py", "skills/ok.py"]
    assert early.expects_analysis(files, None, repo)  # nothing recorded here yet
    assert early.expects_analysis(files, ["policy", "invariants"], repo)
    assert not early.expects_analysis(files, ["invariants"], repo)  # no policy gate
    assert not early.expects_analysis(["notes.md"], None, repo)  # no Python file
    early.HookRun(files, ["policy"]).finish(completed=True)
    assert not early.expects_analysis(files, None, repo)
    time.sleep(0.01)
    (repo / "skills" / "ok.py").write_text("import json\n")
    assert early.expects_analysis(files, None, repo)


def test_a_run_that_did_not_complete_leaves_no_hint(repo: Path) -> None:
    early.HookRun(["skills/ok.py"], None).finish(completed=False)
    assert not early.hint_path(repo).exists()
    assert early.expects_analysis(["skills/ok.py"], None, repo)


def test_the_hook_reports_the_same_with_and_without_the_early_worker(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    used: list[int] = []
    real = kavi_gates.policy.misses._in_prestarted

    def counting(run, jobs, prestarted):  # type: ignore[no-untyped-def]
        used.append(len(prestarted))
        return real(run, jobs, prestarted)

    monkeypatch.setattr(kavi_gates.policy.misses, "_in_prestarted", counting)
    argv = ["--gate", "policy", "skills/bad.py", "skills/ok.py"]
    assert precommit.main(argv) == 1
    early_output = capsys.readouterr().out
    assert used == [1] and "skills/bad.py:2:5: KAV401 " in early_output
    assert precommit.main([*argv, "--no-cache"]) == 1  # files unchanged: no early worker
    assert used == [1] and capsys.readouterr().out == early_output
    assert take_prestarted() == []


def test_the_hook_knows_every_report_format() -> None:
    assert set(precommit.FORMAT_NAMES) == set(FORMATS)


def test_a_plugin_code_that_clashes_with_a_built_in_rule_is_refused_either_way(
    repo: Path,
) -> None:
    from kavi_gates import hookimpl
    from kavi_gates.config import load_config
    from kavi_gates.errors import ConfigError
    from kavi_gates.models import Code
    from kavi_gates.plugins import get_plugin_manager
    from kavi_gates.runner import run_gates

    class Clash:
        @hookimpl
        def kavi_finding_codes(self) -> list[Code]:
            return [Code(id="KAV401", gate="acme", title="mine", doc="Mine.", fix="None.")]

    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(Clash(), name="acme")
    files = [repo / "skills" / "bad.py"]
    for early_worker in (True, False):
        hook = early.HookRun(["skills/bad.py"], ["policy"]) if early_worker else None
        try:
            with pytest.raises(ConfigError, match="KAV401"):
                run_gates(load_config(start=repo), files, ["policy"], use_cache=False, pm=pm)
            assert has_prestarted() is early_worker  # no run took it: the hook stops it
        finally:
            if hook is not None:
                hook.finish(completed=False)
