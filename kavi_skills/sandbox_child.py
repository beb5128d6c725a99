"""The process a skill runs in: ``python -I -B -m kavi_skills.sandbox_child --broker-fd N``.

Started by the parent (:mod:`kavi_skills.isolation`) inside the OS sandbox, before the
parent has even finished its trust check. In order, before any skill code runs:

1. apply its memory limit and, with ``--confine``, lock itself further
   (:func:`kavi_sandbox.confine.confine_self`): no exec, no new processes, no sockets, no
   filesystem writes (Landlock), not dumpable;
2. import the runtime (pydantic...) while the parent verifies pins;
3. read the one :class:`~kavi_skills.protocol.RunRequest`: verified bytes, input, grants;
4. put the declared secrets (only those) into an environment built from nothing, and install
   the audit hook that turns a forbidden move into a clear error.

Then it imports the skill from the verified bytes, validates the input with the skill's
model, executes, validates the output, and sends one :class:`RunOutcome`. It never touches
the execution log or the redactor: the parent writes every record.

A :class:`~kavi_skills.protocol.DescribeRequest` instead (``kavi serve`` listing tools)
imports the skill the same way, with no secret and no capability, and answers with its
description and its models' JSON schemas: building a schema can run the skill's own code
(validators, schema hooks), so only a sandboxed child ever does it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

CONFINE_FAILED = 71
"""Exit code when the child could not confine itself (the parent reports it, never runs)."""


def _confine(memory_bytes: int | None) -> None:
    from kavi_sandbox.confine import confine_self
    from kavi_sandbox.errors import SandboxError

    try:
        confine_self(deny_sockets=True, deny_writes=True, memory_bytes=memory_bytes)
    except (SandboxError, OSError, ValueError) as err:
        sys.stderr.write(f"kavi-skill-child: cannot confine itself: {err}\n")
        sys.stderr.flush()
        os._exit(CONFINE_FAILED)


def run_request(request_data: object, fd: int) -> object:
    """Run the skill the request names; always return a RunOutcome (never raise)."""
    from pydantic import BaseModel, ValidationError

    from kavi_skills.base import SkillContext
    from kavi_skills.brokered import BrokerClient, BrokeredFiles, BrokeredHTTP, BrokeredLLM
    from kavi_skills.child_guard import (
        DeclaredSecrets,
        guard_environment,
        install_audit_hook,
    )
    from kavi_skills.child_loader import LoadFailure, load_skill_class
    from kavi_skills.protocol import RunOutcome, RunRequest
    from kavi_skills.validation import describe_validation

    request = RunRequest.model_validate(request_data)
    os.environ.pop("PWD", None)  # bubblewrap always sets it; the environment is ours to build
    os.environ.update(request.secrets)  # the declared secrets, and nothing else, are added
    guard_environment(request.skill_name, tuple(sorted(request.secrets)))
    install_audit_hook(request.skill_name, request.side_effect_class)
    try:
        cls = load_skill_class(request)
    except LoadFailure as err:
        return RunOutcome(ok=False, stage="load", error=str(err))
    broker = BrokerClient(fd)
    files = None
    if request.file_roots is not None:
        files = BrokeredFiles(broker, dict(request.file_roots))
    http = None
    if request.allowed_hosts is not None:
        http = BrokeredHTTP(broker, request.allowed_hosts)
    info = request.llm
    context = SkillContext(
        vault_dir=Path(request.vault_dir),
        files=files,
        http=http,
        llm=BrokeredLLM(broker, info.model, info.embed_model, info.where),
        secrets=DeclaredSecrets(request.skill_name, request.secrets),
    )
    raw = request.input
    if not isinstance(raw, Mapping):
        error = f"invalid input: expected a JSON object, got {type(raw).__name__}"
        return RunOutcome(ok=False, stage="input", error=error)
    try:
        data = cls.input_model.model_validate(dict(raw))
    except ValidationError as err:
        return RunOutcome(
            ok=False, stage="input", error=f"invalid input: {describe_validation(err)}"
        )
    input_json = data.model_dump(mode="json")
    try:
        result = cls(context).execute(data)
    except (Exception, SystemExit) as err:  # a skill's failure is data, not a crash
        return RunOutcome(
            ok=False, stage="skill", error=f"{type(err).__name__}: {err}", input=input_json
        )
    try:
        if isinstance(result, BaseModel) and not isinstance(result, cls.output_model):
            result = result.model_dump()
        output = cls.output_model.model_validate(result)
        output_json = output.model_dump(mode="json")
    except ValidationError as err:
        error = f"invalid output: {describe_validation(err)}"
        return RunOutcome(ok=False, stage="output", error=error, input=input_json)
    except Exception as err:  # a model whose validation itself crashes
        error = f"invalid output: {type(err).__name__}: {err}"
        return RunOutcome(ok=False, stage="output", error=error, input=input_json)
    return RunOutcome(ok=True, input=input_json, output=output_json)


MAX_SCHEMA_CHARS = 256 << 10
"""The largest JSON schema (serialised) a skill may describe for one of its models."""


def describe_request(request_data: object) -> object:
    """Describe the skill the request names; always return a Description (never raise)."""
    import json

    from kavi_skills.child_guard import guard_environment, install_audit_hook
    from kavi_skills.child_loader import LoadFailure, load_skill_class
    from kavi_skills.protocol import DescribeRequest, Description

    request = DescribeRequest.model_validate(request_data)
    os.environ.pop("PWD", None)
    guard_environment(request.skill_name, ())
    install_audit_hook(request.skill_name, request.side_effect_class)
    try:
        cls = load_skill_class(request)
    except LoadFailure as err:
        return Description(ok=False, error=str(err))
    try:
        description = cls.description
        if not isinstance(description, str):
            raise TypeError(f"description is a {type(description).__name__}, not a string")
        # The input as the skill validates it, the output as the runtime serialises it.
        schemas = {
            "input": cls.input_model.model_json_schema(mode="validation"),
            "output": cls.output_model.model_json_schema(mode="serialization"),
        }
        for which, schema in schemas.items():
            if len(json.dumps(schema)) > MAX_SCHEMA_CHARS:
                raise ValueError(f"the {which} schema exceeds {MAX_SCHEMA_CHARS} characters")
    except (Exception, SystemExit) as err:  # a model whose schema cannot be built
        return Description(ok=False, error=f"{request.skill_name}: {type(err).__name__}: {err}")
    return Description(
        ok=True,
        description=description,
        input_schema=schemas["input"],
        output_schema=schemas["output"],
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Serve one run request on the broker descriptor."""
    parser = argparse.ArgumentParser(prog="kavi_skills.sandbox_child")
    parser.add_argument("--broker-fd", type=int, required=True)
    parser.add_argument("--confine", action="store_true")
    parser.add_argument("--memory-mb", type=int)
    args = parser.parse_args(argv)
    memory = args.memory_mb << 20 if args.memory_mb else None
    if args.confine:
        _confine(memory)
    elif memory is not None:  # no sandbox: still the configured limit, applied here
        from kavi_sandbox.confine import limit_memory

        limit_memory(memory)
    import kavi_skills.base  # noqa: F401  (pydantic: imported while the parent verifies)
    from kavi_skills.protocol import Description, RunOutcome, read_frame, write_frame

    request = read_frame(args.broker_fd)
    describe = isinstance(request, dict) and request.get("t") == "describe"
    try:
        outcome = describe_request(request) if describe else run_request(request, args.broker_fd)
    except Exception as err:  # a malformed request or a bug of ours: still one answer
        error = f"{type(err).__name__}: {err}"
        outcome = (
            Description(ok=False, error=error)
            if describe
            else RunOutcome(ok=False, stage="load", error=error)
        )
    assert isinstance(outcome, Description | RunOutcome)
    write_frame(args.broker_fd, outcome)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
