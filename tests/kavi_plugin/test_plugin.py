"""`pytest --kavi-verify`: the gates as test items, with `kavi check`'s verdict and text."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ARGS = ("--kavi-verify", "-p", "no:cacheprovider")


def kavi_check_text(root: Path, *args: str) -> list[str]:
    """`kavi check`'s text report lines in a real process, without the summary line."""
    done = subprocess.run(
        [sys.executable, "-m", "kavi_hooks.cli", "check", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.splitlines()[:-1]


def test_without_the_option_no_kavi_items_are_collected(violating: pytest.Pytester) -> None:
    result = violating.runpytest("-p", "no:cacheprovider", "-m", "kavi")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_clean_repo_passes_every_gate(governed: pytest.Pytester) -> None:
    result = governed.runpytest(*ARGS, "-m", "kavi")
    # one item per governed file per file gate (echo.py: policy, invariants), four status items
    result.assert_outcomes(passed=6)


def test_violation_fails_the_files_item_with_the_kavi_check_text(
    violating: pytest.Pytester,
) -> None:
    result = violating.runpytest(*ARGS, "--kavi-gate", "policy", "-m", "kavi")
    result.assert_outcomes(failed=1, passed=2)
    expected = kavi_check_text(violating.path, "--gate", "policy")
    assert expected[0].startswith("skills/bad.py:2:5: KAV401 ")
    result.stdout.fnmatch_lines(["*_ skills/bad.py::kavi-policy *_", *expected])


def test_whole_repo_gate_findings_fail_its_status_item(violating: pytest.Pytester) -> None:
    result = violating.runpytest(*ARGS, "--kavi-gate", "hash-pin", "-m", "kavi")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*_ kavi::hash-pin *_", *kavi_check_text(violating.path, "--gate", "hash-pin")]
    )


def test_marker_selects_only_kavi_items(violating: pytest.Pytester) -> None:
    result = violating.runpytest(*ARGS, "-m", "not kavi", "tests")
    result.assert_outcomes(passed=1, deselected=8)


def test_ini_options_choose_config_and_gates(violating: pytest.Pytester) -> None:
    violating.makeini("[pytest]\nkavi_verify = true\nkavi_gates =\n    policy\n")
    result = violating.runpytest("-p", "no:cacheprovider", "-m", "kavi")
    result.assert_outcomes(failed=1, passed=2)


def test_kavi_config_option_points_at_another_config(violating: pytest.Pytester) -> None:
    (violating.path / "lenient.yaml").write_text("policy: {forbid_dynamic_exec: false}\n")
    result = violating.runpytest(
        *ARGS, "--kavi-config", "lenient.yaml", "--kavi-gate", "policy", "-m", "kavi"
    )
    result.assert_outcomes(passed=3)


def test_config_error_is_a_one_line_usage_error(governed: pytest.Pytester) -> None:
    (governed.path / "kavi.yaml").write_text("polcy: {}\n")
    result = governed.runpytest(*ARGS)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: kavi: *kavi.yaml: unknown config key 'polcy'"])


def test_unknown_gate_is_a_usage_error(governed: pytest.Pytester) -> None:
    result = governed.runpytest(*ARGS, "--kavi-gate", "no-such-gate")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: kavi: unknown gate 'no-such-gate'*"])


CRASHING_GATE = """
from kavi_gates import hookimpl
from kavi_gates.plugins import default_plugin_manager


class Crash:
    id = "crash"
    description = "always crashes"
    scope = "repo"

    def check(self, context):
        raise RuntimeError("boom")


class CrashPlugin:
    @hookimpl
    def kavi_gates(self):
        return [Crash()]


default_plugin_manager().register(CrashPlugin())
"""


def test_crashing_gate_fails_its_status_item(governed: pytest.Pytester) -> None:
    governed.makeconftest(CRASHING_GATE)
    result = governed.runpytest_subprocess(*ARGS, "--kavi-gate", "crash", "-m", "kavi")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["gate crash: internal error: RuntimeError: boom"])


def test_report_json_option_writes_the_kavi_check_json(violating: pytest.Pytester) -> None:
    out = violating.path.parent / "kavi.json"
    violating.runpytest(*ARGS, "--kavi-report-json", str(out))
    done = subprocess.run(
        [sys.executable, "-m", "kavi_hooks.cli", "check", "--format", "json"],
        cwd=violating.path,
        capture_output=True,
        text=True,
        check=False,
    )
    ours, theirs = json.loads(out.read_text()), json.loads(done.stdout)
    assert ours["findings"] == theirs["findings"] != []


@pytest.mark.slow
def test_two_xdist_workers_report_what_one_process_reports(violating: pytest.Pytester) -> None:
    alone = violating.runpytest_subprocess(*ARGS, "-p", "no:xdist", "-m", "kavi", "-rf")
    shared = violating.runpytest_subprocess(*ARGS, "-p", "xdist", "-n", "2", "-m", "kavi", "-rf")
    outcomes = ("passed", "failed", "errors")
    assert [shared.parseoutcomes().get(k) for k in outcomes] == [
        alone.parseoutcomes().get(k) for k in outcomes
    ]
    failed = sorted(line.split(" - ")[0] for line in alone.outlines if line.startswith("FAILED"))
    assert failed == sorted(
        line.split(" - ")[0] for line in shared.outlines if line.startswith("FAILED")
    )
    assert "FAILED skills/bad.py::kavi-policy" in failed
