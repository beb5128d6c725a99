"""What a skill module declares, read statically (never imported), and how it binds to its
proposal: the code must be the skill that was proposed, with the class that was proposed."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from kavi_forge.errors import ForgeError
from kavi_gates.invariants import literal_strings, skill_classes
from kavi_gates.models import Finding, GateResult, Status
from kavi_ledger.models import Proposal

SPEC_GATE = "spec"


@dataclass(frozen=True)
class Declared:
    """The literal attributes of a skill class."""

    class_name: str
    name: str | None
    description: str | None
    side_effect_class: str | None
    required_secrets: tuple[str, ...]
    allowed_hosts: tuple[str, ...] = ()


def _literal(node: ast.expr | None) -> object:
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def declared(source: bytes, base_class: str, where: str) -> Declared:
    """The single skill class of ``source`` and its literal attributes."""
    try:
        tree = ast.parse(source, filename=where)
    except (SyntaxError, ValueError) as err:
        raise ForgeError(f"{where} does not parse: {err}") from None
    classes = skill_classes(tree, base_class)
    if len(classes) != 1:
        raise ForgeError(
            f"{where} must define exactly one {base_class} subclass (found {len(classes)})"
        )
    values: dict[str, ast.expr] = {}
    for stmt in classes[0].body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            if isinstance(stmt.targets[0], ast.Name):
                values[stmt.targets[0].id] = stmt.value
        elif (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and stmt.value is not None
        ):
            values[stmt.target.id] = stmt.value

    def text(attr: str) -> str | None:
        value = _literal(values.get(attr))
        return value if isinstance(value, str) else None

    secrets = _literal(values.get("required_secrets")) if "required_secrets" in values else ()
    if not (isinstance(secrets, tuple | list) and all(isinstance(s, str) for s in secrets)):
        raise ForgeError(f"{where}: required_secrets must be a literal tuple of names")
    hosts = literal_strings(values["allowed_hosts"]) if "allowed_hosts" in values else ()
    if hosts is None:  # recorded and signed at promotion: never computed at import time
        raise ForgeError(f"{where}: allowed_hosts must be a literal tuple of string literals")
    return Declared(
        classes[0].name,
        text("name"),
        text("description"),
        text("side_effect_class"),
        tuple(secrets),
        hosts,
    )


def read_declared(root: Path, rel: str, base_class: str) -> Declared:
    """``declared`` for the file ``rel`` under ``root`` (a missing file is a ForgeError)."""
    try:
        source = (root / rel).read_bytes()
    except OSError as err:
        raise ForgeError(f"cannot read {rel}: {err.strerror or err}") from None
    return declared(source, base_class, rel)


def spec_result(root: Path, rel: str, base_class: str, proposal: Proposal) -> GateResult:
    """Pass when the skill declares the proposal's name, class and (a subset of) its secrets."""
    problems: list[str] = []
    try:
        found = read_declared(root, rel, base_class)
    except ForgeError as err:
        problems.append(str(err))
    else:
        if found.name != proposal.name:
            problems.append(f"declares name {found.name!r}, the proposal is {proposal.name!r}")
        if found.side_effect_class != proposal.side_effect_class:
            problems.append(
                f"declares side_effect_class {found.side_effect_class!r}, the "
                f"proposal allows {proposal.side_effect_class!r}"
            )
        extra = sorted(set(found.required_secrets) - set(proposal.required_secrets))
        if extra:
            problems.append(f"wants secrets the proposal did not declare: {', '.join(extra)}")
    findings = tuple(
        Finding(gate=SPEC_GATE, rule="spec", path=rel, message=m).with_fingerprint()
        for m in problems
    )
    return GateResult(
        gate=SPEC_GATE,
        status=Status.FAIL if findings else Status.PASS,
        findings=findings,
        checked=(rel,),
    )
