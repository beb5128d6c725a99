from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test gets its own XDG cache so results never leak between tests."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))


@pytest.fixture
def skills_project(tmp_path: Path) -> Path:
    """A project that governs ``skills/**/*.py`` (empty ``skills/``), with its own cache."""
    (tmp_path / "kavi.yaml").write_text('include: ["skills/**/*.py"]\n')
    (tmp_path / "skills").mkdir()
    return tmp_path
