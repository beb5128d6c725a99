"""Online backups of the ledger through the SQLite backup API, with retention."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from kavi_ledger.db import BUSY_TIMEOUT_MS
from kavi_ledger.errors import LedgerError
from kavi_ledger.paths import KaviPaths

DEFAULT_KEEP = 10
_PREFIX = "ledger-"


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def list_backups(paths: KaviPaths) -> tuple[Path, ...]:
    """Existing backups, oldest first (names sort by their UTC timestamp)."""
    if not paths.backups_dir.is_dir():
        return ()
    found = [p for p in paths.backups_dir.iterdir() if p.name.startswith(_PREFIX) and p.is_file()]
    return tuple(sorted(found, key=lambda p: p.name))


def prune_backups(paths: KaviPaths, keep: int) -> tuple[Path, ...]:
    """Delete all but the ``keep`` newest backups; return what was deleted."""
    if keep < 1:
        raise LedgerError("backup retention must keep at least one backup")
    doomed = list_backups(paths)[:-keep]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def backup_ledger(paths: KaviPaths, *, keep: int = DEFAULT_KEEP) -> Path:
    """Copy the live ledger (even while others write) into ``<data>/backups/``.

    The SQLite backup API copies a consistent snapshot, WAL content included; the copy is
    written under a temporary name and renamed, so a half-written backup never counts.
    """
    if not paths.ledger.is_file():
        raise LedgerError(f"no ledger at {paths.ledger} to back up")
    paths.backups_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = paths.backups_dir / f"{_PREFIX}{_stamp()}.db"
    tmp = target.with_name("." + target.name + ".tmp")
    source = sqlite3.connect(str(paths.ledger), timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        dest = sqlite3.connect(str(tmp))
        try:
            source.backup(dest)
        finally:
            dest.close()
        os.replace(tmp, target)
    except sqlite3.DatabaseError as err:
        raise LedgerError(f"backup of {paths.ledger} failed: {err}") from None
    finally:
        source.close()
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    prune_backups(paths, keep)
    return target


def copy_raw(paths: KaviPaths) -> Path:
    """Copy the ledger's files byte for byte (for a ledger too damaged for the backup API)."""
    paths.backups_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = paths.backups_dir / f"{_PREFIX}{_stamp()}.raw.db"
    shutil.copy2(paths.ledger, target)
    for suffix in ("-wal", "-shm"):
        side = paths.ledger.with_name(paths.ledger.name + suffix)
        if side.is_file():
            shutil.copy2(side, target.with_name(target.name + suffix))
    return target
