"""Shared by every test: import paths, the loopback LLM stand-in (``tests/llm_server.py``) and
real SSH signing keys (``tests/attest_keys.py``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# The repo root holds the governed ``skills`` and Kavi's packages; tests/ holds the shared
# stand-in. tests/ goes last so its directories (tests/kavi_hooks, tests/skills, ...) never
# shadow the real packages as namespace portions.
_REPO, _TESTS = Path(__file__).resolve().parents[1], Path(__file__).resolve().parent
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))
if str(_TESTS) not in sys.path:
    sys.path.append(str(_TESTS))

pytest.register_assert_rewrite("llm_server", "attest_keys", "attackers")
import wheelhouse  # noqa: E402
from attest_keys import intruder_key, maintainer_key  # noqa: E402
from llm_server import (  # noqa: E402
    down_client,
    llm_client,
    llm_server,
    refused_base_url,
)


@pytest.fixture(scope="session")
def offline_pip(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """pip settings that build Kavi's ``language: python`` hook environments offline."""
    return wheelhouse.kavi_hook_wheelhouse(tmp_path_factory.mktemp("wheelhouse"))


def _start_rank(item: pytest.Item) -> int:
    if "pre_commit_home" in getattr(item, "fixturenames", ()):
        return 0  # one after another on one worker: the hook environment is built once
    return 1 if item.get_closest_marker("slow") else 2


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long tests first, so that none is left running alone at the end of a run.

    With ``--maxschedchunk`` (addopts) xdist hands each worker a few tests at a time, so
    the long ones spread over the workers instead of landing in one worker's first batch.
    The order within each rank is the collection order (the sort is stable).
    """
    items.sort(key=_start_rank)


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ``PRE_COMMIT_HOME`` for the whole session, shared by every xdist worker (their
    base directories sit side by side in one directory per session): a hook environment
    is built once. pre-commit locks the store while it installs."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    return base / "pre-commit-home"


__all__ = [
    "down_client",
    "intruder_key",
    "llm_client",
    "llm_server",
    "maintainer_key",
    "refused_base_url",
]
