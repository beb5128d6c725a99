"""Reading and inserting ledger rows; status changes live in ``kavi_ledger.states`` only."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from kavi_gates.models import GateResult, as_json
from kavi_ledger.db import write_transaction
from kavi_ledger.errors import LedgerError
from kavi_ledger.models import (
    Artifact,
    ArtifactKind,
    Build,
    Proposal,
    ProposalStatus,
    Verification,
    VerificationRun,
)


def new_id() -> str:
    """A fresh row id (uuid4, hex with dashes)."""
    return str(uuid.uuid4())


def now() -> str:
    """The current time as ISO 8601 UTC with microseconds (sorts as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def approver(explicit: str | None) -> str:
    """Who approves a trust change: ``explicit`` (``--by``), else git's ``user.email``."""
    if explicit:
        return explicit
    try:
        done = subprocess.run(
            ["git", "config", "user.email"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        done = None
    email = done.stdout.strip() if done is not None and done.returncode == 0 else ""
    if not email:
        raise LedgerError("no approver: set `git config user.email` or pass --by")
    return email


def _proposal(row: dict[str, Any]) -> Proposal:
    return Proposal(
        id=row["id"],
        name=row["name"],
        description=row["description"] or "",
        io_schema=json.loads(row["io_schema_json"] or "{}"),
        side_effect_class=row["side_effect_class"],
        required_secrets=tuple(json.loads(row["required_secrets_json"] or "[]")),
        status=ProposalStatus(row["status"]),
        created_at=row["created_at"],
    )


def insert_proposal(db: Database, proposal: Proposal) -> None:
    """Insert a proposal row (the caller holds the write transaction)."""
    db.table("skill_proposals").insert(
        {
            "id": proposal.id,
            "name": proposal.name,
            "description": proposal.description,
            "io_schema_json": json.dumps(proposal.io_schema, sort_keys=True),
            "side_effect_class": proposal.side_effect_class,
            "required_secrets_json": json.dumps(list(proposal.required_secrets)),
            "status": proposal.status.value,
            "created_at": proposal.created_at,
        }
    )


def read_proposal(db: Database, proposal_id: str) -> Proposal:
    """The proposal with this id; ``LedgerError`` if there is none."""
    rows = list(db.query("SELECT * FROM skill_proposals WHERE id = ?", [proposal_id]))
    if not rows:
        raise LedgerError(f"no proposal with id {proposal_id!r}")
    return _proposal(rows[0])


def get_proposal(db: Database, proposal_id: str) -> Proposal:
    """The proposal with this id; ``LedgerError`` if there is none."""
    return read_proposal(db, proposal_id)


def list_proposals(db: Database, status: ProposalStatus | None = None) -> tuple[Proposal, ...]:
    """Every proposal (optionally of one status), oldest first."""
    where, params = ("WHERE status = ?", [status.value]) if status else ("", [])
    sql = f"SELECT * FROM skill_proposals {where} ORDER BY created_at, id"
    return tuple(_proposal(row) for row in db.query(sql, params))


def read_build(db: Database, build_id: str) -> Build:
    """The build with this id; ``LedgerError`` if there is none."""
    rows = list(db.query("SELECT * FROM builds WHERE id = ?", [build_id]))
    if not rows:
        raise LedgerError(f"no build with id {build_id!r}")
    return Build.model_validate(rows[0])


def list_builds(db: Database, proposal_id: str) -> tuple[Build, ...]:
    """A proposal's build attempts in attempt order."""
    sql = "SELECT * FROM builds WHERE proposal_id = ? ORDER BY attempt_number"
    return tuple(Build.model_validate(row) for row in db.query(sql, [proposal_id]))


def insert_verification_rows(
    db: Database,
    proposal_id: str,
    build_id: str | None,
    results: Any,
    content_hashes: dict[str, str],
    policy_digest: str | None,
) -> VerificationRun:
    """Insert one row per result, all sharing a new run id (caller holds the transaction)."""
    run_id, created = new_id(), now()
    rows = tuple(
        Verification(
            id=new_id(),
            run_id=run_id,
            proposal_id=proposal_id,
            build_id=build_id,
            gate=result.gate,
            status=result.status,
            findings_json=json.dumps([as_json(f) for f in result.findings]),
            content_hashes=content_hashes,
            policy_digest=policy_digest,
            created_at=created,
        )
        for result in results
        if isinstance(result, GateResult)
    )
    hashes_json = json.dumps(content_hashes, sort_keys=True)
    db.table("verifications").insert_all(
        {
            **row.model_dump(mode="json", exclude={"content_hashes"}),
            "content_hashes_json": hashes_json,
        }
        for row in rows
    )
    return VerificationRun(
        run_id=run_id,
        proposal_id=proposal_id,
        build_id=build_id,
        results=rows,
        content_hashes=content_hashes,
        policy_digest=policy_digest,
        created_at=created,
    )


def latest_verification(db: Database, proposal_id: str) -> VerificationRun | None:
    """The most recent verify run of a proposal, or None if it was never verified."""
    head = db.execute(
        "SELECT run_id FROM verifications WHERE proposal_id = ? "
        "ORDER BY created_at DESC, rowid DESC LIMIT 1",
        [proposal_id],
    ).fetchone()
    if head is None:
        return None
    sql = "SELECT * FROM verifications WHERE run_id = ? ORDER BY rowid"
    rows = tuple(
        Verification.model_validate(
            {**row, "content_hashes": json.loads(row["content_hashes_json"] or "{}")}
        )
        for row in db.query(sql, [head[0]])
    )
    first = rows[0]
    return VerificationRun(
        run_id=first.run_id,
        proposal_id=proposal_id,
        build_id=first.build_id,
        results=rows,
        content_hashes=first.content_hashes,
        policy_digest=first.policy_digest,
        created_at=first.created_at,
    )


def record_artifact(
    db: Database,
    *,
    kind: ArtifactKind,
    path: str,
    sha256: str,
    related_id: str | None,
    artifact_id: str | None = None,
    created_at: str | None = None,
) -> Artifact:
    """Record an artifact file (path relative to the vault) with its sha256."""
    artifact = Artifact(
        id=artifact_id or new_id(),
        kind=kind,
        path=path,
        sha256=sha256,
        related_id=related_id,
        created_at=created_at or now(),
    )
    with write_transaction(db):
        db.table("artifacts").insert(artifact.model_dump(mode="json"))
    return artifact


def list_artifacts(db: Database, related_id: str | None = None) -> tuple[Artifact, ...]:
    """Recorded artifacts (optionally those about one proposal/build/run), oldest first."""
    where, params = ("WHERE related_id = ?", [related_id]) if related_id else ("", [])
    sql = f"SELECT * FROM artifacts {where} ORDER BY created_at, id"
    return tuple(Artifact.model_validate(row) for row in db.query(sql, params))


def record_sandbox_opt_outs(
    db: Database, runs: Sequence[tuple[str, str, str]], reason: str
) -> None:
    """Record executions ``(execution_id, skill_name, via)`` that ran without the OS sandbox."""
    rows = [
        {
            "id": new_id(),
            "execution_id": execution_id,
            "skill_name": skill_name,
            "via": via,
            "reason": reason,
            "created_at": now(),
        }
        for execution_id, skill_name, via in runs
    ]
    with write_transaction(db):
        db.table("sandbox_opt_outs").insert_all(rows)


def count_sandbox_opt_outs(db: Database) -> int:
    """How many executions the ledger records as run without the OS sandbox."""
    return int(db.execute("SELECT count(*) FROM sandbox_opt_outs").fetchone()[0])
