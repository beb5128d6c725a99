"""`--kavi-verify` re-analyses a file only when its bytes (or the config) change."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

import kavi_gates.policy.gate

ARGS = ("--kavi-verify", "-p", "no:cacheprovider", "-m", "kavi", "--kavi-gate", "policy")


@pytest.fixture
def analysed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the policy gate really analyses (cache misses), in order."""
    seen: list[str] = []
    real: Callable[..., Any] = kavi_gates.policy.gate.analyse_misses

    def counting(run: Any, misses: list[Any], sources: Any) -> Any:
        seen.extend(job.rel for job in misses)
        return real(run, misses, sources)

    # Every cache miss passes here, whether it is analysed in a worker process or settled
    # by Python's own parser (a trigger-free file).
    monkeypatch.setattr(kavi_gates.policy.gate, "analyse_misses", counting)
    return seen


def test_second_session_does_not_reanalyse(violating: pytest.Pytester, analysed: list[str]) -> None:
    violating.runpytest(*ARGS).assert_outcomes(failed=1, passed=2)
    assert sorted(analysed) == ["skills/bad.py", "skills/echo.py"]
    analysed.clear()
    violating.runpytest(*ARGS).assert_outcomes(failed=1, passed=2)
    assert analysed == []


def test_a_new_mtime_alone_does_not_reanalyse(
    violating: pytest.Pytester, analysed: list[str]
) -> None:
    violating.runpytest(*ARGS)
    analysed.clear()
    bad = violating.path / "skills" / "bad.py"
    os.utime(bad, (1, 1))
    violating.runpytest(*ARGS).assert_outcomes(failed=1, passed=2)
    assert analysed == []


def test_changed_bytes_reanalyse_only_that_file(
    violating: pytest.Pytester, analysed: list[str]
) -> None:
    violating.runpytest(*ARGS)
    analysed.clear()
    (violating.path / "skills" / "bad.py").write_text("x = 1\n")
    violating.runpytest(*ARGS).assert_outcomes(passed=3)
    assert analysed == ["skills/bad.py"]


def test_a_config_change_reanalyses(violating: pytest.Pytester, analysed: list[str]) -> None:
    violating.runpytest(*ARGS)
    analysed.clear()
    (violating.path / "kavi.yaml").write_text(
        'include: ["skills/**/*.py"]\npolicy: {forbid_dynamic_exec: false}\n'
    )
    violating.runpytest(*ARGS).assert_outcomes(passed=3)
    assert sorted(analysed) == ["skills/bad.py", "skills/echo.py"]


def test_no_cache_option_reanalyses(violating: pytest.Pytester, analysed: list[str]) -> None:
    violating.runpytest(*ARGS)
    analysed.clear()
    violating.runpytest(*ARGS, "--kavi-no-cache")
    assert sorted(analysed) == ["skills/bad.py", "skills/echo.py"]
