"""``kavi reset``: wipe → scaffold → migrate → verify with doctor, in one step.

What is wiped: everything under the data directory except ``backups/`` (ledger, WAL files,
executions log, the vault when it lives there) and the cache directory. The config
directory is the user's and is kept. A vault configured *outside* the data directory may be
a person's own Obsidian vault, so only the notes the ledger recorded are removed from it.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from kavi_gates.config import LoadedConfig
from kavi_gates.errors import KaviError
from kavi_ledger.backup import backup_ledger, copy_raw
from kavi_ledger.db import connect, open_ledger
from kavi_ledger.doctor import DoctorReport, run_doctor
from kavi_ledger.errors import LedgerError
from kavi_ledger.paths import KaviPaths, ensure_directories


class ResetPlan(BaseModel):
    """The files and directories a reset deletes, in deletion order."""

    model_config = ConfigDict(frozen=True)

    targets: tuple[Path, ...]


class ResetResult(BaseModel):
    """What a reset did: deleted paths, the backup it took, and doctor's verdict after."""

    model_config = ConfigDict(frozen=True)

    deleted: tuple[Path, ...]
    backup: Path | None
    report: DoctorReport


def _inside(path: Path, directory: Path) -> bool:
    return path.resolve().is_relative_to(directory.resolve())


def _recorded_notes(paths: KaviPaths) -> list[Path]:
    # Best effort: a damaged ledger cannot say which notes are ours, so none are touched.
    if not paths.ledger.is_file():
        return []
    try:
        db = connect(paths.ledger)
        try:
            rows = db.execute("SELECT path FROM artifacts").fetchall()
        finally:
            db.close()
    except sqlite3.Error:
        return []
    notes = [paths.vault_dir / row[0] for row in rows]
    return [n for n in notes if n.is_file() and _inside(n, paths.vault_dir)]


def plan_reset(paths: KaviPaths) -> ResetPlan:
    """List what ``reset`` would delete; reads only, changes nothing."""
    targets: list[Path] = []
    if paths.data_dir.is_dir():
        targets.extend(
            sorted(
                p for p in paths.data_dir.iterdir() if p.resolve() != paths.backups_dir.resolve()
            )
        )
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


def refuse_unsafe(paths: KaviPaths, loaded: LoadedConfig | None) -> None:
    """Refuse a data directory whose wipe would destroy more than Kavi's data."""
    data = paths.data_dir.resolve()
    precious = {Path.home().resolve(), Path(data.anchor)}
    if loaded is not None:
        precious.add(loaded.root.resolve())
    markers = (".git", "pyproject.toml", "kavi.yaml")
    if data in precious or any((data / marker).exists() for marker in markers):
        raise LedgerError(f"refusing to reset {data}: it looks like a home or project directory")


def reset(paths: KaviPaths, loaded: LoadedConfig | None, *, backup: bool = False) -> ResetResult:
    """Wipe Kavi's data, recreate directories and a migrated ledger, then run doctor."""
    refuse_unsafe(paths, loaded)
    taken = _take_backup(paths) if backup else None
    plan = plan_reset(paths)
    for target in plan.targets:
        _delete(target)
    ensure_directories(paths)
    open_ledger(paths.ledger).close()
    return ResetResult(deleted=plan.targets, backup=taken, report=run_doctor(paths, loaded))
