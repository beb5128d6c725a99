"""Replay: run a recorded execution again, only if the skill's code is the code that ran."""

from __future__ import annotations

from kavi_gates.config import LoadedConfig
from kavi_skills.capabilities import Confirm
from kavi_skills.errors import ReplayRefused, SkillInputError
from kavi_skills.executor import Execution, execution_log, run_loaded, start_process
from kavi_skills.loader import load_trusted_skill
from kavi_skills.records import ExecutionRecord


def find_record(loaded: LoadedConfig, execution_id: str) -> ExecutionRecord:
    """The logged record with this id (or unique prefix), or a clear refusal."""
    record = execution_log(loaded).find(execution_id)
    if record is None:
        raise SkillInputError(f"no execution {execution_id!r} in {execution_log(loaded).path}")
    return record


def replay(
    execution_id: str,
    loaded: LoadedConfig,
    *,
    yes: bool = False,
    confirm: Confirm | None = None,
    log: bool = True,
    sandbox: bool | None = None,
) -> Execution:
    """Re-run the record's input; the new record's parent is the original.

    The skill is verified through the trusted loader first (every pin must match the bytes
    on disk), then its bundle hash must equal the record's ``source_hash``: a skill
    re-promoted since has different code, and replaying it would not be a replay. It runs
    in its own child, sandboxed unless ``sandbox`` or the config opts out.
    """
    with start_process(loaded, sandbox) as process:  # first: start-up overlaps the checks
        original = find_record(loaded, execution_id)
        skill = load_trusted_skill(original.skill_name, loaded)
        if skill.source_hash != original.source_hash:
            raise ReplayRefused(
                f"cannot replay {original.execution_id}: {original.skill_name} changed since "
                f"it ran (recorded {original.source_hash}, now {skill.source_hash})"
            )
        return run_loaded(
            skill,
            original.input_json,
            loaded,
            yes=yes,
            confirm=confirm,
            log=log,
            parent_execution_id=original.execution_id,
            process=process,
        )
