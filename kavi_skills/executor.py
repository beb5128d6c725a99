"""Run one trusted skill: each run in its own sandboxed child, the parent keeping the record.

:func:`run_skill` is the one entry point every surface calls (``kavi run``, ``kavi replay``
through it, ``kavi serve``): a skill name, its input, the confirmation policy and the
sandbox choice in; an :class:`Execution` (the record, logged) out. The child is started
first, so its interpreter start-up overlaps the parent's trust check; the parent never
executes skill code itself.

Every way a run can go wrong once the child has the request (bad input, a failing skill,
bad output, a dead or runaway process) becomes a FAILURE record with a one-line error;
refusals before anything could run (unknown skill, drift, no confirmation, missing
secret, no sandbox) raise KaviErrors. A skill whose verified module fails to import or
does not match its entry is recorded and then refused with a TrustError.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kavi_gates.config import LoadedConfig
from kavi_gates.errors import ConfigError
from kavi_skills.broker import CapabilityBroker, converse
from kavi_skills.capabilities import (
    Confirm,
    Grant,
    LazyLLM,
    confirm_side_effects,
    prepare_capabilities,
    project_paths,
    uses_llm,
)
from kavi_skills.errors import SkillDidNotLoad
from kavi_skills.isolation import SkillProcess
from kavi_skills.loader import TrustedSkill, load_trusted_skill
from kavi_skills.protocol import LLMInfo, RunRequest, encode_bytes
from kavi_skills.records import ExecutionLog, ExecutionRecord, RecordOrigin, utc_now
from kavi_skills.secrets import Redactor
from kavi_skills.validation import describe_validation

FailureKind = Literal["input", "mapping", "skill", "output", "trust", "process"]

__all__ = [
    "Execution",
    "FailureKind",
    "describe_validation",
    "execute_in_child",
    "execution_log",
    "failure",
    "run_loaded",
    "run_skill",
]


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


MAX_ERROR_CHARS = 2000
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """``text`` safe to show on a terminal: control and bidi-override characters escaped
    (a skill's error is untrusted: it must not drive the user's terminal), length bounded."""
    out = []
    for char in text:
        code = ord(char)
        if code < 0x20 or 0x7F <= code < 0xA0 or char in _BIDI:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    cleaned = "".join(out)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _as_input_json(raw: Any) -> dict[str, Any]:
    return dict(raw) if isinstance(raw, Mapping) else {"_invalid_input": raw}


def failure(
    skill: TrustedSkill,
    raw_input: Any,
    error: str,
    kind: FailureKind,
    redactor: Redactor,
    parent_execution_id: str | None = None,
    started_at: str | None = None,
    sandbox: str | None = None,
) -> Execution:
    """A FAILURE record for ``skill`` that did not (fully) run."""
    record = ExecutionRecord(
        parent_execution_id=parent_execution_id,
        skill_name=skill.name,
        source_hash=skill.source_hash,
        side_effect_class=skill.entry.side_effect_class,
        input_json=redactor.data(_as_input_json(raw_input)),
        success=False,
        error=printable(redactor.text(error)),
        started_at=started_at or utc_now(),
        finished_at=utc_now(),
        sandbox=sandbox,
    )
    return Execution(record, kind)


def _llm_info() -> LLMInfo:
    from kavi_skills.llm import LLMSettings, where

    try:
        settings = LLMSettings.from_env()
    except ConfigError as err:  # reported when the skill calls it, as before
        return LLMInfo(model="", embed_model="", where=f"LLM endpoint (misconfigured: {err})")
    return LLMInfo(model=settings.model, embed_model=settings.embed_model, where=where(settings))


def build_request(skill: TrustedSkill, raw_input: Any, grant: Grant, vault: str) -> RunRequest:
    """The one message that tells a child what to run and what it was granted."""
    files = grant.files
    return RunRequest(
        skill_name=skill.name,
        skill_path=skill.entry.path,
        class_name=skill.entry.class_,
        side_effect_class=skill.entry.side_effect_class,
        root=str(skill.root),
        modules={path: encode_bytes(data) for path, data in skill.verified.items()},
        served=dict(skill.served),
        import_roots=skill.import_roots,
        input=raw_input,
        vault_dir=vault,
        file_roots=None if files is None else {k: str(v) for k, v in files.roots.items()},
        allowed_hosts=None if grant.http is None else grant.http.allowed_hosts,
        llm=_llm_info(),
        secrets=grant.secrets,
    )


_STAGE_KIND: dict[str, FailureKind] = {
    "load": "trust",
    "input": "input",
    "skill": "skill",
    "output": "output",
}


def execute_in_child(
    skill: TrustedSkill,
    raw_input: Any,
    grant: Grant,
    process: SkillProcess,
    vault: str,
    llm: Any,
    parent_execution_id: str | None = None,
) -> Execution:
    """Hand the verified bytes and input to ``process``, broker its calls, build the record.

    Everything the child says is untrusted data: it is validated, bounded and redacted here.
    """
    started = utc_now()
    redactor = grant.redactor

    def fail(error: str, kind: FailureKind, data: Any = raw_input) -> Execution:
        return failure(
            skill, data, error, kind, redactor, parent_execution_id, started, process.backend
        )

    try:
        json.dumps(raw_input, allow_nan=False)
    except (TypeError, ValueError) as err:  # only JSON data crosses the pipe
        return fail(f"invalid input: not JSON data ({err})", "input")
    request = build_request(skill, raw_input, grant, vault)
    broker = CapabilityBroker(skill.name, skill.entry.side_effect_class, grant, llm)
    result = converse(process, request, broker)
    process.close()  # nothing of the child outlives its answer
    outcome = result.outcome
    if outcome is None:
        return fail(f"the skill's process {result.failure}", "process")
    if not outcome.ok:
        kind = _STAGE_KIND.get(outcome.stage or "skill", "skill")
        data = raw_input if outcome.input is None else outcome.input
        return fail(outcome.error or "failed without an error message", kind, data)
    if outcome.output is None:
        return fail("the skill's process reported success without an output", "output")
    record = ExecutionRecord(
        parent_execution_id=parent_execution_id,
        skill_name=skill.name,
        source_hash=skill.source_hash,
        side_effect_class=skill.entry.side_effect_class,
        input_json=redactor.data(_as_input_json(outcome.input)),
        output_json=redactor.data(outcome.output),
        success=True,
        started_at=started,
        finished_at=utc_now(),
        sandbox=process.backend,
    )
    return Execution(record)


class AuditedExecutionLog(ExecutionLog):
    """The execution log; a run without the OS sandbox is also recorded in the ledger.

    The log is written first (the record is never lost), then the ledger: the opt-out is an
    audit fact that outlives a truncated or rotated log and that ``kavi doctor`` reports.
    """

    def __init__(self, loaded: LoadedConfig) -> None:
        super().__init__(project_paths(loaded).executions_log)
        self.loaded = loaded

    def append_many(self, records: list[ExecutionRecord]) -> None:
        super().append_many(records)
        unconfined = [
            (r.execution_id, r.skill_name, r.origin.via if r.origin is not None else "cli")
            for r in records
            if r.sandbox == "none"
        ]
        if unconfined:
            from kavi_ledger.db import open_ledger
            from kavi_ledger.records import record_sandbox_opt_outs

            reason = (
                f"sandbox.enabled is false in {self.loaded.source}"
                if not self.loaded.config.sandbox.enabled
                else "--no-sandbox"
            )
            db = open_ledger(project_paths(self.loaded).ledger)
            try:
                record_sandbox_opt_outs(db, unconfined, reason)
            finally:
                db.close()


def execution_log(loaded: LoadedConfig) -> ExecutionLog:
    """The project's execution log (``<data_dir>/executions.jsonl``), opt-outs audited."""
    return AuditedExecutionLog(loaded)


def start_process(loaded: LoadedConfig, sandbox: bool | None = None) -> SkillProcess:
    """Start a skill's child now (sandboxed unless the caller or the config opted out)."""
    return SkillProcess.start(loaded, project_paths(loaded), sandbox)


def run_loaded(
    skill: TrustedSkill,
    raw_input: Any,
    loaded: LoadedConfig,
    *,
    yes: bool = False,
    confirm: Confirm | None = None,
    log: bool = True,
    parent_execution_id: str | None = None,
    sandbox: bool | None = None,
    process: SkillProcess | None = None,
    origin: RecordOrigin | None = None,
) -> Execution:
    """Confirm, grant capabilities, run in a child and (unless ``log`` is false) log the record.

    ``process`` is a child already started for this run (else one is started here);
    ``origin`` says who asked, when not the CLI (``kavi serve``: the MCP connection).
    """
    confirm_side_effects([(skill.name, skill.entry.side_effect_class)], yes, confirm)
    paths = project_paths(loaded)
    grant = prepare_capabilities(skill, loaded, paths)
    child = process if process is not None else SkillProcess.start(loaded, paths, sandbox)
    llm = LazyLLM()
    if uses_llm(skill):
        llm.warm_up()  # overlaps the child's start-up instead of the skill's first call
    with child:
        result = execute_in_child(
            skill, raw_input, grant, child, str(paths.vault_dir), llm, parent_execution_id
        )
    if origin is not None:
        result = Execution(result.record.model_copy(update={"origin": origin}), result.failure)
    if log:
        execution_log(loaded).append(result.record)
    if result.failure == "trust":
        error = result.record.error or f"{skill.name}: the skill did not load"
        raise SkillDidNotLoad(error, result.record)
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
    sandbox: bool | None = None,
    origin: RecordOrigin | None = None,
) -> Execution:
    """Run the trusted skill ``name`` once on ``raw_input``; the surfaces' one entry point.

    - ``yes``/``confirm``: the confirmation policy for side effects (``yes`` skips asking;
      ``confirm`` is asked otherwise; neither refuses a skill with side effects).
    - ``sandbox``: True requires the OS sandbox, False is the explicit, recorded opt-out,
      None follows the project's ``sandbox.enabled``.
    - ``log``: append the record to the project's execution log.
    - ``origin``: who asked, recorded (``kavi serve``'s MCP connection); None: the CLI.

    Raises a KaviError when nothing could run (unknown skill, drift, refused confirmation,
    missing secret, no sandbox) and TrustError (after logging) when the verified module did
    not load; every other outcome is the returned record.
    """
    with start_process(loaded, sandbox) as process:  # first: its start-up overlaps the checks
        skill = load_trusted_skill(name, loaded)
        return run_loaded(
            skill,
            raw_input,
            loaded,
            yes=yes,
            confirm=confirm,
            log=log,
            parent_execution_id=parent_execution_id,
            process=process,
            origin=origin,
        )
