"""Where Kavi keeps its data: XDG base directories, overridable per project."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from kavi_gates.config import StorageConfig
from kavi_gates.paths import storage_dir
from kavi_gates.storage import create_storage_dir

LEDGER_FILE = "ledger.db"
EXECUTIONS_LOG = "executions.jsonl"


class KaviPaths(BaseModel):
    """The resolved storage locations; every other path is derived from these four."""

    model_config = ConfigDict(frozen=True)

    data_dir: Path
    config_dir: Path
    cache_dir: Path
    vault_dir: Path

    @property
    def ledger(self) -> Path:
        """The SQLite ledger file."""
        return self.data_dir / LEDGER_FILE

    @property
    def backups_dir(self) -> Path:
        """Where online backups of the ledger go."""
        return self.data_dir / "backups"

    @property
    def executions_log(self) -> Path:
        """The JSONL log the skill runtime appends one ExecutionRecord per line to."""
        return self.data_dir / EXECUTIONS_LOG

    @property
    def directories(self) -> tuple[Path, ...]:
        """Every directory Kavi needs to exist and be writable."""
        return (self.data_dir, self.config_dir, self.cache_dir, self.vault_dir)


def resolve_paths(
    storage: StorageConfig | None = None,
    root: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> KaviPaths:
    """Resolve the storage locations: project overrides first, then the XDG environment."""
    env = os.environ if env is None else env
    storage = storage or StorageConfig()
    data = storage_dir(storage.data_dir, root, "XDG_DATA_HOME", env)
    config = storage_dir(storage.config_dir, root, "XDG_CONFIG_HOME", env)
    cache = storage_dir(storage.cache_dir, root, "XDG_CACHE_HOME", env)
    vault = (
        storage_dir(storage.vault_dir, root, "XDG_DATA_HOME", env)
        if storage.vault_dir
        else data / "vault"
    )
    return KaviPaths(data_dir=data, config_dir=config, cache_dir=cache, vault_dir=vault)


def ensure_directories(paths: KaviPaths) -> tuple[Path, ...]:
    """Create every missing directory (owner-only, the ledger is private); return those made.

    Each storage directory Kavi creates is marked as Kavi's (``kavi_gates.storage``): only
    a marked directory is ever wiped by ``kavi reset``.
    """
    created: list[Path] = []
    kinds = (
        (paths.data_dir, "data"),
        (paths.config_dir, "config"),
        (paths.cache_dir, "cache"),
        (paths.vault_dir, "vault"),
        (paths.backups_dir, "backups"),
    )
    for directory, kind in kinds:
        if create_storage_dir(directory, kind):
            created.append(directory)
    return tuple(created)
