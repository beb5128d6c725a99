"""Where Kavi keeps its data: XDG base directories, overridable per project."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from kavi_gates.config import StorageConfig

APP_DIR = "kavi"
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


def _xdg_base(env: Mapping[str, str], variable: str, default: str) -> Path:
    # The XDG spec says a relative value is invalid and must be ignored.
    value = env.get(variable, "")
    if value and os.path.isabs(value):
        return Path(value)
    home = Path(env.get("HOME") or Path.home())
    return home / default


def _override(value: str | None, root: Path | None) -> Path | None:
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = (root or Path.cwd()) / path
    return path


def resolve_paths(
    storage: StorageConfig | None = None,
    root: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> KaviPaths:
    """Resolve the storage locations: project overrides first, then the XDG environment."""
    env = os.environ if env is None else env
    storage = storage or StorageConfig()
    data = _override(storage.data_dir, root) or (
        _xdg_base(env, "XDG_DATA_HOME", ".local/share") / APP_DIR
    )
    config = _override(storage.config_dir, root) or (
        _xdg_base(env, "XDG_CONFIG_HOME", ".config") / APP_DIR
    )
    cache = _override(storage.cache_dir, root) or (
        _xdg_base(env, "XDG_CACHE_HOME", ".cache") / APP_DIR
    )
    vault = _override(storage.vault_dir, root) or data / "vault"
    return KaviPaths(data_dir=data, config_dir=config, cache_dir=cache, vault_dir=vault)


def ensure_directories(paths: KaviPaths) -> tuple[Path, ...]:
    """Create every missing directory (owner-only, the ledger is private); return those made."""
    created: list[Path] = []
    for directory in (*paths.directories, paths.backups_dir):
        if not directory.is_dir():
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            created.append(directory)
    return tuple(created)
