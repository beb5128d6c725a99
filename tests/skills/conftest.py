"""Fixtures for the first-party skill tests: a tmp vault, guarded files, the LLM stand-in."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# The repo root holds the governed ``skills``; tests/ holds the shared stand-in. tests/ goes
# last so its packages (tests/kavi_gates, tests/skills) never shadow the real ones.
_REPO, _TESTS = Path(__file__).resolve().parents[2], Path(__file__).resolve().parents[1]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))
if str(_TESTS) not in sys.path:
    sys.path.append(str(_TESTS))

pytest.register_assert_rewrite("llm_server")
from llm_server import (  # noqa: E402
    down_client,
    llm_client,
    llm_server,
    refused_base_url,
)

from kavi_skills.guarded_files import GuardedFiles  # noqa: E402

__all__ = [
    "add_note",
    "down_client",
    "files",
    "llm_client",
    "llm_server",
    "refused_base_url",
    "vault",
]


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """An empty vault directory."""
    path = tmp_path / "vault"
    path.mkdir()
    return path


@pytest.fixture
def files(vault: Path) -> GuardedFiles:
    """The guarded file API a FILE_WRITE skill receives, rooted in the vault."""
    return GuardedFiles({"vault": vault})


@pytest.fixture
def add_note(vault: Path) -> Callable[[str, str], Path]:
    """Put a note in the vault directly (test setup, not through a skill)."""

    def add(rel: str, text: str) -> Path:
        path = vault / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return add
