"""The repository holds itself to its own standards: formatted, linted, typed, and governed
by its own gates (the boundary contracts of [tool.kavi] and the pins of its skills)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kavi_gates.config import load_config
from kavi_gates.models import Status
from kavi_gates.runner import run_gates

REPO = Path(__file__).resolve().parents[1]


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *argv], cwd=REPO, capture_output=True, text=True, check=False
    )


def test_ruff_format_is_clean() -> None:
    done = _run("ruff", "format", "--check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_lint_is_clean() -> None:
    done = _run("ruff", "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_mypy_strict_is_clean() -> None:
    # mypy's own incremental cache (.mypy_cache, ignored by git), shared with a developer's
    # `mypy`: about 20 s on a fresh clone, about 1 s once warm.
    done = _run("mypy")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("gate", ["policy", "invariants", "hash-pin"])
def test_the_repository_passes_its_own_gates(gate: str) -> None:
    """Package boundaries hold, and every first-party skill is pinned, clean and unchanged."""
    report = run_gates(load_config(start=REPO), only=[gate], use_cache=False)
    (result,) = report.results
    assert result.status is Status.PASS, [f.model_dump() for f in result.findings]
