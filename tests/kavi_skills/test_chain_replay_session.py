"""Chains map fields between steps; replay refuses drift; sessions are cycle-safe trees."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kavi_skills.chain import ChainSpec, MappingError, extract, run_chain
from kavi_skills.errors import ReplayRefused, TrustError
from kavi_skills.executor import run_skill
from kavi_skills.records import ExecutionLog, ExecutionRecord
from kavi_skills.replay import replay
from kavi_skills.session import build_session, render_tree

if TYPE_CHECKING:
    from runtime_project import Project

pytest_plugins = ["runtime_project"]

ATTACK = 'import pathlib; pathlib.Path(r"{marker}").write_text("pwned")'


def _spec(data: object) -> ChainSpec:
    return ChainSpec.model_validate(data)


def test_extract_follows_keys_and_list_indices() -> None:
    data = {"results": [{"path": "a"}, {"path": "b"}]}
    assert extract(data, "results.1.path") == "b"
    for bad in ("results.2.path", "results.x", "missing", "results.0.path.deeper"):
        with pytest.raises(MappingError):
            extract(data, bad)


def test_a_chain_maps_output_into_the_next_input(project: Project) -> None:
    spec = _spec(
        {
            "steps": [
                {"skill_name": "echo", "input": {"text": "hi"}},
                {
                    "skill_name": "shout",
                    "input_template": {},
                    "from_prev": [{"to_field": "text", "from_path": "text"}],
                },
                {
                    "skill_name": "echo",
                    "from_prev": [{"to_field": "text", "from_path": "text", "from_step_index": 0}],
                    "parent_index": 0,
                },
            ]
        }
    )
    results = run_chain(spec, project.config())
    records = [r.record for r in results]
    assert [r.output_json for r in records] == [{"text": "hi"}, {"text": "HI!"}, {"text": "hi"}]
    assert records[1].parent_execution_id == records[0].execution_id
    assert records[2].parent_execution_id == records[0].execution_id
    assert ExecutionLog(project.log_path).read().records == tuple(records)


def test_a_mapping_failure_is_a_failure_record_and_the_skill_never_runs(
    project: Project, marker: Path
) -> None:
    # The second step's skill would write the marker if it ran: it must not.
    spec = _spec(
        {
            "steps": [
                {"skill_name": "echo", "input": {"text": "hi"}},
                {
                    "skill_name": "note",
                    "input_template": {"body": "x"},
                    "from_prev": [{"to_field": "path", "from_path": "results.0.path"}],
                },
                {"skill_name": "echo", "input": {"text": "never"}},
            ]
        }
    )
    results = run_chain(spec, project.config(), yes=True)
    assert len(results) == 2  # stop_on_failure is the default
    failed = results[1].record
    assert not failed.success and failed.error is not None
    assert failed.error.startswith("mapping failed:") and "'results' not found" in failed.error
    assert not (project.data_dir / "vault").exists()


def test_a_schema_failure_after_mapping_does_not_run_and_the_chain_can_go_on(
    project: Project,
) -> None:
    spec = _spec(
        {
            "steps": [
                {"skill_name": "echo", "input": {"text": "hi"}},
                {
                    "skill_name": "echo",
                    "input_template": {},
                    "from_prev": [{"to_field": "wrong", "from_path": "text"}],
                },
                {"skill_name": "echo", "input": {"text": "after"}},
            ],
            "options": {"stop_on_failure": False},
        }
    )
    results = run_chain(spec, project.config())
    assert [r.record.success for r in results] == [True, False, True]
    assert results[1].record.error == "invalid input: text: Field required"


def test_a_chain_with_an_untrusted_step_runs_nothing(project: Project, marker: Path) -> None:
    project.append("skills/shout.py", ATTACK.format(marker=marker))
    spec = _spec(
        {
            "steps": [
                {"skill_name": "echo", "input": {"text": "hi"}},
                {"skill_name": "shout", "input": {"text": "x"}},
            ]
        }
    )
    with pytest.raises(TrustError):
        run_chain(spec, project.config())
    assert not project.log_path.exists() and not marker.exists()


def test_a_spec_pointing_forward_is_invalid() -> None:
    with pytest.raises(ValueError, match="earlier step"):
        _spec({"steps": [{"skill_name": "echo", "input": {}, "parent_index": 0}]})


def test_replay_reruns_with_the_same_input_as_a_child(project: Project) -> None:
    original = run_skill("echo", {"text": "again"}, project.config()).record
    again = replay(original.execution_id, project.config()).record
    assert again.parent_execution_id == original.execution_id
    assert again.input_json == original.input_json and again.output_json == {"text": "again"}


def test_replay_is_refused_after_drift_and_the_marker_never_appears(
    project: Project, marker: Path
) -> None:
    original = run_skill("echo", {"text": "x"}, project.config()).record
    project.append("skills/echo.py", ATTACK.format(marker=marker))
    with pytest.raises(TrustError, match="drifted"):
        replay(original.execution_id, project.config())
    assert not marker.exists()


def test_replay_is_refused_after_a_repromotion(project: Project) -> None:
    original = run_skill("shout", {"text": "x"}, project.config()).record
    project.append("skills/_util.py", "# a reviewed change, promoted again")
    project.pin()
    with pytest.raises(ReplayRefused, match="changed since"):
        replay(original.execution_id, project.config())


def _rec(
    execution_id: str, parent: str | None, started: str = "2026-01-01T00:00:00"
) -> ExecutionRecord:
    return ExecutionRecord(
        execution_id=execution_id,
        parent_execution_id=parent,
        skill_name="echo",
        source_hash="sha256:x",
        side_effect_class="READ_ONLY",
        input_json={},
        success=True,
        started_at=started,
        finished_at=started,
    )


def test_a_session_is_the_whole_tree_from_any_member() -> None:
    records = [_rec("a", None), _rec("b", "a"), _rec("c", "b"), _rec("d", "a"), _rec("z", None)]
    tree = build_session(records, "c")
    assert tree.execution_id == "a"
    assert [k.execution_id for k in tree.children] == ["b", "d"]
    assert tree.children[0].children[0].execution_id == "c"
    lines = render_tree(tree, highlight="c")
    assert len(lines) == 4 and lines[2].endswith("*")


def test_a_cycle_in_the_log_cannot_hang_the_session() -> None:
    records = [_rec("a", "c"), _rec("b", "a"), _rec("c", "b"), _rec("self", "self")]
    tree = build_session(records, "a")
    ids = []
    stack = [tree]
    while stack:
        node = stack.pop()
        ids.append(node.execution_id)
        stack.extend(node.children)
    assert sorted(ids) == ["a", "b", "c"]
    assert build_session(records, "self").children == ()


def test_a_later_step_sees_the_note_an_earlier_step_wrote_into_a_new_vault(
    project: Project,
) -> None:
    assert not (project.data_dir / "vault").exists()
    project.add_skill(
        "lister",
        """\
        from __future__ import annotations

        from pydantic import BaseModel

        from kavi_skills import BaseSkill


        class ListIn(BaseModel):
            pass


        class ListOut(BaseModel):
            names: list[str]


        class ListerSkill(BaseSkill):
            name = "lister"
            description = "List the vault."
            side_effect_class = "READ_ONLY"
            input_model = ListIn
            output_model = ListOut

            def execute(self, data: ListIn) -> ListOut:
                return ListOut(names=sorted(p.name for p in self.context.vault_dir.iterdir()))
        """,
        "ListerSkill",
    )
    spec = _spec(
        {
            "steps": [
                {"skill_name": "note", "input": {"path": "fresh.md", "body": "x"}},
                {"skill_name": "lister", "input": {}},
            ]
        }
    )
    results = run_chain(spec, project.config(), yes=True)
    assert [r.record.success for r in results] == [True, True], results[-1].record.error
    assert results[1].record.output_json == {"names": ["fresh.md"]}
