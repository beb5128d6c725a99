"""One finding per place (``kavi_gates.merge``), and how triage judges each of its codes:
``import subprocess`` under the default policy is one finding carrying a forbidden import
and a process module, not two findings for one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from kavi_gates.baseline import read_baseline, write_baseline
from kavi_gates.codes.policy import FORBIDDEN_IMPORT, PROCESS_MODULE
from kavi_gates.config import load_config
from kavi_gates.merge import merge_findings
from kavi_gates.models import Finding, RunReport, Severity
from kavi_gates.runner import finding_codes, run_gates

IMPORT = FORBIDDEN_IMPORT.id
PROCESS = PROCESS_MODULE.id


@pytest.fixture
def project(skills_project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(skills_project / ".cache"))
    return skills_project


def run(root: Path, **options: object) -> RunReport:
    return run_gates(load_config(start=root), only=["policy"], **options)  # type: ignore[arg-type]


def _finding(rule: str, line: int, col: int = 1, **extra: object) -> Finding:
    return Finding(
        gate="policy", rule=rule, path="a.py", line=line, col=col, message=f"{rule} here", **extra
    ).with_fingerprint(f"{rule}:{line}")  # type: ignore[arg-type]


def test_import_subprocess_is_one_finding_with_both_codes_and_categories(project: Path) -> None:
    (project / "skills" / "a.py").write_text("import subprocess\n")
    (finding,) = run(project).findings
    assert (finding.rule, finding.also, finding.line) == (IMPORT, (PROCESS,), 1)
    assert finding.rules == (IMPORT, PROCESS)
    assert "forbidden module 'subprocess'" in finding.message
    assert "starts processes" in finding.message
    assert f"[{FORBIDDEN_IMPORT.category} + {PROCESS_MODULE.category}]" in finding.message


def test_the_primary_code_is_the_lowest_id_whatever_the_order() -> None:
    forward = merge_findings([_finding("KAV201", 3), _finding("KAV101", 3)])
    backward = merge_findings([_finding("KAV101", 3), _finding("KAV201", 3)])
    assert [(f.rule, f.also) for f in forward] == [("KAV101", ("KAV201",))]
    assert forward[0].message == backward[0].message
    assert forward[0].fingerprint == _finding("KAV101", 3).fingerprint


def test_other_places_and_whole_file_findings_are_not_merged() -> None:
    merged = merge_findings(
        [
            _finding("KAV101", 1),
            _finding("KAV201", 1, col=9),
            _finding("KAV002", 0, col=0),
            _finding("KAV001", 0, col=0),
        ]
    )
    assert [(f.rule, f.also) for f in merged] == [
        ("KAV101", ()),
        ("KAV201", ()),
        ("KAV002", ()),
        ("KAV001", ()),
    ]


def test_a_merged_finding_is_an_error_if_any_of_its_codes_is() -> None:
    warning = _finding("KAV101", 2, severity=Severity.WARNING)
    (merged,) = merge_findings([warning, _finding("KAV201", 2)])
    assert merged.severity is Severity.ERROR


def test_a_suppression_of_one_code_leaves_the_other_reported(project: Path) -> None:
    (project / "skills" / "a.py").write_text(
        f"import subprocess  # kavi: allow[{IMPORT}] vendored helper\n"
    )
    (finding,) = run(project).findings
    assert (finding.rule, finding.also) == (PROCESS, ())


def test_a_suppression_naming_every_code_silences_the_place(project: Path) -> None:
    (project / "skills" / "a.py").write_text(
        f"import subprocess  # kavi: allow[{IMPORT},{PROCESS}] runs git, reviewed\n"
    )
    assert run(project).findings == ()


@pytest.mark.parametrize(
    ("option", "value", "left"),
    [
        ("ignore", [IMPORT], (PROCESS, ())),
        ("ignore", [PROCESS], (IMPORT, ())),
        ("select", [PROCESS], (PROCESS, ())),
        ("select", ["KAV1", "KAV2"], (IMPORT, (PROCESS,))),
    ],
)
def test_select_and_ignore_judge_each_code(
    project: Path, option: str, value: list[str], left: tuple[str, tuple[str, ...]]
) -> None:
    (project / "skills" / "a.py").write_text("import subprocess\n")
    (finding,) = run(project, **{option: value}).findings
    assert (finding.rule, finding.also) == left


def test_per_path_ignores_judge_each_code(project: Path) -> None:
    (project / "kavi.yaml").write_text(
        f'include: ["skills/**/*.py"]\nper_path_ignores: {{"skills/**": [{PROCESS}]}}\n'
    )
    (project / "skills" / "a.py").write_text("import subprocess\n")
    (finding,) = run(project).findings
    assert (finding.rule, finding.also) == (IMPORT, ())


def test_a_baseline_records_each_code_and_accepts_the_merged_place(project: Path) -> None:
    (project / "skills" / "a.py").write_text("import subprocess\n")
    unmerged = run(project, merge=False).findings
    assert sorted(f.rule for f in unmerged) == [IMPORT, PROCESS]
    write_baseline(project / "b.json", unmerged)
    assert sorted(e.rule for e in read_baseline(project / "b.json").findings) == [IMPORT, PROCESS]
    after = run(project, baseline=project / "b.json")
    assert after.findings == () and after.exit_code == 0
    assert after.results[0].baselined == 2


def test_a_code_that_appears_later_at_a_baselined_place_is_reported(project: Path) -> None:
    # The baseline was written when processes were allowed: it accepts the forbidden import
    # only. Denying processes later must not be accepted along with it.
    (project / "kavi.yaml").write_text('include: ["skills/**/*.py"]\npolicy: {process: allow}\n')
    (project / "skills" / "a.py").write_text("import subprocess\n")
    write_baseline(project / "b.json", run(project, merge=False).findings)
    (project / "kavi.yaml").write_text('include: ["skills/**/*.py"]\n')
    (finding,) = run(project, baseline=project / "b.json").findings
    assert (finding.rule, finding.also) == (PROCESS, ())
    assert run(project, baseline=project / "b.json").exit_code == 1


def test_the_report_documents_every_code_a_merged_finding_carries(project: Path) -> None:
    (project / "skills" / "a.py").write_text("import subprocess\n")
    report = run(project)
    assert set(report.codes) == {IMPORT, PROCESS}
    assert report.codes[PROCESS] == finding_codes()[PROCESS]
