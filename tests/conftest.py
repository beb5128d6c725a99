"""Shared by every test: import paths, the loopback LLM stand-in (``tests/llm_server.py``) and
real SSH signing keys (``tests/attest_keys.py``)."""

from __future__ import annotations

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


__all__ = [
    "down_client",
    "intruder_key",
    "llm_client",
    "llm_server",
    "maintainer_key",
    "refused_base_url",
]
