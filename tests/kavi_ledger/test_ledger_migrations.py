from __future__ import annotations

from pathlib import Path

import pytest
from sqlite_utils import Database

from kavi_gates.errors import EXIT_USAGE
from kavi_ledger.db import connect, open_ledger, schema_status
from kavi_ledger.errors import LedgerError, SchemaTooNewError
from kavi_ledger.migrations import MIGRATION_NAMES, MIGRATION_SET, SCHEMA_VERSION, migrations

EXPECTED_COLUMNS = {
    "skill_proposals": {
        "id",
        "name",
        "description",
        "io_schema_json",
        "side_effect_class",
        "required_secrets_json",
        "status",
        "created_at",
    },
    "builds": {
        "id",
        "proposal_id",
        "attempt_number",
        "parent_build_id",
        "sandbox_path",
        "agent_command",
        "started_at",
        "finished_at",
        "status",
        "summary",
    },
    "promotions": {
        "id",
        "proposal_id",
        "from_status",
        "to_status",
        "approved_by",
        "verification_id",
        "created_at",
    },
    "artifacts": {"id", "kind", "path", "sha256", "related_id", "created_at"},
}


def _db_at_version(path: Path, version: int) -> Database:
    db = connect(path)
    if version < len(MIGRATION_NAMES):
        migrations.apply(db, stop_before=MIGRATION_NAMES[version])
    else:
        migrations.apply(db)
    return db


def test_a_fresh_ledger_has_every_table_and_the_current_schema(tmp_path: Path) -> None:
    db = open_ledger(tmp_path / "ledger.db")
    for table, columns in EXPECTED_COLUMNS.items():
        assert set(db.table(table).columns_dict) == columns
    assert schema_status(db).version == SCHEMA_VERSION
    assert schema_status(db).current


def test_the_ledger_uses_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    db = open_ledger(tmp_path / "ledger.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


@pytest.mark.parametrize("version", range(len(MIGRATION_NAMES)))
def test_a_ledger_at_every_older_version_migrates_to_current(tmp_path: Path, version: int) -> None:
    path = tmp_path / "ledger.db"
    old = _db_at_version(path, version)
    assert schema_status(old).version == version
    if version >= 1:
        old.table("skill_proposals").insert(
            {"id": "p1", "name": "keep_me", "status": "PROPOSED", "created_at": "2020-01-01Z"}
        )
    old.close()
    db = open_ledger(path)
    assert schema_status(db).current
    assert set(db.table_names()) >= set(EXPECTED_COLUMNS)
    if version >= 1:
        assert db.table("skill_proposals").get("p1")["name"] == "keep_me"


def test_a_ledger_from_a_newer_kavi_is_refused_with_exit_code_2(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    db = open_ledger(path)
    db.table("_sqlite_migrations").insert(
        {"migration_set": MIGRATION_SET, "name": "m999_from_the_future", "applied_at": "later"}
    )
    db.close()
    with pytest.raises(SchemaTooNewError, match="m999_from_the_future") as info:
        open_ledger(path)
    assert info.value.exit_code == EXIT_USAGE


def test_opening_a_missing_ledger_without_create_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="no ledger"):
        open_ledger(tmp_path / "absent.db", create=False)
    assert not (tmp_path / "absent.db").exists()


def test_a_file_that_is_not_sqlite_is_a_ledger_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    path.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(LedgerError, match="unusable"):
        open_ledger(path)
