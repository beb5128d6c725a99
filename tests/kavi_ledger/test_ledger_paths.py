from __future__ import annotations

from pathlib import Path

from kavi_gates.config import StorageConfig
from kavi_ledger.paths import ensure_directories, resolve_paths


def test_xdg_variables_choose_the_data_config_and_cache_dirs(tmp_path: Path) -> None:
    env = {
        "XDG_DATA_HOME": str(tmp_path / "d"),
        "XDG_CONFIG_HOME": str(tmp_path / "c"),
        "XDG_CACHE_HOME": str(tmp_path / "k"),
        "HOME": str(tmp_path / "home"),
    }
    paths = resolve_paths(env=env)
    assert paths.data_dir == tmp_path / "d" / "kavi"
    assert paths.config_dir == tmp_path / "c" / "kavi"
    assert paths.cache_dir == tmp_path / "k" / "kavi"
    assert paths.vault_dir == tmp_path / "d" / "kavi" / "vault"
    assert paths.ledger == tmp_path / "d" / "kavi" / "ledger.db"


def test_without_xdg_variables_the_home_defaults_apply(tmp_path: Path) -> None:
    paths = resolve_paths(env={"HOME": str(tmp_path)})
    assert paths.data_dir == tmp_path / ".local" / "share" / "kavi"
    assert paths.config_dir == tmp_path / ".config" / "kavi"
    assert paths.cache_dir == tmp_path / ".cache" / "kavi"


def test_relative_xdg_values_are_ignored_as_the_spec_requires(tmp_path: Path) -> None:
    paths = resolve_paths(env={"HOME": str(tmp_path), "XDG_DATA_HOME": "relative/dir"})
    assert paths.data_dir == tmp_path / ".local" / "share" / "kavi"


def test_project_storage_overrides_are_relative_to_the_project_root(tmp_path: Path) -> None:
    storage = StorageConfig(data_dir=".kavi/data", vault_dir="notes")
    paths = resolve_paths(storage, root=tmp_path, env={"HOME": str(tmp_path / "h")})
    assert paths.data_dir == tmp_path / ".kavi" / "data"
    assert paths.vault_dir == tmp_path / "notes"
    assert paths.cache_dir == tmp_path / "h" / ".cache" / "kavi"


def test_ensure_directories_creates_every_missing_directory_once(tmp_path: Path) -> None:
    paths = resolve_paths(env={"HOME": str(tmp_path)})
    created = ensure_directories(paths)
    assert all(d.is_dir() for d in paths.directories)
    assert paths.backups_dir in created
    assert ensure_directories(paths) == ()
