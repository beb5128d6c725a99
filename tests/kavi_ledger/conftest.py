"""Shared fixtures: XDG dirs and a project root in tmp_path, real SQLite files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from kavi_gates.config import LoadedConfig, load_config
from kavi_ledger.db import open_ledger
from kavi_ledger.paths import KaviPaths, resolve_paths


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory (with an empty kavi.yaml) as cwd; XDG dirs under tmp_path."""
    for var, name in (
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        monkeypatch.setenv(var, str(tmp_path / "xdg" / name))
    root = tmp_path / "project"
    root.mkdir()
    (root / "kavi.yaml").write_text("{}\n")
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def loaded(project: Path) -> LoadedConfig:
    return load_config(start=project)


@pytest.fixture
def paths(loaded: LoadedConfig) -> KaviPaths:
    return resolve_paths(loaded.config.storage, loaded.root)


@pytest.fixture
def ledger(paths: KaviPaths) -> Iterator[Database]:
    db = open_ledger(paths.ledger)
    yield db
    db.close()
