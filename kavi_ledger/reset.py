"""``kavi reset``: wipe → scaffold → migrate → verify with doctor, in one step, losing nothing.

What may be wiped is only what Kavi created:

- a storage directory is wiped only if Kavi created it (its ``.kavi-storage`` marker names
  that very directory; ``kavi_gates.storage``), or if it is the unconfigured XDG default
  (``$XDG_DATA_HOME/kavi``, ``$XDG_CACHE_HOME/kavi``). A directory a project's ``storage``
  config names without a marker (``cache_dir: "."``, ``data_dir: ~/.ssh`` in a cloned
  repository) makes the whole reset refuse, deleting nothing;
- never the project root, ``$HOME``, ``/``, or a directory above any of them, nor one that
  looks like a project (``.git``, ``pyproject.toml``, ``kavi.yaml``), marker or not;
- inside the data directory: everything but ``backups/``, the marker and the ledger's lock
  files; the cache directory whole. The config directory is the user's and is kept.
- a vault outside the data directory may be a person's own Obsidian vault: only notes the
  ledger recorded whose bytes still match the recorded sha256 are removed.

The ledger is held exclusively for the whole wipe (``kavi_ledger.lock``): while another
process holds it, reset waits up to ``wait`` seconds, then refuses (exit 2) and changes
nothing. With ``backup``, the ledger and the execution log are copied first, under the
same lock, so nothing committed before the reset is lost and nothing can commit between
the copy and the wipe.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from kavi_gates.config import LoadedConfig
from kavi_gates.errors import KaviError
from kavi_gates.paths import APP_DIR
from kavi_gates.storage import MARKER, is_kavi_storage
from kavi_ledger.backup import backup_ledger, backup_log, copy_raw
from kavi_ledger.db import open_ledger
from kavi_ledger.doctor import DoctorReport, run_doctor
from kavi_ledger.errors import LedgerError
from kavi_ledger.lock import exclusive, gate_path, lock_path
from kavi_ledger.paths import KaviPaths, ensure_directories


class ResetPlan(BaseModel):
    """The files and directories a reset deletes, in deletion order."""

    model_config = ConfigDict(frozen=True)

    targets: tuple[Path, ...]


class ResetResult(BaseModel):
    """What a reset did: deleted paths, the backups it took, and doctor's verdict after."""

    model_config = ConfigDict(frozen=True)

    deleted: tuple[Path, ...]
    backup: Path | None
    log_backup: Path | None = None
    report: DoctorReport


def _inside(path: Path, directory: Path) -> bool:
    return path.resolve().is_relative_to(directory.resolve())


def _precious(loaded: LoadedConfig | None) -> list[Path]:
    places = [Path("/"), Path.home(), Path(os.environ.get("HOME") or Path.home())]
    if loaded is not None:
        places.append(loaded.root)
    return [p.resolve() for p in places]


def _configured(loaded: LoadedConfig | None, key: str) -> bool:
    return loaded is not None and getattr(loaded.config.storage, key) is not None


def _refuse_directory(directory: Path, key: str, loaded: LoadedConfig | None) -> None:
    """Refuse a storage directory whose wipe could destroy more than what Kavi created."""
    resolved = directory.resolve()
    for place in _precious(loaded):
        if resolved == place or place.is_relative_to(resolved):
            raise LedgerError(
                f"refusing to reset: storage {key} {resolved} is {place} or above it "
                "(the project, your home or /); nothing was deleted"
            )
    if any((resolved / marker).exists() for marker in (".git", "pyproject.toml", "kavi.yaml")):
        raise LedgerError(
            f"refusing to reset: storage {key} {resolved} looks like a home or project "
            "directory; nothing was deleted"
        )
    if not resolved.is_dir() or is_kavi_storage(resolved):
        return
    if not _configured(loaded, key) and resolved.name == APP_DIR:
        return  # the XDG default, e.g. ~/.local/share/kavi (made before markers existed)
    raise LedgerError(
        f"refusing to reset: storage {key} {resolved} was not created by Kavi (it has no "
        f"valid {MARKER} marker), so Kavi will not delete anything in it; nothing was "
        "deleted. Point storage elsewhere, or empty it yourself."
    )


def refuse_unsafe(paths: KaviPaths, loaded: LoadedConfig | None) -> None:
    """Refuse a reset that could delete anything Kavi did not create (see the module doc)."""
    _refuse_directory(paths.data_dir, "data_dir", loaded)
    if paths.cache_dir.exists() and not _inside(paths.cache_dir, paths.data_dir):
        _refuse_directory(paths.cache_dir, "cache_dir", loaded)


def _recorded_notes(paths: KaviPaths) -> list[Path]:
    """Notes the ledger recorded in a vault outside the data dir, still byte-identical."""
    # Best effort: a damaged ledger cannot say which notes are ours, so none are touched.
    if not paths.ledger.is_file():
        return []
    uri = f"{paths.ledger.resolve().as_uri()}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            rows = conn.execute("SELECT path, sha256 FROM artifacts").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return []
    notes: list[Path] = []
    for rel, digest in rows:
        note = paths.vault_dir / str(rel)
        if note.is_symlink() or not note.is_file() or not _inside(note, paths.vault_dir):
            continue
        if hashlib.sha256(note.read_bytes()).hexdigest() == digest:
            notes.append(note)  # unchanged since Kavi wrote it: Kavi's, not a person's
    return notes


def plan_reset(paths: KaviPaths) -> ResetPlan:
    """List what ``reset`` would delete; reads only, changes nothing."""
    keep = {
        paths.backups_dir.name,
        MARKER,
        lock_path(paths.ledger).name,
        gate_path(paths.ledger).name,
    }
    targets: list[Path] = []
    if paths.data_dir.is_dir():
        targets.extend(sorted(p for p in paths.data_dir.iterdir() if p.name not in keep))
    if paths.cache_dir.is_dir() and not _inside(paths.cache_dir, paths.data_dir):
        targets.append(paths.cache_dir)
    if not _inside(paths.vault_dir, paths.data_dir):
        targets.extend(_recorded_notes(paths))
    return ResetPlan(targets=tuple(targets))


def _take_backup(paths: KaviPaths) -> Path | None:
    if not paths.ledger.is_file():
        return None
    try:
        return backup_ledger(paths)
    except KaviError:
        # Too damaged for the backup API: keep the raw bytes, they may still be recoverable.
        return copy_raw(paths)


def _delete(target: Path) -> None:
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    else:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()


@contextlib.contextmanager
def _log_held(log: Path) -> Iterator[None]:
    """Hold the execution log's own lock: a writer mid-append finishes first, and one that
    waits finds the file gone and appends to the new log (``ExecutionLog``)."""
    try:
        fd = os.open(log, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def reset(
    paths: KaviPaths, loaded: LoadedConfig | None, *, backup: bool = False, wait: float = 0.0
) -> ResetResult:
    """Wipe Kavi's data, recreate directories and a migrated ledger, then run doctor."""
    refuse_unsafe(paths, loaded)
    with exclusive(paths.ledger, wait, "reset"):
        refuse_unsafe(paths, loaded)  # again, now that nobody else can change the ledger
        taken = _take_backup(paths) if backup else None
        plan = plan_reset(paths)
        with _log_held(paths.executions_log):
            log_taken = backup_log(paths) if backup else None
            with contextlib.suppress(FileNotFoundError):
                paths.executions_log.unlink()
        for target in plan.targets:
            _delete(target)
        ensure_directories(paths)
        open_ledger(paths.ledger).close()
    return ResetResult(
        deleted=plan.targets,
        backup=taken,
        log_backup=log_taken,
        report=run_doctor(paths, loaded),
    )
