"""Fixtures for the forge tests: a fresh governed repository per test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from forge_project import Repo, make_repo


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One XDG cache dir per worker, so mypy's cache is warm after the first check."""
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture
def repo(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    shared_cache: Path,
) -> Repo:
    """A fresh git repository after `kavi init`, with private XDG dirs and the scripted agent."""
    return make_repo(tmp_path, monkeypatch, capsys, shared_cache)
