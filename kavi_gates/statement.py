"""The in-toto Statement v1 a promotion signs, and how it binds to a registry entry.

Subjects are every pinned file (``name`` = its path from the project root, ``digest`` =
``{"sha256": hex}``); the predicate (type :data:`PREDICATE_TYPE`) is what the approver
agreed to: the skill, its class and declared side-effect class, secrets and network hosts,
the suppressions in the pinned code, the policy digest, the verification with each check's
result, who approved and when. A registry entry is trusted only if it says exactly what a
signed statement says (:func:`entry_mismatches`).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kavi_gates.dsse import EnvelopeError, strict_json
from kavi_gates.registry import RegistryEntry

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
PREDICATE_TYPE = "https://kavi.dev/attestation/promotion/v1"


class StatementError(EnvelopeError):
    """A payload that is not a Kavi promotion statement."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class CheckResult(_Model):
    """One gate's or tool's verdict in the verification the promotion cites."""

    check: str
    status: str
    findings: int = 0


class Verification(_Model):
    """The verification run (ledger id) and each check's result."""

    id: str
    results: tuple[CheckResult, ...] = ()


class Suppression(_Model):
    """A ``# kavi: allow[...]`` comment in the pinned code, shown to and signed by the approver."""

    path: str
    line: int
    rules: tuple[str, ...]
    reason: str


class PromotionPredicate(_Model):
    """What the approver signed for, beyond the subjects' bytes."""

    skill: str
    path: str
    class_: str = Field(alias="class")
    side_effect_class: str = Field(alias="sideEffectClass")
    required_secrets: tuple[str, ...] = Field(alias="requiredSecrets")
    allowed_hosts: tuple[str, ...] = Field(alias="allowedHosts")
    suppressions: tuple[Suppression, ...]
    policy_digest: str = Field(alias="policyDigest")
    verification: Verification
    approver: str
    time: str


class Subject(BaseModel):
    """An in-toto ResourceDescriptor; other fields are ignored, as the spec asks consumers."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    digest: dict[str, str]

    @field_validator("digest")
    @classmethod
    def _has_sha256(cls, value: dict[str, str]) -> dict[str, str]:
        digest = value.get("sha256", "")
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError("digest must hold a lowercase hex 'sha256'")
        return value


class Statement(BaseModel):
    """An in-toto Statement v1 whose predicate is a Kavi promotion."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    type_: str = Field(alias="_type")
    subject: tuple[Subject, ...]
    predicate_type: str = Field(alias="predicateType")
    predicate: PromotionPredicate

    @property
    def pins(self) -> dict[str, str]:
        """The subjects as registry pins: path → ``sha256:<hex>``."""
        return {s.name: "sha256:" + s.digest["sha256"] for s in self.subject}

    def to_payload(self) -> bytes:
        """The serialized body (sorted keys, compact, ASCII): what the envelope carries."""
        data = self.model_dump(mode="json", by_alias=True)
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode("ascii")


def approver_hint(payload: bytes) -> str:
    """The approver a payload names, read before its signature is checked: only used to pick
    whose keys in the allowed signers the signature must match (a wrong hint fails)."""
    data = strict_json(payload, "statement")
    predicate = data.get("predicate") if isinstance(data, dict) else None
    approver = predicate.get("approver") if isinstance(predicate, dict) else None
    if not isinstance(approver, str) or not approver:
        raise StatementError("statement names no approver")
    return approver


def parse_statement(payload: bytes) -> Statement:
    """The statement of a (verified) payload; ``StatementError`` names what is wrong."""
    data: Any = strict_json(payload, "statement")
    if not isinstance(data, dict):
        raise StatementError("statement is not a JSON object")
    if data.get("_type") != STATEMENT_TYPE:
        raise StatementError(f"statement _type is {data.get('_type')!r}, not {STATEMENT_TYPE}")
    if data.get("predicateType") != PREDICATE_TYPE:
        raise StatementError(
            f"predicateType is {data.get('predicateType')!r}, not {PREDICATE_TYPE}"
        )
    try:
        statement = Statement.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "<root>"
        raise StatementError(f"statement field '{where}': {first['msg']}") from None
    names = [s.name for s in statement.subject]
    if len(set(names)) != len(names):
        raise StatementError("statement names a subject twice")
    return statement


def statement_for(
    name: str,
    entry: RegistryEntry,
    *,
    results: tuple[CheckResult, ...],
    suppressions: tuple[Suppression, ...],
) -> Statement:
    """The statement a promotion signs for a complete registry entry (provenance filled in)."""
    missing = [
        field
        for field in ("policy_digest", "verification", "promoted_by", "promoted_at")
        if getattr(entry, field) is None
    ]
    if missing or not entry.pins:
        raise StatementError(
            f"cannot attest {name}: the entry lacks {', '.join(missing) or 'pins'}"
        )
    predicate = PromotionPredicate.model_validate(
        {
            "skill": name,
            "path": entry.path,
            "class": entry.class_,
            "sideEffectClass": entry.side_effect_class,
            "requiredSecrets": entry.required_secrets,
            "allowedHosts": entry.allowed_hosts,
            "suppressions": suppressions,
            "policyDigest": entry.policy_digest,
            "verification": {"id": str(entry.verification), "results": results},
            "approver": entry.promoted_by,
            "time": entry.promoted_at,
        }
    )
    subjects = [
        Subject(name=path, digest={"sha256": digest.removeprefix("sha256:")})
        for path, digest in sorted(entry.pins.items())
    ]
    return Statement.model_validate(
        {
            "_type": STATEMENT_TYPE,
            "subject": subjects,
            "predicateType": PREDICATE_TYPE,
            "predicate": predicate,
        }
    )


def _pin_differences(registry: dict[str, str], attested: dict[str, str]) -> list[str]:
    problems: list[str] = []
    for path in sorted(registry.keys() | attested.keys()):
        if path not in attested:
            problems.append(f"{path} is pinned but not attested")
        elif path not in registry:
            problems.append(f"{path} is attested but not pinned")
        elif registry[path] != attested[path]:
            problems.append(f"{path} is pinned as {registry[path]}, attested as {attested[path]}")
    return problems


def entry_mismatches(name: str, entry: RegistryEntry, statement: Statement) -> dict[str, list[str]]:
    """How a registry entry differs from a signed statement, by kind: ``skill`` (a statement
    for another skill), ``pins`` (subjects) and ``fields`` (everything else the entry says)."""
    predicate = statement.predicate
    found: dict[str, list[str]] = {}
    if predicate.skill != name:
        found["skill"] = [f"the attestation is for skill {predicate.skill!r}, not {name!r}"]
    pins = _pin_differences(entry.pins, statement.pins)
    if pins:
        found["pins"] = pins
    compared: tuple[tuple[str, object, object], ...] = (
        ("path", entry.path, predicate.path),
        ("class", entry.class_, predicate.class_),
        ("side_effect_class", entry.side_effect_class, predicate.side_effect_class),
        ("required_secrets", list(entry.required_secrets), list(predicate.required_secrets)),
        ("allowed_hosts", list(entry.allowed_hosts), list(predicate.allowed_hosts)),
        ("policy_digest", entry.policy_digest, predicate.policy_digest),
        (
            "verification",
            None if entry.verification is None else str(entry.verification),
            predicate.verification.id,
        ),
        ("promoted_by", entry.promoted_by, predicate.approver),
        ("promoted_at", entry.promoted_at, predicate.time),
    )
    fields = [
        f"{key} is {mine!r} in the registry, {signed!r} in the attestation"
        for key, mine, signed in compared
        if mine != signed
    ]
    if fields:
        found["fields"] = fields
    return found
