"""Fixtures for these tests: the loopback LLM stand-in lives in ``tests/llm_server.py``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# tests/ holds the shared stand-in; the repo root holds the governed ``skills`` package.
for _root in (Path(__file__).resolve().parents[1], Path(__file__).resolve().parents[2]):
    if str(_root) not in sys.path:
        sys.path.insert(0, str(_root))

pytest.register_assert_rewrite("llm_server")
from llm_server import (  # noqa: E402
    down_client,
    llm_client,
    llm_server,
    refused_base_url,
)

__all__ = ["down_client", "llm_client", "llm_server", "refused_base_url"]
