"""The trusted loader executes only the bytes it hashed, and nothing before every pin matches."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kavi_skills.errors import TrustError, UnknownSkillError
from kavi_skills.executor import run_skill
from kavi_skills.loader import load_trusted_skill, trust_state
from kavi_skills.records import ExecutionLog

if TYPE_CHECKING:
    from runtime_project import Project

pytest_plugins = ["runtime_project"]  # the `project` and `marker` fixtures

ATTACK = 'import pathlib; pathlib.Path(r"{marker}").write_text("pwned")'


def test_a_pinned_skill_loads_and_runs(project: Project) -> None:
    skill = load_trusted_skill("echo", project.config())
    # The parent only verifies: the class is built from these bytes in the skill's child.
    assert skill.entry.class_ == "EchoSkill"
    assert skill.verified == {"skills/echo.py": (project.root / "skills/echo.py").read_bytes()}
    assert skill.source_hash.startswith("sha256:")
    result = run_skill("echo", {"text": "hi"}, project.config())
    assert result.record.success and result.record.output_json == {"text": "hi"}


def test_an_unknown_skill_is_refused_with_the_trusted_names(project: Project) -> None:
    with pytest.raises(UnknownSkillError, match=r"unknown skill 'nope'.*echo"):
        load_trusted_skill("nope", project.config())


def test_a_skill_edited_to_write_a_marker_at_import_is_refused_and_never_runs(
    project: Project, marker: Path
) -> None:
    project.append("skills/echo.py", ATTACK.format(marker=marker))
    with pytest.raises(TrustError) as info:
        load_trusted_skill("echo", project.config())
    message = str(info.value)
    assert "skills/echo.py" in message and "expected" in message.lower()
    assert not marker.exists()


def test_helper_module_drift_is_refused_naming_the_helper(project: Project, marker: Path) -> None:
    project.append("skills/_util.py", ATTACK.format(marker=marker))
    with pytest.raises(TrustError, match=r"_util\.py"):
        load_trusted_skill("shout", project.config())
    assert not marker.exists()


def test_a_pinned_helper_is_served_from_verified_bytes_also_for_lazy_imports(
    project: Project,
) -> None:
    result = run_skill("shout", {"text": "hi"}, project.config())
    assert result.record.error is None
    assert result.record.output_json == {"text": "HI!"}


def test_a_same_named_module_earlier_on_sys_path_is_never_executed(
    project: Project, marker: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shadow = tmp_path / "shadow" / "skills"
    shadow.mkdir(parents=True)
    for name in ("__init__.py", "echo.py", "_util.py", "shout.py"):
        (shadow / name).write_text(ATTACK.format(marker=marker) + "\n")
    monkeypatch.syspath_prepend(str(tmp_path / "shadow"))
    for name in [n for n in sys.modules if n == "skills" or n.startswith("skills.")]:
        monkeypatch.delitem(sys.modules, name)
    assert run_skill("echo", {"text": "a"}, project.config()).record.success
    assert run_skill("shout", {"text": "b"}, project.config()).record.output_json == {"text": "B!"}
    assert not marker.exists()
    assert "skills" not in sys.modules  # the private modules do not leak into the process


def test_an_unpinned_local_import_is_refused_not_looked_up_on_sys_path(
    project: Project, marker: Path
) -> None:
    (project.root / "skills" / "_extra.py").write_text(ATTACK.format(marker=marker) + "\n")
    project.append("skills/echo.py", "import skills._extra")
    project.pin()
    with pytest.raises(TrustError, match="not pinned"):
        load_trusted_skill("echo", project.config())
    assert not marker.exists()


def test_a_class_whose_name_differs_from_the_entry_is_refused(project: Project) -> None:
    path = project.root / "skills" / "echo.py"
    path.write_text(path.read_text().replace('name = "echo"', 'name = "other"'))
    project.pin()
    with pytest.raises(TrustError, match="declares name 'other'"):
        load_trusted_skill("echo", project.config())


def test_a_side_effect_class_that_differs_from_the_entry_is_refused(project: Project) -> None:
    path = project.root / "skills" / "echo.py"
    path.write_text(path.read_text().replace('"READ_ONLY"', '"FILE_WRITE"'))
    project.pin()
    with pytest.raises(TrustError, match="side_effect_class 'FILE_WRITE'"):
        load_trusted_skill("echo", project.config())


def test_trust_state_reports_ok_drifted_and_missing(project: Project) -> None:
    from kavi_skills.loader import load_trusted_registry

    registry = load_trusted_registry(project.config())
    signers = project.config().allowed_signers()

    def state(name: str) -> str:
        return trust_state(registry.skills[name], project.root, name, signers)[0]

    assert state("echo") == "ok"
    project.append("skills/echo.py", "# edited")
    assert state("echo") == "drifted"
    (project.root / "skills" / "_util.py").unlink()
    assert state("shout") == "missing"


def test_relative_imports_of_pinned_helpers_get_the_verified_bytes(project: Project) -> None:
    path = project.root / "skills" / "shout.py"
    path.write_text(path.read_text().replace("from skills._util import", "from ._util import"))
    project.pin()
    assert run_skill("shout", {"text": "r"}, project.config()).record.output_json == {"text": "R!"}


def test_a_pinned_module_that_raises_at_import_is_a_clean_refusal(project: Project) -> None:
    project.append("skills/echo.py", "raise SystemExit(7)")
    project.pin()
    # The module is imported only in the skill's child, so the refusal comes from the run...
    with pytest.raises(TrustError, match=r"importing skills/echo\.py failed: SystemExit: 7"):
        run_skill("echo", {"text": "hi"}, project.config())
    # ...and, since verified code did run there, the attempt is on the record.
    (record,) = ExecutionLog(project.log_path).read().records
    assert not record.success and record.sandbox == "bubblewrap"
    assert record.error is not None and "SystemExit: 7" in record.error


def test_a_skill_calling_sys_exit_at_run_time_is_a_failure_record(project: Project) -> None:
    path = project.root / "skills" / "echo.py"
    path.write_text(
        path.read_text().replace('raise RuntimeError("asked to fail")', "raise SystemExit(3)")
    )
    project.pin()
    result = run_skill("echo", {"text": "boom"}, project.config())
    assert not result.record.success and result.record.error == "SystemExit: 3"
