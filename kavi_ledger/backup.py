"""Online backups of the ledger through the SQLite backup API, with retention, and restore.

Backups are private (mode 0600, in an owner-only directory). A restore checks that the file
is a Kavi ledger of a schema this Kavi knows, keeps the current ledger as a backup, and
replaces it while holding the ledger exclusively (``kavi_ledger.lock``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from kavi_gates.storage import create_storage_dir
from kavi_ledger.db import BUSY_TIMEOUT_MS, open_ledger
from kavi_ledger.errors import LedgerError
from kavi_ledger.lock import exclusive
from kavi_ledger.migrations import MIGRATION_NAMES, MIGRATION_SET
from kavi_ledger.paths import KaviPaths

DEFAULT_KEEP = 10
_PREFIX = "ledger-"


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def list_backups(paths: KaviPaths) -> tuple[Path, ...]:
    """Existing backups, oldest first (names sort by their UTC timestamp)."""
    if not paths.backups_dir.is_dir():
        return ()
    found = [
        p
        for p in paths.backups_dir.iterdir()
        if p.name.startswith(_PREFIX) and p.suffix == ".db" and p.is_file()
    ]
    return tuple(sorted(found, key=lambda p: p.name))


def prune_backups(paths: KaviPaths, keep: int) -> tuple[Path, ...]:
    """Delete all but the ``keep`` newest backups; return what was deleted."""
    if keep < 1:
        raise LedgerError("backup retention must keep at least one backup")
    doomed = list_backups(paths)[:-keep]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def _private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 (SQLite would create it with the umask's mode)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))


def _copy_database(source: Path, target: Path, *, read_only: bool = False) -> None:
    """A consistent copy of ``source`` (WAL content included) at ``target``, mode 0600,
    written under a temporary name and renamed, so a half-written copy never counts."""
    tmp = target.with_name("." + target.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    uri = f"{source.resolve().as_uri()}?mode=ro" if read_only else str(source)
    src = sqlite3.connect(uri, timeout=BUSY_TIMEOUT_MS / 1000, uri=read_only)
    try:
        _private_file(tmp)
        dest = sqlite3.connect(str(tmp))
        try:
            src.backup(dest)
            # One self-contained file: reading it later creates no -wal/-shm beside it.
            dest.execute("PRAGMA journal_mode = DELETE").fetchall()
        finally:
            dest.close()
        os.replace(tmp, target)
    except sqlite3.DatabaseError as err:
        raise LedgerError(f"copying {source} failed: {err}") from None
    finally:
        src.close()
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _backups_dir(paths: KaviPaths) -> Path:
    create_storage_dir(paths.data_dir, "data")
    create_storage_dir(paths.backups_dir, "backups")
    paths.backups_dir.chmod(0o700)
    return paths.backups_dir


def backup_ledger(paths: KaviPaths, *, keep: int = DEFAULT_KEEP) -> Path:
    """Copy the live ledger (even while others write) into ``<data>/backups/`` (mode 0600).

    The SQLite backup API copies a consistent snapshot, WAL content included; the copy is
    written under a temporary name and renamed, so a half-written backup never counts.
    """
    if not paths.ledger.is_file():
        raise LedgerError(f"no ledger at {paths.ledger} to back up")
    target = _backups_dir(paths) / f"{_PREFIX}{_stamp()}.db"
    _copy_database(paths.ledger, target)
    prune_backups(paths, keep)
    return target


def copy_raw(paths: KaviPaths) -> Path:
    """Copy the ledger's files byte for byte (for a ledger too damaged for the backup API)."""
    target = _backups_dir(paths) / f"{_PREFIX}{_stamp()}.raw.db"
    for suffix in ("", "-wal", "-shm"):
        side = paths.ledger.with_name(paths.ledger.name + suffix)
        if side.is_file():
            copy = target.with_name(target.name + suffix)
            _private_file(copy)
            shutil.copyfile(side, copy)
    return target


def backup_log(paths: KaviPaths) -> Path | None:
    """Copy the execution log into ``<data>/backups/`` (mode 0600), if there is one."""
    if not paths.executions_log.is_file():
        return None
    target = _backups_dir(paths) / f"executions-{_stamp()}.jsonl"
    _private_file(target)
    shutil.copyfile(paths.executions_log, target)
    return target


class LedgerFile(BaseModel):
    """What a restore found in a file: a Kavi ledger and how far its schema is migrated."""

    model_config = ConfigDict(frozen=True)

    path: Path
    applied: tuple[str, ...]
    pending: tuple[str, ...]


def inspect_ledger_file(path: Path) -> LedgerFile:
    """Check that ``path`` is a Kavi ledger of a known schema, opening it read-only (a backup
    gets no lock or journal file beside it); ``LedgerError`` says what it is not."""
    if not path.is_file():
        raise LedgerError(f"{path} is not a file")
    with path.open("rb") as handle:
        if handle.read(16) != b"SQLite format 3\0":
            raise LedgerError(f"{path} is not an SQLite database, so not a Kavi ledger")
    uri = f"{path.resolve().as_uri()}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise LedgerError(f"{path} is damaged (PRAGMA quick_check failed)")
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if "_sqlite_migrations" not in tables:
                raise LedgerError(f"{path} is an SQLite database but not a Kavi ledger")
            rows = conn.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = ?", (MIGRATION_SET,)
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as err:
        raise LedgerError(f"{path} cannot be read as a Kavi ledger: {err}") from None
    applied = tuple(r[0] for r in rows)
    unknown = [name for name in applied if name not in MIGRATION_NAMES]
    if not applied:
        raise LedgerError(f"{path} has no Kavi ledger migrations: not a Kavi ledger")
    if unknown:
        raise LedgerError(
            f"{path} has schema migrations this Kavi does not know ({', '.join(unknown)}); "
            "it was written by a newer Kavi"
        )
    pending = tuple(name for name in MIGRATION_NAMES if name not in applied)
    return LedgerFile(path=path, applied=applied, pending=pending)


class RestoreResult(BaseModel):
    """What a restore did: the file it restored, and where the replaced ledger was kept."""

    model_config = ConfigDict(frozen=True)

    restored: Path
    previous: Path | None


def restore_ledger(paths: KaviPaths, source: Path, *, wait: float = 0.0) -> RestoreResult:
    """Replace the live ledger with ``source`` (a Kavi ledger file, e.g. a backup).

    Refuses while another process holds the ledger; keeps the current ledger as a backup
    first; migrates the restored file if it predates this Kavi's schema.
    """
    source = source.expanduser().resolve()
    if paths.ledger.exists() and source == paths.ledger.resolve():
        raise LedgerError(f"{source} is the live ledger; name a backup to restore")
    inspect_ledger_file(source)
    with exclusive(paths.ledger, wait, "restore the ledger"):
        previous = backup_ledger(paths) if paths.ledger.is_file() else None
        create_storage_dir(paths.data_dir, "data")
        staged = paths.ledger.with_name("." + paths.ledger.name + ".restore")
        _copy_database(source, staged, read_only=True)
        for suffix in ("-wal", "-shm"):  # stale sidecars would be replayed into the new file
            with contextlib.suppress(FileNotFoundError):
                paths.ledger.with_name(paths.ledger.name + suffix).unlink()
        os.replace(staged, paths.ledger)
        open_ledger(paths.ledger).close()  # migrates an older schema, under the same lock
    return RestoreResult(restored=source, previous=previous)
