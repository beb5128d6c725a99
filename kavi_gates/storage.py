"""Kavi's storage directories know they are Kavi's: a marker written when Kavi creates one.

``kavi reset`` deletes only inside directories it can prove it created. A project's
``storage`` config comes with a cloned repository, so ``cache_dir: "."`` or
``data_dir: ~/.ssh`` must never be enough to have something deleted. When Kavi creates a
storage directory it writes ``.kavi-storage`` into it, naming the directory's resolved path,
device and inode. A marker is valid only in the very directory it was written in: a marker
committed to a repository, or copied along with a directory, names another inode (a clone
or a copy makes new ones), so it proves nothing. Kavi never marks a directory it did not
create.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

MARKER = ".kavi-storage"


def _identity(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_dev, info.st_ino


def create_storage_dir(path: Path, kind: str) -> bool:
    """Create ``path`` (owner-only) and mark it as Kavi's; ``False`` when it already existed.

    Parents that do not exist are created too, but only ``path`` itself is marked.
    """
    if path.is_dir():
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        return False  # another process made it first: it marks it
    device, inode = _identity(path)
    record = {
        "kavi": "storage",
        "version": 1,
        "kind": kind,
        "path": str(path.resolve()),
        "device": device,
        "inode": inode,
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    fd = os.open(path / MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(record, handle)
    return True


def is_kavi_storage(path: Path) -> bool:
    """Did Kavi create this very directory? (its marker names its own path, device, inode)"""
    marker = path / MARKER
    try:
        if path.is_symlink() or not path.is_dir():
            return False
        fd = os.open(marker, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_size > 4096:
            return False
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            record = json.loads(handle.read())
            if not isinstance(record, dict) or record.get("kavi") != "storage":
                return False
            device, inode = _identity(path)
            return (
                record.get("path") == str(path.resolve())
                and record.get("device") == device
                and record.get("inode") == inode
            )
    return False
