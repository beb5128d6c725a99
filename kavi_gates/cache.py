"""Content-addressed result cache: key = file bytes + config digest + Kavi version (never mtime)."""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any

from kavi_gates import __version__
from kavi_gates.paths import atomic_write, storage_dir
from kavi_gates.storage import create_storage_dir


def default_cache_dir(root: Path, configured: str | None) -> Path:
    """The result cache's directory (``storage.cache_dir``, else ``$XDG_CACHE_HOME/kavi``)."""
    return storage_dir(configured, root, "XDG_CACHE_HOME")


class ResultCache:
    """One small JSON file per entry; a corrupt or unreadable entry is a miss, never an error."""

    def __init__(self, directory: Path, namespace: str, salt: str) -> None:
        self.base = directory
        self.directory = directory / namespace
        self.salt = f"{__version__}\0{salt}"

    def key(self, data: bytes) -> str:
        digest = hashlib.sha256(data)
        digest.update(self.salt.encode())
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> Any | None:
        try:
            return json.loads(self._path(key).read_bytes())
        except (OSError, ValueError):
            return None

    def put(self, key: str, value: Any) -> None:
        path = self._path(key)
        data = json.dumps(value, separators=(",", ":")).encode()
        # A read-only or full cache must never fail a check; an entry is rebuildable, so it
        # is written atomically but not fsynced. A cache directory Kavi creates is marked as
        # Kavi's, so that `kavi reset` may delete it (and nothing it did not create).
        with contextlib.suppress(OSError):
            create_storage_dir(self.base, "cache")
            atomic_write(path, data, durable=False)
