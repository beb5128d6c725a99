from __future__ import annotations

import sqlite3

import pytest
from sqlite_utils import Database

from kavi_ledger.backup import backup_ledger, list_backups
from kavi_ledger.errors import LedgerError
from kavi_ledger.paths import KaviPaths
from kavi_ledger.states import create_proposal


def _propose(db: Database, name: str) -> None:
    create_proposal(db, name=name, description="d", io_schema={}, side_effect_class="READ_ONLY")


def test_a_backup_is_a_consistent_copy_taken_while_the_ledger_is_open(
    ledger: Database, paths: KaviPaths
) -> None:
    _propose(ledger, "first")
    backup = backup_ledger(paths)
    _propose(ledger, "second")  # after the backup: must not be in it
    copy = sqlite3.connect(backup)
    try:
        names = [row[0] for row in copy.execute("SELECT name FROM skill_proposals")]
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        copy.close()
    assert names == ["first"]
    assert backup.parent == paths.data_dir / "backups"


def test_backups_keep_only_the_newest_n(ledger: Database, paths: KaviPaths) -> None:
    made = [backup_ledger(paths, keep=3) for _ in range(5)]
    assert list_backups(paths) == tuple(made[-3:])


def test_backing_up_a_missing_ledger_is_an_error(paths: KaviPaths) -> None:
    with pytest.raises(LedgerError, match="no ledger"):
        backup_ledger(paths)
