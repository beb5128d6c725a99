"""Run one trusted skill: validate input, execute, validate output, record the outcome.

Every way a run can go wrong after trust is established (bad input, a failing skill, bad
output) becomes a FAILURE record with a one-line error, never an exception; refusals before
anything could run (unknown skill, drift, no confirmation, missing secret) raise KaviErrors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from kavi_gates.config import LoadedConfig
from kavi_gates.errors import shorten
from kavi_skills.capabilities import (
    Confirm,
    Prepared,
    confirm_side_effects,
    prepare_context,
    project_paths,
)
from kavi_skills.loader import LoadedSkill, load_trusted_skill
from kavi_skills.records import ExecutionLog, ExecutionRecord, utc_now
from kavi_skills.secrets import Redactor

FailureKind = Literal["input", "mapping", "skill", "output"]


@dataclass(frozen=True)
class Execution:
    """A record and, when it failed, at which stage."""

    record: ExecutionRecord
    failure: FailureKind | None = None

    @property
    def exit_code(self) -> int:
        """0 on success, 2 when the input was unusable, 1 when the skill or its output failed."""
        if self.failure is None:
            return 0
        return 2 if self.failure in ("input", "mapping") else 1


def describe_validation(err: ValidationError, limit: int = 5) -> str:
    """``field: message`` pairs from a pydantic error, without echoing the input values."""
    parts = []
    for item in err.errors(include_url=False, include_input=False)[:limit]:
        where = ".".join(str(p) for p in item["loc"]) or "<root>"  # keys come from the input
        parts.append(f"{shorten(where)}: {shorten(item['msg'])}")
    more = err.error_count() - limit
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def _as_input_json(raw: Any) -> dict[str, Any]:
    return dict(raw) if isinstance(raw, Mapping) else {"_invalid_input": raw}


def failure(
    skill: LoadedSkill,
    raw_input: Any,
    error: str,
    kind: FailureKind,
    redactor: Redactor,
    parent_execution_id: str | None = None,
    started_at: str | None = None,
) -> Execution:
    """A FAILURE record for ``skill`` that did not (fully) run."""
    record = ExecutionRecord(
        parent_execution_id=parent_execution_id,
        skill_name=skill.name,
        source_hash=skill.source_hash,
        side_effect_class=skill.entry.side_effect_class,
        input_json=redactor.data(_as_input_json(raw_input)),
        success=False,
        error=redactor.text(error),
        started_at=started_at or utc_now(),
        finished_at=utc_now(),
    )
    return Execution(record, kind)


def execute(
    skill: LoadedSkill,
    raw_input: Any,
    prepared: Prepared,
    parent_execution_id: str | None = None,
) -> Execution:
    """Validate, run and validate again; the result is always a record."""
    started = utc_now()
    redactor = prepared.redactor
    cls = skill.skill_class

    def fail(error: str, kind: FailureKind, data: Any = raw_input) -> Execution:
        return failure(skill, data, error, kind, redactor, parent_execution_id, started)

    with skill.activated():
        if not isinstance(raw_input, Mapping):
            return fail(
                f"invalid input: expected a JSON object, got {type(raw_input).__name__}", "input"
            )
        try:
            data = cls.input_model.model_validate(dict(raw_input))
        except ValidationError as err:
            return fail(f"invalid input: {describe_validation(err)}", "input")
        input_json = data.model_dump(mode="json")
        try:
            result = cls(prepared.context).execute(data)
        except (Exception, SystemExit) as err:  # a skill's failure is data, not a crash
            return fail(f"{type(err).__name__}: {err}", "skill", input_json)
        try:
            if isinstance(result, BaseModel) and not isinstance(result, cls.output_model):
                result = result.model_dump()
            output = cls.output_model.model_validate(result)
            output_json = output.model_dump(mode="json")
        except ValidationError as err:
            return fail(f"invalid output: {describe_validation(err)}", "output", input_json)
    record = ExecutionRecord(
        parent_execution_id=parent_execution_id,
        skill_name=skill.name,
        source_hash=skill.source_hash,
        side_effect_class=skill.entry.side_effect_class,
        input_json=redactor.data(input_json),
        output_json=redactor.data(output_json),
        success=True,
        started_at=started,
        finished_at=utc_now(),
    )
    return Execution(record)


def execution_log(loaded: LoadedConfig) -> ExecutionLog:
    """The project's execution log (``<data_dir>/executions.jsonl``)."""
    return ExecutionLog(project_paths(loaded).executions_log)


def run_loaded(
    skill: LoadedSkill,
    raw_input: Any,
    loaded: LoadedConfig,
    *,
    yes: bool = False,
    confirm: Confirm | None = None,
    log: bool = True,
    parent_execution_id: str | None = None,
) -> Execution:
    """Confirm, prepare capabilities, execute and (unless ``log`` is false) append the record."""
    confirm_side_effects([(skill.name, skill.entry.side_effect_class)], yes, confirm)
    prepared = prepare_context(skill, loaded, project_paths(loaded))
    result = execute(skill, raw_input, prepared, parent_execution_id)
    if log:
        execution_log(loaded).append(result.record)
    return result


def run_skill(
    name: str,
    raw_input: Any,
    loaded: LoadedConfig,
    *,
    yes: bool = False,
    confirm: Confirm | None = None,
    log: bool = True,
    parent_execution_id: str | None = None,
) -> Execution:
    """Load the trusted skill ``name`` (pins checked first) and run it once."""
    skill = load_trusted_skill(name, loaded)
    return run_loaded(
        skill,
        raw_input,
        loaded,
        yes=yes,
        confirm=confirm,
        log=log,
        parent_execution_id=parent_execution_id,
    )
