"""What a trusted skill declares (description, input and output JSON schemas), learnt from a
sandboxed child: the parent never imports skill code, and building a pydantic schema can run
the skill's own code (validators, ``__get_pydantic_json_schema__``, ``json_schema_extra``).

The child is the one every run uses (:class:`~kavi_skills.isolation.SkillProcess`), started
the same way, sent a :class:`~kavi_skills.protocol.DescribeRequest` instead of a run
request: the skill's module is imported from the verified bytes, nothing is executed, no
secret, file, HTTP or LLM capability is granted, and a capability call is a protocol breach.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from kavi_gates.config import LoadedConfig
from kavi_skills.capabilities import project_paths
from kavi_skills.errors import DescribeFailed
from kavi_skills.executor import printable
from kavi_skills.isolation import SkillProcess
from kavi_skills.loader import TrustedSkill
from kavi_skills.protocol import (
    DescribeRequest,
    Description,
    FrameTimeout,
    PeerClosed,
    ProtocolError,
    encode_bytes,
)
from kavi_skills.validation import describe_validation

MAX_DESCRIPTION_CHARS = 4000


@dataclass(frozen=True)
class SkillDescription:
    """What one trusted skill (at one bundle hash) declares about itself."""

    name: str
    source_hash: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]


def describe_request(skill: TrustedSkill) -> DescribeRequest:
    """The message asking a child to describe ``skill`` from its verified bytes."""
    return DescribeRequest(
        skill_name=skill.name,
        skill_path=skill.entry.path,
        class_name=skill.entry.class_,
        side_effect_class=skill.entry.side_effect_class,
        root=str(skill.root),
        modules={path: encode_bytes(data) for path, data in skill.verified.items()},
        served=dict(skill.served),
        import_roots=skill.import_roots,
    )


def _converse(process: SkillProcess, request: DescribeRequest) -> Description:
    process.process.restart_clock()
    try:
        process.send(request)
        message = process.receive()
    except FrameTimeout:
        process.process.kill()
        raise DescribeFailed(
            f"{request.skill_name}: describing it timed out (the sandbox's wall-time limit)"
        ) from None
    except (PeerClosed, OSError):
        raise DescribeFailed(
            f"{request.skill_name}: the skill's process {process.failure_detail()}"
        ) from None
    except ProtocolError as err:
        raise DescribeFailed(f"{request.skill_name}: broke the protocol: {err}") from None
    kind = message.get("t") if isinstance(message, dict) else None
    if kind != "described":  # a capability call, or anything else: no broker here
        raise DescribeFailed(
            f"{request.skill_name}: broke the protocol (a {printable(repr(kind), 80)} message "
            "while being described)"
        )
    try:
        return Description.model_validate(message)
    except ValidationError as err:
        raise DescribeFailed(
            f"{request.skill_name}: broke the protocol: {describe_validation(err)}"
        ) from None


def _text(description: str) -> str:
    """The description safe to show (control and bidi characters escaped, bounded); its
    line breaks are kept."""
    lines = [printable(line) for line in description.strip().split("\n")]
    return printable("\n".join(lines), MAX_DESCRIPTION_CHARS).replace("\\x0a", "\n")


def _schema(value: dict[str, Any] | None, which: str, name: str) -> dict[str, Any]:
    if value is None:
        raise DescribeFailed(f"{name}: the child described no {which} schema")
    try:
        # A deep copy through JSON: what the child sent is data, and must be JSON-safe.
        copied = json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as err:
        raise DescribeFailed(f"{name}: the {which} schema is not JSON data ({err})") from None
    if not isinstance(copied, dict):
        raise DescribeFailed(f"{name}: the {which} schema is not a JSON object")
    return copied


def describe_skill(
    skill: TrustedSkill, loaded: LoadedConfig, *, sandbox: bool | None = None
) -> SkillDescription:
    """Describe ``skill`` (verified by the caller) in its own sandboxed child.

    Raises :class:`DescribeFailed` when the child could not import the skill, build its
    schemas, or answered out of protocol; a sandbox that cannot start raises as for a run.
    """
    with SkillProcess.start(loaded, project_paths(loaded), sandbox) as process:
        outcome = _converse(process, describe_request(skill))
    if not outcome.ok:
        detail = printable(outcome.error or "failed without an error message")
        raise DescribeFailed(f"{skill.name}: cannot describe the skill: {detail}")
    return SkillDescription(
        name=skill.name,
        source_hash=skill.source_hash,
        description=_text(outcome.description or ""),
        input_schema=_schema(outcome.input_schema, "input", skill.name),
        output_schema=_schema(outcome.output_schema, "output", skill.name),
    )
