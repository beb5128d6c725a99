"""After the gates: suppression comments for every gate, select/ignore, the baseline, and the
runner's own findings about what it could not govern (``kavi_gates.triage``, ``targets``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from kavi_gates.baseline import read_baseline, write_baseline
from kavi_gates.config import load_config
from kavi_gates.errors import ConfigError, UsageError
from kavi_gates.hash_pin import compute_pins
from kavi_gates.models import Finding, RunReport, Severity, Status
from kavi_gates.runner import run_gates

EVAL = "x = eval('1 + 1')\n"


@pytest.fixture
def project(skills_project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(skills_project / ".cache"))
    return skills_project


def run(root: Path, **options: object) -> RunReport:
    return run_gates(load_config(start=root), **options)  # type: ignore[arg-type]


def rules(report: RunReport) -> list[tuple[str, str]]:
    return [(f.rule, f.path) for f in report.findings]


# --- the baseline -------------------------------------------------------------------------


def test_baselined_findings_pass_and_moved_code_stays_matched(project: Path) -> None:
    skill = project / "skills" / "old.py"
    skill.write_text("import json\n" + EVAL)
    before = run(project, only=["policy"])
    assert rules(before) == [("KAV401", "skills/old.py")]
    write_baseline(project / "baseline.json", before.findings)
    skill.write_text("import json\n\n\n# moved down\n" + EVAL)
    after = run(project, only=["policy"], baseline=project / "baseline.json")
    assert after.findings == () and after.exit_code == 0
    assert after.results[0].baselined == 1 and after.results[0].status is Status.PASS


def test_a_new_finding_still_fails_next_to_baselined_ones(project: Path) -> None:
    skill = project / "skills" / "old.py"
    skill.write_text(EVAL)
    write_baseline(project / "b.json", run(project, only=["policy"]).findings)
    skill.write_text(EVAL + EVAL + "y = exec('2')\n")  # one more identical eval, one exec
    after = run(project, only=["policy"], baseline=project / "b.json")
    assert sorted(f.rule for f in after.findings) == ["KAV401", "KAV401"]
    assert [f.line for f in after.findings] == [2, 3]  # the first eval is the accepted one
    assert after.exit_code == 1 and after.results[0].baselined == 1


def test_the_config_names_the_baseline_and_a_fixed_finding_is_noted(project: Path) -> None:
    skill = project / "skills" / "old.py"
    skill.write_text(EVAL)
    write_baseline(project / ".kavi" / "baseline.json", run(project, only=["policy"]).findings)
    (project / "kavi.yaml").write_text(
        'include: ["skills/**/*.py"]\nbaseline: .kavi/baseline.json\n'
    )
    assert run(project, only=["policy"]).exit_code == 0
    skill.write_text("x = 1\n")
    fixed = run(project, only=["policy"])
    assert fixed.exit_code == 0 and "1 baseline entry matched no finding" in fixed.notes[0]


def test_a_baseline_file_is_readable_json_sorted_by_path(project: Path) -> None:
    findings = [
        Finding(gate="policy", rule="KAV401", path=p, line=1, message="m").with_fingerprint("a")
        for p in ("b.py", "a.py", "a.py")
    ]
    baseline = write_baseline(project / "b.json", findings)
    assert [(e.path, e.count) for e in baseline.findings] == [("a.py", 2), ("b.py", 1)]
    assert read_baseline(project / "b.json") == baseline
    assert (project / "b.json").stat().st_mode & 0o777 == 0o644


def test_a_drifted_pin_cannot_be_baselined(project: Path) -> None:
    skill = project / "skills" / "echo.py"
    skill.write_text("x = 1\n")
    pins = compute_pins(skill, project)
    registry = {"version": 1, "skills": {"echo": {"path": "skills/echo.py", "class": "E",
                "side_effect_class": "READ_ONLY", "pins": pins}}}  # fmt: skip
    (project / "skills" / "registry.yaml").write_text(yaml.safe_dump(registry))
    skill.write_text("x = 2\n")
    drifted = run(project, only=["hash-pin"])
    assert "KAV801" in {f.rule for f in drifted.findings}
    write_baseline(project / "b.json", drifted.findings)
    again = run(project, only=["hash-pin"], baseline=project / "b.json")
    assert "KAV801" in {f.rule for f in again.findings} and again.exit_code == 1


# --- select / ignore ------------------------------------------------------------------------


def test_select_reports_only_the_selected_codes(project: Path) -> None:
    (project / "skills" / "bad.py").write_text(EVAL + "import subprocess\n")
    # A finding carries every code of its place (import subprocess: KAV101 and KAV201).
    everything = {r for f in run(project, only=["policy"]).findings for r in f.rules}
    assert {"KAV401"} < everything
    report = run(project, only=["policy"], select=["KAV4"])
    assert {f.rule for f in report.findings} == {"KAV401"}
    assert report.results[0].ignored == len(everything) - 1


def test_ignore_drops_codes_and_the_longest_selector_wins(project: Path) -> None:
    (project / "skills" / "bad.py").write_text(EVAL + "y = exec('1')\n")
    assert "KAV401" not in {
        f.rule for f in run(project, only=["policy"], ignore=["KAV401"]).findings
    }
    both = run(project, only=["policy"], select=["KAV401"], ignore=["KAV4"])
    assert {f.rule for f in both.findings} == {"KAV401"}


def test_per_path_ignores_apply_to_matching_files_only(project: Path) -> None:
    (project / "skills" / "legacy").mkdir()
    (project / "skills" / "legacy" / "old.py").write_text(EVAL)
    (project / "skills" / "new.py").write_text(EVAL)
    (project / "kavi.yaml").write_text(
        'include: ["skills/**/*.py"]\nper_path_ignores: {"skills/legacy/**": [KAV401]}\n'
    )
    assert rules(run(project, only=["policy"])) == [("KAV401", "skills/new.py")]


def test_an_unknown_selector_is_a_config_error(project: Path) -> None:
    with pytest.raises(ConfigError, match="KAV999"):
        run(project, select=["KAV999"])


# --- suppression comments for every gate -------------------------------------------------------


def test_an_invariants_finding_is_suppressed_by_a_header_comment_with_a_reason(
    project: Path,
) -> None:
    skill = project / "skills" / "tool.py"
    skill.write_text("# kavi: allow[KAV605] tested by tests/integration/test_tool.py\nx = 1\n")
    report = run(project, only=["invariants"])
    assert "KAV605" not in {f.rule for f in report.findings}
    assert report.results[0].suppressed == 1


def test_an_unused_suppression_of_another_gates_code_is_kav004(project: Path) -> None:
    (project / "skills" / "tool.py").write_text("x = 1  # kavi: allow[KAV605] nothing here\n")
    (project / "tests" / "skills").mkdir(parents=True)
    (project / "tests" / "skills" / "test_tool.py").write_text("def test_x() -> None: ...\n")
    report = run(project, only=["policy", "invariants"])
    unused = [f for f in report.findings if f.rule == "KAV004"]
    assert len(unused) == 1 and "no KAV605 finding here" in unused[0].message
    assert report.exit_code == 1


def test_a_suppression_of_a_drifted_pin_is_refused_and_the_finding_stays(project: Path) -> None:
    skill = project / "skills" / "echo.py"
    skill.write_text("x = 1\n")
    pins = compute_pins(skill, project)
    registry = {"version": 1, "skills": {"echo": {"path": "skills/echo.py", "class": "E",
                "side_effect_class": "READ_ONLY", "pins": pins}}}  # fmt: skip
    (project / "skills" / "registry.yaml").write_text(yaml.safe_dump(registry))
    skill.write_text("# kavi: allow[KAV801] I changed it on purpose\nx = 1\n")
    report = run(project, only=["hash-pin"])
    found = {f.rule: f for f in report.findings}
    assert "KAV801" in found
    assert "KAV801 cannot be suppressed" in found["KAV004"].message


def test_a_suppression_without_a_reason_suppresses_nothing(project: Path) -> None:
    (project / "skills" / "tool.py").write_text("# kavi: allow[KAV605]\nx = 1\n")
    report = run(project, only=["policy", "invariants"])
    assert {"KAV605", "KAV003"} <= {f.rule for f in report.findings}


# --- what the runner could not govern ------------------------------------------------------


def test_an_include_glob_that_matches_nothing_is_a_warning_in_the_report(project: Path) -> None:
    (project / "kavi.yaml").write_text('include: ["skill/**/*.py"]\n')  # typo for skills/
    (project / "skills" / "bad.py").write_text(EVAL)
    report = run(project)
    (warning,) = [f for f in report.findings if f.rule == "KAV010"]
    assert warning.severity is Severity.WARNING and "skill/**/*.py" in warning.message
    assert report.results[0].gate == "targets"


def test_a_named_directory_without_governed_files_is_reported(project: Path) -> None:
    (project / "docs").mkdir()
    (project / "docs" / "x.py").write_text("x = 1\n")
    report = run(project, paths=[project / "docs"], only=["policy"])
    assert [f.rule for f in report.findings] == ["KAV011"]


def test_an_unlistable_directory_is_an_error_finding(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hidden = project / "skills" / "hidden"
    hidden.mkdir()
    real_scandir = os.scandir

    def scandir(path: object = ".") -> object:
        if Path(str(path)) == hidden:
            raise PermissionError(13, "Permission denied", str(hidden))
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    report = run(project, only=["policy"])
    (finding,) = [f for f in report.findings if f.rule == "KAV012"]
    assert finding.path == "skills/hidden" and report.exit_code == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root lists every directory whatever its mode")
def test_a_real_unreadable_directory_is_an_error_finding(project: Path) -> None:
    hidden = project / "skills" / "hidden"
    hidden.mkdir()
    hidden.chmod(0)
    try:
        assert "KAV012" in {f.rule for f in run(project, only=["policy"]).findings}
    finally:
        hidden.chmod(0o755)


def test_an_empty_path_list_checks_no_file_but_runs_repo_parts(project: Path) -> None:
    (project / "skills" / "bad.py").write_text(EVAL)
    report = run(project, paths=[], only=["policy"])
    assert report.findings == () and report.results[0].checked == ()


def test_jobs_below_one_is_a_usage_error(project: Path) -> None:
    with pytest.raises(UsageError, match="jobs"):
        run(project, jobs=0)
