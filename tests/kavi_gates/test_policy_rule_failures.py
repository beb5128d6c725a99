"""A policy rule that raises on one file: an error for that file and that rule (KAV006, exit
3), named in every output format, while every other finding of the run is still reported."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pluggy
import pytest

from kavi_gates import hookimpl
from kavi_gates.codes.policy import RULE_ERROR
from kavi_gates.config import load_config
from kavi_gates.models import RunReport, Status
from kavi_gates.plugins import get_plugin_manager
from kavi_gates.policy.resolution import ModuleFacts
from kavi_gates.policy.rule import Rule, Violation
from kavi_gates.report import render_github, render_json, render_sarif, render_text
from kavi_gates.runner import run_gates

TRIPWIRE = "TRIPWIRE"
"""A file containing this word makes the fragile rule raise."""
FRAGILE_RAISES = [True]
"""Whether the fragile rule raises (read in the forked workers: set before the run)."""


class Fragile(Rule):
    """Flags ``print``; raises on any file that mentions the trip wire (a plugin's bug)."""

    id = "ACME001"
    category = "test"
    MESSAGE = "print is banned"
    VALID = ["x = 1\n"]
    INVALID = ["print(1)\n"]

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        if FRAGILE_RAISES[0] and TRIPWIRE in facts.module.code:
            raise LookupError("no such node\nsecond line is not shown")
        for ref, quals in facts.resolved_refs:
            if "builtins.print" in quals:
                yield Violation(ref.node, "print is banned")


class Malformed(Rule):
    """Yields something that is not a Violation."""

    id = "ACME002"
    category = "test"
    MESSAGE = "malformed"
    VALID = ["x = 1\n"]
    INVALID = ["x = 1\n"]

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        yield ("not", "a violation")  # type: ignore[misc]


class Exits(Rule):
    """Calls sys.exit from ``enabled`` (a rule must not end the analysis)."""

    id = "ACME003"
    category = "test"
    MESSAGE = "exits"
    VALID = ["x = 1\n"]
    INVALID = ["x = 1\n"]

    def enabled(self) -> bool:
        raise SystemExit(0)

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        return iter(())


def _pm(*rules: type[Rule]) -> pluggy.PluginManager:
    class Plugin:
        @hookimpl
        def kavi_policy_rules(self) -> list[type[Rule]]:
            return list(rules)

    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(Plugin(), name="acme_rules")
    return pm


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "kavi.yaml").write_text("include: ['skills/**/*.py']\n")
    (tmp_path / "skills").mkdir()
    (tmp_path / "skills" / "tripped.py").write_text(
        f"import subprocess\n# {TRIPWIRE}\nprint(eval('1'))\n"
    )
    (tmp_path / "skills" / "fine.py").write_text("print(1)\n")
    (tmp_path / "skills" / "clean.py").write_text("import json\n")
    FRAGILE_RAISES[0] = True
    return tmp_path


def _run(project: Path, pm: pluggy.PluginManager, **kwargs: object) -> RunReport:
    return run_gates(load_config(start=project), None, ["policy"], pm=pm, **kwargs)  # type: ignore[arg-type]


def test_a_raising_rule_is_an_error_for_that_file_and_rule_and_the_rest_survives(
    project: Path,
) -> None:
    report = _run(project, _pm(Fragile))
    assert report.results[0].status is Status.ERROR
    assert report.exit_code == 3
    by_place = {(f.path, f.line, f.rules) for f in report.findings}
    # The built-in rules' findings in the same file survive, and so do the plugin rule's
    # findings in the files it could check.
    assert ("skills/tripped.py", 1, ("KAV101", "KAV201")) in by_place
    assert ("skills/tripped.py", 3, ("KAV401",)) in by_place
    assert ("skills/fine.py", 1, ("ACME001",)) in by_place
    (failure,) = [f for f in report.findings if f.rule == RULE_ERROR.id]
    assert failure.path == "skills/tripped.py"
    assert "ACME001" in failure.message and "LookupError: no such node" in failure.message
    assert "second line" not in failure.message
    error = report.results[0].error or ""
    assert "ACME001" in error and "skills/tripped.py" in error


def test_every_output_format_names_the_file_and_the_rule(project: Path) -> None:
    report = _run(project, _pm(Fragile))
    text = render_text(report)
    assert "skills/tripped.py: KAV006 rule ACME001 raised LookupError" in text
    assert "gate policy: internal error: rule ACME001" in text
    data = json.loads(render_json(report))
    assert data["exit_code"] == 3
    (failure,) = [f for f in data["findings"] if f["rule"] == RULE_ERROR.id]
    assert failure["path"] == "skills/tripped.py" and "ACME001" in failure["message"]
    assert "ACME001" in data["gates"][0]["error"]
    github = render_github(report)
    assert "::error file=skills/tripped.py,title=KAV006 (policy)::rule ACME001 raised" in github
    sarif = json.loads(render_sarif(report))
    run = sarif["runs"][0]
    (result,) = [r for r in run["results"] if r["ruleId"] == RULE_ERROR.id]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "skills/tripped.py"
    )
    assert "ACME001" in result["message"]["text"]
    assert run["invocations"][0]["executionSuccessful"] is False
    assert "ACME001" in run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]


def test_a_failed_file_is_not_cached_so_the_next_run_checks_it_again(project: Path) -> None:
    pm = _pm(Fragile)
    assert _run(project, pm).exit_code == 3
    FRAGILE_RAISES[0] = False  # the plugin's bug is fixed (same code, so the same cache key)
    report = _run(project, pm)
    assert report.exit_code == 1
    assert RULE_ERROR.id not in {f.rule for f in report.findings}
    assert ("skills/tripped.py", 3) in {
        (f.path, f.line) for f in report.findings if "ACME001" in f.rules
    }


def test_a_rule_error_cannot_be_suppressed_ignored_or_baselined_into_a_pass(
    project: Path,
) -> None:
    tripped = project / "skills" / "tripped.py"
    tripped.write_text(tripped.read_text() + "# kavi: allow[KAV006] trust me\n")
    report = _run(project, _pm(Fragile), ignore=["KAV006"])
    assert report.results[0].status is Status.ERROR and report.exit_code == 3
    assert "ACME001" in (report.results[0].error or "")


def test_a_suppression_of_the_failed_rule_is_not_called_unused(project: Path) -> None:
    tripped = project / "skills" / "tripped.py"
    tripped.write_text(tripped.read_text() + "print(2)  # kavi: allow[ACME001] a log line\n")
    report = _run(project, _pm(Fragile))
    assert [f for f in report.findings if "unused suppression" in f.message] == []


def test_a_rule_yielding_something_else_than_a_violation_is_that_rules_error(
    project: Path,
) -> None:
    report = _run(project, _pm(Malformed, Fragile))
    failures = {
        (f.path, f.message.split(" raised")[0]) for f in report.findings if f.rule == "KAV006"
    }
    assert ("skills/fine.py", "rule ACME002") in failures
    assert ("skills/fine.py", 1) in {
        (f.path, f.line) for f in report.findings if "ACME001" in f.rules
    }


def test_a_rule_calling_sys_exit_is_that_rules_error_not_a_dead_worker(project: Path) -> None:
    report = _run(project, _pm(Exits))
    failures = [f for f in report.findings if f.rule == RULE_ERROR.id]
    assert {f.path for f in failures} == {"skills/tripped.py", "skills/fine.py", "skills/clean.py"}
    assert all("rule ACME003 raised SystemExit" in f.message for f in failures)
    assert ("skills/tripped.py", 3) in {(f.path, f.line) for f in report.findings}
