"""Who holds the ledger: a lock file beside it, shared by every open connection, exclusive for
the operations that replace the file (``kavi reset``, ``kavi restore``).

A connection that stays open across a reset would write its later commits into the deleted
file, lost to both the new ledger and the backup. So every connection Kavi opens
(``kavi_ledger.db.connect``) holds a shared ``flock`` on ``ledger.db.lock`` until it is
closed, and reset and restore take it exclusively: they wait a bounded time for the holders,
then refuse with a clear message, never deleting under a holder. While they hold it, new
connections wait for them and then open the new file.

``flock`` favours nobody, so a busy writer that reconnects in a loop could keep a reset
waiting forever. A second lock, ``ledger.db.gate``, is a turnstile: a connection passes it
(shared, for an instant) before it takes its shared lock, and reset closes it (exclusive)
first, so that only the connections already open are waited for.

SQLite clients that are not Kavi (the ``sqlite3`` shell, a script) do not know this lock;
in WAL mode every connection that has read the database holds a read lock on the dead-man
byte of its ``-shm`` file, which is probed too.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from kavi_gates.storage import create_storage_dir
from kavi_ledger.errors import LedgerError

LOCK_SUFFIX = ".lock"
GATE_SUFFIX = ".gate"
_SHM_DMS_BYTE = 128  # SQLite's unix VFS: the "dead man switch" byte of the -shm file
_exclusive_here: set[str] = set()


class LedgerBusy(LedgerError):
    """Another process holds the ledger (exit 2: retry when it is done)."""


def lock_path(ledger: Path) -> Path:
    """The lock file of a ledger (never deleted by reset: holders must share one inode)."""
    return ledger.with_name(ledger.name + LOCK_SUFFIX)


def gate_path(ledger: Path) -> Path:
    """The turnstile every new connection passes (never deleted by reset either)."""
    return ledger.with_name(ledger.name + GATE_SUFFIX)


def _open_lock(ledger: Path, path: Path | None = None) -> int:
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    return os.open(path or lock_path(ledger), flags, 0o600)


def _flock(fd: int, operation: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, operation | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)


def acquire_shared(ledger: Path, timeout: float) -> int | None:
    """An fd holding the shared lock (close it to release); ``None`` when this process holds
    the ledger exclusively already (reset opening the fresh ledger)."""
    if str(lock_path(ledger)) in _exclusive_here:
        return None
    busy = LedgerBusy(
        f"the ledger {ledger} is being reset or restored by another process; "
        "try again when it is done"
    )
    deadline = time.monotonic() + timeout
    gate = _open_lock(ledger, gate_path(ledger))
    try:
        if not _flock(gate, fcntl.LOCK_SH, timeout):
            raise busy
        fd = _open_lock(ledger)
        if not _flock(fd, fcntl.LOCK_SH, max(0.0, deadline - time.monotonic())):
            os.close(fd)
            raise busy
        return fd
    finally:
        os.close(gate)  # through the turnstile: only the shared lock stays held


def sqlite_clients_open(ledger: Path) -> bool:
    """Does another process hold a WAL connection to ``ledger`` (one that has read it)?

    Call it only while this process has no connection to ``ledger`` open: closing the probe's
    descriptor drops every POSIX lock this process holds on the ``-shm`` file.
    """
    try:
        fd = os.open(ledger.with_name(ledger.name + "-shm"), os.O_RDWR | os.O_NOFOLLOW)
    except OSError:
        return False  # no -shm: no WAL connection is open
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _SHM_DMS_BYTE)
        except OSError:
            return True
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, _SHM_DMS_BYTE)
        return False
    finally:
        os.close(fd)


@contextlib.contextmanager
def exclusive(ledger: Path, wait: float, action: str) -> Iterator[None]:
    """Hold the ledger alone for ``action``; refuse (``LedgerBusy``) after ``wait`` seconds."""
    create_storage_dir(ledger.parent, "data")
    busy = LedgerBusy(
        f"refusing to {action}: another process holds the ledger {ledger} "
        "(a kavi command, a skill run, the forge or an sqlite3 client); stop it "
        "or retry with --wait SECONDS. Nothing was changed."
    )
    deadline = time.monotonic() + wait
    gate = _open_lock(ledger, gate_path(ledger))
    fd = _open_lock(ledger)
    try:
        if not _flock(gate, fcntl.LOCK_EX, wait):  # no new connection from here on
            raise busy
        while True:
            if _flock(fd, fcntl.LOCK_EX, max(0.0, deadline - time.monotonic())):
                if not sqlite_clients_open(ledger):
                    break
                fcntl.flock(fd, fcntl.LOCK_UN)
            if time.monotonic() >= deadline:
                raise busy
            time.sleep(0.05)
        _exclusive_here.add(str(lock_path(ledger)))
        try:
            yield
        finally:
            _exclusive_here.discard(str(lock_path(ledger)))
    finally:
        os.close(fd)  # releases both locks
        os.close(gate)
