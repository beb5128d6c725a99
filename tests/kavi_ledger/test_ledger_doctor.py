from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from ledger_helpers import corrupt_middle
from sqlite_utils import Database

import kavi_gates.runner
from kavi_gates.config import LoadedConfig
from kavi_ledger.db import open_ledger
from kavi_ledger.doctor import DoctorReport, run_doctor
from kavi_ledger.migrations import MIGRATION_NAMES, MIGRATION_SET
from kavi_ledger.paths import KaviPaths, ensure_directories
from kavi_ledger.states import create_proposal


def _status(report: DoctorReport, name: str) -> str:
    return next(c.status for c in report.checks if c.name == name)


def _fill(paths: KaviPaths, rows: int = 300) -> None:
    db = open_ledger(paths.ledger)
    for i in range(rows):
        create_proposal(
            db,
            name=f"skill_{i}",
            description="x" * 200,
            io_schema={},
            side_effect_class="READ_ONLY",
        )
    db.close()  # the last close checkpoints the WAL into the main file


def test_a_fresh_install_is_healthy_and_doctor_creates_nothing(
    paths: KaviPaths, loaded: LoadedConfig
) -> None:
    # Issue 12: a fresh install was unhealthy until --fix. Missing storage is informational:
    # every command creates what it needs on first use.
    report = run_doctor(paths, loaded)
    assert report.healthy, report.to_json()
    assert _status(report, "directories") == "warn" and _status(report, "ledger") == "warn"
    assert not paths.ledger.exists()  # doctor without --fix creates nothing
    assert not any(d.exists() for d in paths.directories)


def test_a_missing_directory_that_cannot_be_created_fails(
    paths: KaviPaths, loaded: LoadedConfig, tmp_path: Path
) -> None:
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where a directory should be")
    bad = paths.model_copy(update={"data_dir": blocker / "kavi"})
    assert _status(run_doctor(bad, loaded), "directories") == "fail"


def test_fix_creates_directories_and_a_migrated_ledger(
    paths: KaviPaths, loaded: LoadedConfig
) -> None:
    report = run_doctor(paths, loaded, fix=True)
    assert report.healthy, report.to_json()
    assert _status(report, "schema") == "pass" and _status(report, "integrity") == "pass"


def test_a_corrupted_ledger_makes_doctor_unhealthy_without_raising(
    paths: KaviPaths, loaded: LoadedConfig
) -> None:
    ensure_directories(paths)
    _fill(paths)
    corrupt_middle(paths.ledger)
    report = run_doctor(paths, loaded)
    assert not report.healthy
    assert {c.name for c in report.checks if c.status == "fail"} & {"ledger", "integrity"}


def test_a_file_that_is_not_a_database_fails_the_ledger_check(
    paths: KaviPaths, loaded: LoadedConfig
) -> None:
    ensure_directories(paths)
    paths.ledger.write_bytes(b"garbage" * 1000)
    report = run_doctor(paths, loaded)
    assert _status(report, "ledger") == "fail"
    assert not report.healthy


def test_pending_migrations_fail_the_schema_check_and_fix_applies_them(
    paths: KaviPaths, loaded: LoadedConfig, ledger: Database
) -> None:
    ensure_directories(paths)
    ledger.execute("DELETE FROM _sqlite_migrations WHERE name = ?", [MIGRATION_NAMES[-1]])
    ledger.execute("DROP TABLE sandbox_opt_outs")  # what the last migration created
    ledger.conn.commit()
    assert _status(run_doctor(paths, loaded), "schema") == "fail"
    assert _status(run_doctor(paths, loaded, fix=True), "schema") == "pass"


def test_a_newer_schema_fails_the_schema_check(
    paths: KaviPaths, loaded: LoadedConfig, ledger: Database
) -> None:
    ensure_directories(paths)
    ledger.table("_sqlite_migrations").insert(
        {"migration_set": MIGRATION_SET, "name": "m999_future", "applied_at": "later"}
    )
    assert _status(run_doctor(paths, loaded, fix=True), "schema") == "fail"


def test_malformed_execution_log_lines_are_a_warning_with_a_count(
    paths: KaviPaths, loaded: LoadedConfig
) -> None:
    run_doctor(paths, loaded, fix=True)
    paths.executions_log.write_text('{"id": 1}\nnot json\n[1, 2]\n{"id": 2}\n')
    report = run_doctor(paths, loaded)
    check = next(c for c in report.checks if c.name == "executions-log")
    assert check.status == "warn" and "2 of 4" in check.message
    assert report.healthy


def test_a_missing_registry_is_a_warning_not_a_failure(
    paths: KaviPaths, loaded: LoadedConfig
) -> None:
    assert _status(run_doctor(paths, loaded, fix=True), "registry") == "warn"


def test_a_registry_whose_gate_cannot_run_fails_without_crashing(
    paths: KaviPaths, loaded: LoadedConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = loaded.root / "skills" / "registry.yaml"
    registry.parent.mkdir()
    registry.write_text("version: 1\nskills: {}\n")

    def exploding_runner(*args: object, **kwargs: object) -> object:
        raise RuntimeError("gate engine exploded")

    monkeypatch.setattr(kavi_gates.runner, "run_gates", exploding_runner)
    report = run_doctor(paths, loaded, fix=True)
    check = next(c for c in report.checks if c.name == "registry")
    assert check.status == "fail" and "exploded" in check.message


def test_a_missing_tool_is_a_warning(
    paths: KaviPaths, loaded: LoadedConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("kavi_ledger.doctor.TOOLS", ("git", "no_such_tool_kavi"))
    report = run_doctor(paths, loaded, fix=True)
    assert _status(report, "toolchain") == "warn" and report.healthy


def test_an_unwritable_data_directory_fails(
    paths: KaviPaths, loaded: LoadedConfig, tmp_path: Path
) -> None:
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where a directory should be")
    bad = paths.model_copy(update={"cache_dir": blocker / "kavi"})
    report = run_doctor(bad, loaded, fix=True)
    assert _status(report, "directories") == "fail"


def test_the_sandbox_check_passes_where_bubblewrap_starts(
    paths: KaviPaths, loaded: LoadedConfig
) -> None:
    check = next(c for c in run_doctor(paths, loaded).checks if c.name == "sandbox")
    assert check.status == "pass" and check.message.startswith("bubblewrap ")


def test_the_sandbox_opt_out_in_the_config_is_a_warning(
    paths: KaviPaths, loaded: LoadedConfig
) -> None:
    from kavi_gates.config import KaviConfig, SandboxConfig

    opted_out = dataclasses.replace(loaded, config=KaviConfig(sandbox=SandboxConfig(enabled=False)))
    check = next(c for c in run_doctor(paths, opted_out).checks if c.name == "sandbox")
    assert check.status == "warn" and "WITHOUT the OS sandbox" in check.message


def test_logged_runs_without_the_sandbox_are_a_warning_with_a_count(
    paths: KaviPaths, loaded: LoadedConfig
) -> None:
    ensure_directories(paths)
    paths.executions_log.write_text(
        '{"sandbox": "none"}\n{"sandbox": "bubblewrap"}\n{"sandbox": "none"}\nnot json\n'
    )
    check = next(c for c in run_doctor(paths, loaded).checks if c.name == "sandbox")
    assert check.status == "warn" and check.message.startswith("2 execution(s) ran without")
