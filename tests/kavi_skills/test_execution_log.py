"""The JSONL execution log: private, durable, and tolerant of malformed lines."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import TYPE_CHECKING

from kavi_skills.executor import run_skill
from kavi_skills.records import ExecutionLog, ExecutionRecord, utc_now

if TYPE_CHECKING:
    from runtime_project import Project

pytest_plugins = ["runtime_project"]


def _record(**overrides: object) -> ExecutionRecord:
    fields: dict[str, object] = {
        "skill_name": "echo",
        "source_hash": "sha256:" + "0" * 64,
        "side_effect_class": "READ_ONLY",
        "input_json": {"text": "x"},
        "output_json": {"text": "x"},
        "success": True,
        "started_at": utc_now(),
        "finished_at": utc_now(),
    }
    fields.update(overrides)
    return ExecutionRecord.model_validate(fields)


def test_the_log_is_created_owner_only(tmp_path: Path) -> None:
    log = ExecutionLog(tmp_path / "d" / "executions.jsonl")
    log.append(_record())
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600


def test_a_wider_mode_is_tightened_on_append(tmp_path: Path) -> None:
    path = tmp_path / "executions.jsonl"
    path.write_text("")
    path.chmod(0o644)
    ExecutionLog(path).append(_record())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_malformed_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    log = ExecutionLog(tmp_path / "executions.jsonl")
    first = _record()
    log.append(first)
    with log.path.open("a") as handle:
        handle.write('not json\n{"v": 1}\n[]\n\n')
        handle.write('{"torn": ')  # a crash mid-line: the next append must start a new line
    second = _record(success=False, output_json=None, error="x")
    log.append(second)
    contents = log.read()
    assert [r.execution_id for r in contents.records] == [first.execution_id, second.execution_id]
    assert contents.skipped == 4


def test_a_missing_log_reads_as_empty(tmp_path: Path) -> None:
    contents = ExecutionLog(tmp_path / "none.jsonl").read()
    assert contents.records == () and contents.skipped == 0


def test_find_accepts_a_unique_prefix(tmp_path: Path) -> None:
    log = ExecutionLog(tmp_path / "executions.jsonl")
    record = _record()
    log.append(record)
    assert log.find(record.execution_id[:8]) == record
    assert log.find("zzzzzzzz") is None


def test_a_run_appends_one_record_with_the_bundle_hash(project: Project) -> None:
    result = run_skill("echo", {"text": "hi"}, project.config())
    records = ExecutionLog(project.log_path).read().records
    assert records == (result.record,)
    assert records[0].v == 1 and records[0].parent_execution_id is None
    assert records[0].source_hash.startswith("sha256:")


def test_invalid_input_becomes_a_failure_record(project: Project) -> None:
    result = run_skill("echo", {"txt": "hi"}, project.config())
    assert not result.record.success and result.exit_code == 2
    assert result.record.error == "invalid input: text: Field required"
    assert result.record.input_json == {"txt": "hi"}


def test_a_failing_skill_becomes_a_failure_record(project: Project) -> None:
    result = run_skill("echo", {"text": "boom"}, project.config())
    assert result.record.error == "RuntimeError: asked to fail" and result.exit_code == 1


def test_no_log_runs_without_appending(project: Project) -> None:
    assert run_skill("echo", {"text": "hi"}, project.config(), log=False).record.success
    assert not project.log_path.exists()


def _append_many(path: str, count: int) -> None:
    log = ExecutionLog(Path(path))
    for _ in range(count):
        log.append(_record(input_json={"text": "y" * 5000}))


def test_concurrent_writers_never_interleave_lines(tmp_path: Path) -> None:
    import multiprocessing

    path = tmp_path / "executions.jsonl"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_append_many, args=(str(path), 25)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    contents = ExecutionLog(path).read()
    assert len(contents.records) == 100 and contents.skipped == 0
