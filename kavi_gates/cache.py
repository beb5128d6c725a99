"""Content-addressed result cache: key = file bytes + config digest + Kavi version (never mtime)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from kavi_gates import __version__


def default_cache_dir(root: Path, configured: str | None) -> Path:
    if configured:
        path = Path(configured).expanduser()
        return path if path.is_absolute() else root / path
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kavi"


class ResultCache:
    """One small JSON file per entry; a corrupt or unreadable entry is a miss, never an error."""

    def __init__(self, directory: Path, namespace: str, salt: str) -> None:
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
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "w") as handle:
                json.dump(value, handle, separators=(",", ":"))
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only or full cache must never fail a check
