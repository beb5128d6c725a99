"""One ``tools/call``: through the same runtime as ``kavi run``, or refused and recorded.

Nothing here executes a skill: :func:`~kavi_skills.executor.run_skill` does, exactly as for
``kavi run`` (pins and attestation verified first, a sandboxed child with only the declared
capabilities and secrets, the record redacted and logged), with the MCP connection as the
record's origin. A side effect needs a confirmation on the CLI; over MCP the client's own
confirmation is not Kavi's, so such a skill runs only when ``serve.allow`` names it. Every
call leaves a record, a refused one too (``error: "refused: ..."``, no ``sandbox``: nothing
ran).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from kavi_gates.config import LoadedConfig
from kavi_gates.errors import InternalError, KaviError
from kavi_gates.hash_pin import RegistryEntry
from kavi_skills.capabilities import needs_confirmation, project_paths
from kavi_skills.errors import SkillDidNotLoad
from kavi_skills.executor import execution_log, printable, run_skill
from kavi_skills.loader import bundle_hash
from kavi_skills.records import ExecutionRecord, RecordOrigin, utc_now
from kavi_skills.secrets import Redactor, resolve_secrets
from kavi_skills.serve.catalog import registry_or_empty


class UnknownTool(Exception):
    """The name is no registry entry: a protocol error (the client asked for no tool)."""


@dataclass(frozen=True)
class CallOutcome:
    """What the client gets: the output, or an error message; and the record's id."""

    ok: bool
    output: dict[str, Any] | None
    message: str
    execution_id: str | None
    refused: bool = False
    """Nothing ran (drift, no attestation, no confirmation, no secret, no sandbox)."""
    recheck: bool = False
    """The refusal came from the runtime's checks: the set of trusted skills may differ."""


def _redactor_for(entry: RegistryEntry | None, loaded: LoadedConfig) -> Redactor:
    """The declared secrets that resolve, so a refused call's record leaks none of them."""
    if entry is None or not entry.required_secrets:
        return Redactor()
    config_dir = project_paths(loaded).config_dir
    values: list[str] = []
    for name in entry.required_secrets:
        try:
            values.extend(resolve_secrets([name], config_dir).values())
        except KaviError:
            continue  # a missing secret is the refusal itself; nothing to redact
    return Redactor(values)


def _input_json(arguments: Any) -> dict[str, Any]:
    return dict(arguments) if isinstance(arguments, dict) else {"_invalid_input": arguments}


def record_refusal(
    name: str,
    entry: RegistryEntry | None,
    arguments: Any,
    reason: str,
    loaded: LoadedConfig,
    origin: RecordOrigin,
) -> str | None:
    """Log a refused call (nothing ran); its execution id, or None if the log failed."""
    redactor = _redactor_for(entry, loaded)
    now = utc_now()
    record = ExecutionRecord(
        skill_name=name,
        source_hash=bundle_hash(entry) if entry is not None else "",
        side_effect_class=entry.side_effect_class if entry is not None else "",
        input_json=redactor.data(_input_json(arguments)),
        success=False,
        error=printable(redactor.text(f"refused: {reason}")),
        started_at=now,
        finished_at=now,
        origin=origin,
    )
    try:
        execution_log(loaded).append(record)
    except InternalError as err:  # reported; the refusal itself still stands
        sys.stderr.write(f"kavi: error: {err}\n")
        return None
    return record.execution_id


def _outcome(record: ExecutionRecord) -> CallOutcome:
    if record.success:
        output = record.output_json or {}
        return CallOutcome(
            True, output, json.dumps(output, ensure_ascii=False), record.execution_id
        )
    return CallOutcome(False, None, f"{record.skill_name}: {record.error}", record.execution_id)


def _refuse(
    name: str,
    entry: RegistryEntry | None,
    arguments: Any,
    reason: str,
    loaded: LoadedConfig,
    origin: RecordOrigin,
    *,
    recheck: bool = False,
) -> CallOutcome:
    execution_id = record_refusal(name, entry, arguments, reason, loaded, origin)
    return CallOutcome(False, None, f"refused: {reason}", execution_id, True, recheck)


def call_skill(
    name: str,
    arguments: dict[str, Any] | None,
    loaded: LoadedConfig,
    origin: RecordOrigin,
    *,
    sandbox: bool | None = None,
) -> CallOutcome:
    """Run the trusted skill ``name`` for an MCP client, or refuse; never raises a
    KaviError (raises :class:`UnknownTool` for a name the registry does not have).

    Blocking: call it from a thread that stays alive until it returns (the sandbox dies
    with the thread that started it).
    """
    raw = {} if arguments is None else arguments
    try:
        registry = registry_or_empty(loaded)
    except KaviError as err:
        return _refuse(name, None, raw, f"the registry cannot be read: {err}", loaded, origin)
    entry = registry.skills.get(name)
    if entry is None:
        known = ", ".join(sorted(registry.skills)) or "none"
        reason = f"unknown tool {name!r}: not a trusted skill (trusted skills: {known})"
        record_refusal(name, None, raw, reason, loaded, origin)
        raise UnknownTool(reason)
    allowed = name in loaded.config.serve.allow
    if needs_confirmation(entry.side_effect_class) and not allowed:
        reason = (
            f"{name} is {entry.side_effect_class}: a side effect needs a confirmation, and an "
            "MCP client's confirmation is not Kavi's; list it under serve.allow in the "
            "project's config to run it over MCP"
        )
        return _refuse(name, entry, raw, reason, loaded, origin)
    try:
        # The runtime confirms again (yes only for a skill serve.allow names) and verifies
        # the pins and attestation itself: a drift since the snapshot is refused there.
        execution = run_skill(
            name, raw, loaded, yes=allowed, confirm=None, sandbox=sandbox, origin=origin
        )
    except SkillDidNotLoad as err:  # recorded by the runtime already
        return _outcome(err.record)
    except InternalError as err:
        return CallOutcome(False, None, f"{name}: internal error: {err}", None)
    except KaviError as err:  # nothing ran: drift, no attestation, no secret, no sandbox
        return _refuse(name, entry, raw, str(err), loaded, origin, recheck=True)
    return _outcome(execution.record)
