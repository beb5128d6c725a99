"""Opening the ledger: WAL, busy timeout, foreign keys, migrations, and safe write transactions."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict
from sqlite_utils import Database

from kavi_gates.storage import create_storage_dir
from kavi_ledger.errors import LedgerError, SchemaTooNewError
from kavi_ledger.lock import acquire_shared
from kavi_ledger.migrations import MIGRATION_NAMES, MIGRATION_SET, migrations

BUSY_TIMEOUT_MS = 30_000
_T = TypeVar("_T")


class SchemaStatus(BaseModel):
    """Which migrations a ledger file has, lacks, and has that this code does not know."""

    model_config = ConfigDict(frozen=True)

    applied: tuple[str, ...]
    pending: tuple[str, ...]
    unknown: tuple[str, ...]

    @property
    def version(self) -> int:
        """Number of known migrations applied (the schema version of the file)."""
        return len(self.applied) - len(self.unknown)

    @property
    def current(self) -> bool:
        """True when the file has exactly the schema this code expects."""
        return not self.pending and not self.unknown


def _retry_locked(action: Callable[[], _T], deadline: float) -> _T:
    # Setting journal_mode or taking the first lock on a brand-new file can report
    # "database is locked" without consulting the busy handler; retry until the deadline.
    while True:
        try:
            return action()
        except sqlite3.OperationalError as err:
            if ("locked" not in str(err) and "busy" not in str(err)) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class LedgerDatabase(Database):
    """A ledger connection that holds the ledger's shared lock until it is closed, so that
    reset and restore never replace the file under it (``kavi_ledger.lock``)."""

    _release: weakref.finalize[[int], LedgerDatabase] | None = None

    def close(self) -> None:
        """Close the connection, then release the shared lock."""
        try:
            super().close()
        finally:
            if self._release is not None:
                self._release()


def connect(path: Path) -> Database:
    """Open a ledger file with the connection settings every caller relies on (no migration).

    The connection holds the ledger's shared lock until ``close()``; while a reset or a
    restore holds it exclusively, opening waits (up to the busy timeout) and then refuses.
    """
    fd = acquire_shared(path, BUSY_TIMEOUT_MS / 1000)
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
    except BaseException:
        if fd is not None:
            os.close(fd)
        raise
    db = LedgerDatabase(conn)
    if fd is not None:
        db._release = weakref.finalize(db, os.close, fd)  # also if never closed
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    _retry_locked(lambda: db.execute("PRAGMA journal_mode = WAL").fetchall(), deadline)
    db.execute("PRAGMA foreign_keys = ON")
    # NORMAL is durable across application crashes in WAL mode and much faster than FULL.
    db.execute("PRAGMA synchronous = NORMAL")
    return db


def schema_status(db: Database) -> SchemaStatus:
    """Compare the migrations recorded in ``db`` with the ones this code ships."""
    applied = tuple(m.name for m in migrations.applied(db))
    known = set(MIGRATION_NAMES)
    return SchemaStatus(
        applied=applied,
        pending=tuple(n for n in MIGRATION_NAMES if n not in applied),
        unknown=tuple(n for n in applied if n not in known),
    )


def _refuse_newer(status: SchemaStatus, path: Path) -> None:
    if status.unknown:
        raise SchemaTooNewError(
            f"ledger {path} has schema migrations this Kavi does not know "
            f"({', '.join(status.unknown)}); it was written by a newer Kavi, upgrade Kavi "
            "or point storage.data_dir elsewhere"
        )


@contextlib.contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """A write transaction that takes the write lock up front (BEGIN IMMEDIATE).

    sqlite-utils' ``atomic()`` opens a deferred transaction: with several writers a read
    followed by a write can fail with SQLITE_BUSY, which the busy timeout cannot retry.
    Taking the lock first makes writers queue on ``busy_timeout`` instead; ``atomic()``
    inside nests as a savepoint, so writers still get its rollback-on-error behaviour.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    _retry_locked(lambda: db.conn.execute("BEGIN IMMEDIATE"), deadline)
    try:
        with db.atomic():
            yield db
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


def migrate(db: Database, path: Path) -> SchemaStatus:
    """Apply pending migrations under the write lock, so concurrent openers migrate once."""
    status = schema_status(db)
    _refuse_newer(status, path)
    if status.pending:
        with write_transaction(db):
            # Re-read under the lock: another process may have migrated meanwhile.
            status = schema_status(db)
            _refuse_newer(status, path)
            if status.pending:
                migrations.apply(db)
        status = schema_status(db)
    return status


def open_ledger(path: Path, *, create: bool = True) -> Database:
    """Open (creating and migrating if needed) the ledger at ``path``.

    Raises ``SchemaTooNewError`` for a file from a newer Kavi and ``LedgerError`` for a file
    that is missing (with ``create=False``) or is not a usable SQLite database.
    """
    if not create and not path.is_file():
        raise LedgerError(f"no ledger at {path}; run `kavi doctor --fix` or `kavi reset`")
    create_storage_dir(path.parent, "data")
    is_new = not path.exists()
    db: Database | None = None
    try:
        db = connect(path)
        if is_new:
            path.chmod(0o600)  # the audit trail is private to its owner
        migrate(db, path)
    except sqlite3.DatabaseError as err:
        if db is not None:
            db.close()
        raise LedgerError(f"ledger {path} is unusable: {err}; run `kavi doctor`") from None
    except BaseException:
        if db is not None:
            db.close()
        raise
    return db


__all__ = [
    "BUSY_TIMEOUT_MS",
    "MIGRATION_SET",
    "SchemaStatus",
    "connect",
    "migrate",
    "open_ledger",
    "schema_status",
    "write_transaction",
]
