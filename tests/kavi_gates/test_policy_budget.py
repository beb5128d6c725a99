"""policy.file_budget: a file whose parse or analysis takes too long is a finding (KAV005),
never a hang and never a pass; the rest of the run goes on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import kavi_gates.policy.gate
from kavi_gates.config import KaviConfig, load_config, policy_digest, validate_config
from kavi_gates.errors import ConfigError
from kavi_gates.models import Status
from kavi_gates.runner import run_gates

# libcst's parser is superlinear on one long chain of operators (0.2-0.4 s for 1,500 terms
# on a 2-core CI machine, seconds for 3,000), and `import os` makes the pre-filter send the
# file to the full analysis. Its budget is far below that, so it overruns on any machine,
# yet the file is small enough that a run with a generous budget analyses it quickly.
SLOW = "import os\nx = " + " + ".join(["1"] * 1500) + "\n"
SLOW_CONFIG = (
    "include: ['**/*.py']\n"
    "overrides:\n"
    "  - paths: ['skills/slow.py']\n"
    "    policy: {file_budget: 0.01}\n"
)


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _run(root: Path, gate: str = "policy", **kwargs: Any):  # type: ignore[no-untyped-def]
    return run_gates(load_config(start=root), None, [gate], **kwargs)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path, "kavi.yaml", SLOW_CONFIG)
    write(tmp_path, "skills/slow.py", SLOW)
    write(tmp_path, "skills/bad.py", "x = eval('1')\n")
    write(tmp_path, "skills/ok.py", "import json\nprint(json.dumps({}))\n")
    return tmp_path


@pytest.fixture
def analysed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = kavi_gates.policy.gate.analyse_misses

    def counting(run: Any, misses: list[Any], sources: Any) -> Any:
        seen.extend(job.rel for job in misses)
        return real(run, misses, sources)

    monkeypatch.setattr(kavi_gates.policy.gate, "analyse_misses", counting)
    return seen


def test_a_file_past_its_budget_is_a_finding_and_the_rest_of_the_run_goes_on(
    project: Path,
) -> None:
    report = _run(project)
    result = report.results[0]
    assert result.status is Status.FAIL
    assert result.checked == ("skills/bad.py", "skills/ok.py", "skills/slow.py")
    assert [(f.rule, f.path) for f in report.findings] == [
        ("KAV401", "skills/bad.py"),
        ("KAV005", "skills/slow.py"),
    ]
    slow = report.findings[1]
    assert "0.01 s" in slow.message and "policy.file_budget" in slow.message
    assert "cannot pass" in slow.message


def test_a_budget_finding_is_never_cached(project: Path, analysed: list[str]) -> None:
    _run(project)
    analysed.clear()
    assert [f.rule for f in _run(project).findings if f.path == "skills/slow.py"] == ["KAV005"]
    assert analysed == ["skills/slow.py"]  # the others come from the cache
    # A generous budget (the machine running the tests may be busy): now it passes.
    write(project, "kavi.yaml", "include: ['**/*.py']\npolicy: {file_budget: 600}\n")
    assert [f for f in _run(project).findings if f.path == "skills/slow.py"] == []


def test_the_budget_finding_cannot_be_suppressed(project: Path) -> None:
    write(project, "skills/slow.py", "# kavi: allow[KAV005] it is slow but fine\n" + SLOW)
    rules = {f.rule for f in _run(project).findings if f.path == "skills/slow.py"}
    assert rules == {"KAV005"}


def test_a_slow_skill_is_undetermined_for_the_invariants_gate(tmp_path: Path) -> None:
    write(tmp_path, "kavi.yaml", SLOW_CONFIG.replace("**/*.py", "skills/*.py"))
    skill = (
        "from kavi_skills import BaseSkill\nimport os\n\n\nclass Slow(BaseSkill):\n"
        "    name = 'slow'\n    description = 'slow'\n    side_effect_class = 'READ_ONLY'\n"
        "    input_model = dict\n    output_model = dict\n\n\n"
        "X = " + " + ".join(["1"] * 2500) + "\n"  # deeper is too deep for Python's parser
    )
    write(tmp_path, "skills/slow.py", skill)
    write(tmp_path, "tests/skills/test_slow.py", "def test_it():\n    pass\n")
    (finding,) = _run(tmp_path, "invariants").findings
    assert finding.rule == "KAV604"
    assert "cannot be determined" in finding.message and "policy.file_budget" in finding.message


@pytest.mark.parametrize("value", ["0", "-1", "fast", ".inf", "7200"])
def test_a_bad_budget_is_a_config_error_naming_the_key(value: str) -> None:
    with pytest.raises(ConfigError, match=r"policy\.file_budget"):
        validate_config({"policy": {"file_budget": value}}, "kavi.yaml")


def test_a_bad_budget_in_an_override_is_a_config_error() -> None:
    data = {"overrides": [{"paths": ["x/**"], "policy": {"file_budget": 0}}]}
    with pytest.raises(ConfigError, match="file_budget"):
        validate_config(data, "kavi.yaml")


def test_the_budget_is_not_part_of_the_policy_a_skill_was_verified_under() -> None:
    base = policy_digest(KaviConfig())
    faster = validate_config({"policy": {"file_budget": 2}}, "kavi.yaml")
    overridden = validate_config(
        {"overrides": [{"paths": ["x/**"], "policy": {"file_budget": 2}}]}, "kavi.yaml"
    )
    assert policy_digest(faster) == policy_digest(overridden) == base
    stricter = validate_config({"policy": {"file_budget": 2, "network": "allow"}}, "kavi.yaml")
    assert policy_digest(stricter) != base


def test_a_file_that_crashes_the_parser_is_an_error_naming_it(tmp_path: Path) -> None:
    """libcst's parser recurses past the C stack on some deep nesting (CPython refuses the
    same file): the worker dies, the file is KAV006 naming the likely cause, the gate is
    an error, and the other files are still judged."""
    write(tmp_path, "kavi.yaml", "include: ['skills/*.py']\n")
    write(tmp_path, "skills/deep.py", "x = " + "-" * 30_000 + "eval\n")
    write(tmp_path, "skills/bad.py", "x = eval('1')\n")
    report = _run(tmp_path)
    assert report.results[0].status is Status.ERROR
    assert [(f.rule, f.path) for f in report.findings] == [
        ("KAV401", "skills/bad.py"),
        ("KAV006", "skills/deep.py"),
    ]
    assert "the parser crashed: nesting too deep?" in report.findings[1].message
