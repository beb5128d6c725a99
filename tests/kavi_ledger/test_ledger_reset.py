from __future__ import annotations

from pathlib import Path

import pytest
from ledger_helpers import corrupt_middle
from sqlite_utils import Database

from kavi_gates.config import LoadedConfig, StorageConfig
from kavi_ledger.db import open_ledger
from kavi_ledger.errors import LedgerError
from kavi_ledger.paths import KaviPaths, ensure_directories, resolve_paths
from kavi_ledger.reset import plan_reset, reset
from kavi_ledger.states import create_proposal, list_proposals


def _seed(paths: KaviPaths, count: int = 3) -> None:
    ensure_directories(paths)
    db = open_ledger(paths.ledger)
    for i in range(count):
        create_proposal(
            db, name=f"s{i}", description="d", io_schema={}, side_effect_class="READ_ONLY"
        )
    db.close()
    paths.executions_log.write_text('{"id": 1}\n')


def test_plan_reset_lists_ledger_log_and_cache_but_not_backups_or_config(
    paths: KaviPaths,
) -> None:
    _seed(paths)
    targets = plan_reset(paths).targets
    assert paths.ledger in targets and paths.executions_log in targets
    assert paths.cache_dir in targets
    assert paths.backups_dir not in targets and paths.config_dir not in targets


def test_planning_a_reset_changes_nothing(paths: KaviPaths) -> None:
    _seed(paths)
    before = {p: p.stat().st_mtime_ns for p in paths.data_dir.rglob("*") if p.is_file()}
    plan_reset(paths)
    assert {p: p.stat().st_mtime_ns for p in paths.data_dir.rglob("*") if p.is_file()} == before


def test_reset_leaves_an_empty_migrated_ledger_and_a_healthy_doctor(
    paths: KaviPaths, loaded: LoadedConfig
) -> None:
    _seed(paths)
    result = reset(paths, loaded)
    assert result.report.healthy, result.report.to_json()
    db: Database = open_ledger(paths.ledger)
    assert list_proposals(db) == ()
    assert not paths.executions_log.exists()


def test_reset_with_backup_keeps_the_old_data_in_backups(
    paths: KaviPaths, loaded: LoadedConfig
) -> None:
    _seed(paths, count=2)
    result = reset(paths, loaded, backup=True)
    assert result.backup is not None and result.backup.is_file()
    assert list_proposals(open_ledger(result.backup)) != ()


def test_reset_recovers_from_a_corrupted_ledger_keeping_its_raw_bytes(
    paths: KaviPaths, loaded: LoadedConfig
) -> None:
    _seed(paths, count=300)
    corrupt_middle(paths.ledger)
    result = reset(paths, loaded, backup=True)
    assert result.report.healthy
    assert result.backup is not None and result.backup.is_file()


def test_reset_refuses_a_data_dir_that_is_a_project(project: Path, loaded: LoadedConfig) -> None:
    paths = resolve_paths(StorageConfig(data_dir="."), root=project)
    with pytest.raises(LedgerError, match="refusing"):
        reset(paths, loaded)
    assert (project / "kavi.yaml").exists()


def test_reset_removes_only_recorded_notes_from_a_vault_outside_the_data_dir(
    project: Path, loaded: LoadedConfig, tmp_path: Path
) -> None:
    paths = resolve_paths(StorageConfig(vault_dir=str(tmp_path / "my_vault")), root=project)
    _seed(paths)
    from kavi_ledger.artifacts import write_note
    from kavi_ledger.models import ArtifactKind

    db = open_ledger(paths.ledger)
    note = write_note(
        db, paths.vault_dir, kind=ArtifactKind.NOTE, title="t", body="b", related_id=None
    )
    db.close()
    mine = paths.vault_dir / "personal.md"
    mine.write_text("a person's own note")
    reset(paths, loaded)
    assert mine.exists() and not (paths.vault_dir / note.path).exists()
