"""The proposal lifecycle: the ONE place ledger status transitions are decided and written.

PROPOSED → BUILT → VERIFIED → TRUSTED, and REJECTED from any state before TRUSTED.

- A successful build moves PROPOSED/BUILT/VERIFIED to BUILT: new bytes void the old verdict.
  A failed build changes nothing. REJECTED and TRUSTED proposals are not rebuilt (change a
  trusted skill through a new proposal).
- VERIFIED needs a successful build; the verification cites it.
- A failed verification of a BUILT proposal keeps it BUILT; of a VERIFIED one moves it back
  to BUILT, because VERIFIED claims the *latest* verification passed.
- A re-verification never demotes TRUSTED: the failing rows are recorded (and
  ``latest_verification`` shows them), but only ``revoke_trust`` lowers trust, and it writes
  a promotions row naming who did it.
- Promotion needs VERIFIED, and the latest verification run must pass and, when the caller
  gives current content hashes, cover exactly those bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlite_utils import Database

from kavi_gates.models import GateResult
from kavi_ledger.db import write_transaction
from kavi_ledger.errors import LedgerError, TransitionError
from kavi_ledger.models import (
    Build,
    BuildStatus,
    Promotion,
    Proposal,
    ProposalStatus,
    VerificationRun,
)
from kavi_ledger.records import (
    approver,
    get_proposal,
    insert_proposal,
    insert_verification_rows,
    latest_verification,
    list_builds,
    list_proposals,
    new_id,
    now,
    read_build,
    read_proposal,
    record_artifact,
)
from kavi_ledger.validation import (
    validate_io_schema,
    validate_required_secrets,
    validate_side_effect,
    validate_skill_name,
)

P = ProposalStatus
ALLOWED: Mapping[ProposalStatus, frozenset[ProposalStatus]] = {
    P.PROPOSED: frozenset({P.BUILT, P.REJECTED}),
    P.BUILT: frozenset({P.BUILT, P.VERIFIED, P.REJECTED}),
    P.VERIFIED: frozenset({P.BUILT, P.VERIFIED, P.TRUSTED, P.REJECTED}),
    P.TRUSTED: frozenset({P.TRUSTED, P.BUILT}),
    P.REJECTED: frozenset(),
}


def _transition(db: Database, proposal: Proposal, to: ProposalStatus) -> Proposal:
    if to not in ALLOWED[proposal.status]:
        raise TransitionError(
            f"proposal {proposal.id} cannot go from {proposal.status.value} to {to.value}"
        )
    if to is not proposal.status:
        db.execute(
            "UPDATE skill_proposals SET status = ? WHERE id = ? AND status = ?",
            [to.value, proposal.id, proposal.status.value],
        )
    return proposal.model_copy(update={"status": to})


def create_proposal(
    db: Database,
    *,
    name: str,
    description: str,
    io_schema: Mapping[str, Any],
    side_effect_class: str,
    required_secrets: Sequence[str] = (),
) -> Proposal:
    """Validate every field and record a new PROPOSED skill proposal."""
    proposal = Proposal(
        id=new_id(),
        name=validate_skill_name(name),
        description=description,
        io_schema=validate_io_schema(dict(io_schema)),
        side_effect_class=validate_side_effect(side_effect_class),
        required_secrets=validate_required_secrets(list(required_secrets)),
        status=ProposalStatus.PROPOSED,
        created_at=now(),
    )
    with write_transaction(db):
        insert_proposal(db, proposal)
    return proposal


def record_build_start(
    db: Database,
    proposal_id: str,
    *,
    sandbox_path: str | None = None,
    agent_command: str | None = None,
    parent_build_id: str | None = None,
) -> Build:
    """Start a build attempt; the parent defaults to the proposal's previous attempt."""
    with write_transaction(db):
        proposal = read_proposal(db, proposal_id)
        if proposal.status in (P.REJECTED, P.TRUSTED):
            raise TransitionError(f"proposal {proposal_id} is {proposal.status.value}; not rebuilt")
        last = db.execute(
            "SELECT id, attempt_number FROM builds WHERE proposal_id = ? "
            "ORDER BY attempt_number DESC LIMIT 1",
            [proposal_id],
        ).fetchone()
        parent = read_build(db, parent_build_id) if parent_build_id else None
        if parent is not None and parent.proposal_id != proposal_id:
            raise LedgerError(f"build {parent_build_id} belongs to another proposal")
        build = Build(
            id=new_id(),
            proposal_id=proposal_id,
            attempt_number=(last[1] + 1) if last else 1,
            parent_build_id=parent_build_id or (last[0] if last else None),
            sandbox_path=sandbox_path,
            agent_command=agent_command,
            started_at=now(),
            finished_at=None,
            status=BuildStatus.RUNNING,
            summary=None,
        )
        db.table("builds").insert(build.model_dump(mode="json"))
    return build


def record_build_finish(
    db: Database, build_id: str, *, succeeded: bool, summary: str | None = None
) -> Build:
    """Finish a running build; success moves the proposal to BUILT."""
    with write_transaction(db):
        build = read_build(db, build_id)
        if build.status is not BuildStatus.RUNNING:
            raise TransitionError(f"build {build_id} already finished ({build.status.value})")
        proposal = read_proposal(db, build.proposal_id)
        status = BuildStatus.SUCCEEDED if succeeded else BuildStatus.FAILED
        if succeeded:
            _transition(db, proposal, P.BUILT)
        finished = build.model_copy(
            update={"status": status, "finished_at": now(), "summary": summary}
        )
        db.execute(
            "UPDATE builds SET status = ?, finished_at = ?, summary = ? WHERE id = ?",
            [status.value, finished.finished_at, summary, build_id],
        )
    return finished


def record_verification(
    db: Database,
    proposal_id: str,
    results: Sequence[GateResult],
    *,
    content_hashes: Mapping[str, str],
    policy_digest: str | None,
    build_id: str | None = None,
) -> VerificationRun:
    """Record one verify run (a row per gate/check result) and apply its verdict."""
    if not results:
        raise LedgerError("a verification needs at least one gate or check result")
    with write_transaction(db):
        proposal = read_proposal(db, proposal_id)
        if proposal.status is P.REJECTED:
            raise TransitionError(f"proposal {proposal_id} is REJECTED")
        if build_id is None:
            row = db.execute(
                "SELECT id FROM builds WHERE proposal_id = ? AND status = ? "
                "ORDER BY attempt_number DESC LIMIT 1",
                [proposal_id, BuildStatus.SUCCEEDED.value],
            ).fetchone()
            if row is None:
                raise TransitionError(f"proposal {proposal_id} has no successful build to verify")
            build_id = row[0]
        build = read_build(db, build_id)
        if build.proposal_id != proposal_id or build.status is not BuildStatus.SUCCEEDED:
            raise TransitionError(f"build {build_id} is not a successful build of {proposal_id}")
        run = insert_verification_rows(
            db, proposal_id, build_id, results, dict(content_hashes), policy_digest
        )
        if proposal.status is not P.TRUSTED:  # never a silent demotion of trust
            _transition(db, proposal, P.VERIFIED if run.passed else P.BUILT)
    return run


def record_promotion(
    db: Database,
    proposal_id: str,
    *,
    verification_id: str | None = None,
    approved_by: str | None = None,
    content_hashes: Mapping[str, str] | None = None,
) -> Promotion:
    """Promote VERIFIED → TRUSTED on the latest, passing verification of these exact bytes."""
    who = approver(approved_by)
    with write_transaction(db):
        proposal = read_proposal(db, proposal_id)
        run = latest_verification(db, proposal_id)
        if run is None or not run.passed:
            raise TransitionError(f"proposal {proposal_id}: the latest verification did not pass")
        if verification_id is not None and verification_id != run.run_id:
            raise TransitionError(f"verification {verification_id} is not the latest one")
        if content_hashes is not None and dict(content_hashes) != run.content_hashes:
            raise TransitionError("the files changed since they were verified; verify again")
        _transition(db, proposal, P.TRUSTED)
        return _record_change(db, proposal, P.TRUSTED, who, run.run_id)


def revoke_trust(db: Database, proposal_id: str, *, approved_by: str | None = None) -> Promotion:
    """Explicitly demote TRUSTED → BUILT, recording who did it."""
    who = approver(approved_by)
    with write_transaction(db):
        proposal = read_proposal(db, proposal_id)
        if proposal.status is not P.TRUSTED:
            raise TransitionError(f"proposal {proposal_id} is not TRUSTED")
        _transition(db, proposal, P.BUILT)
        return _record_change(db, proposal, P.BUILT, who, None)


def reject_proposal(db: Database, proposal_id: str, *, approved_by: str | None = None) -> Promotion:
    """Reject a proposal that is not yet trusted (REJECTED is final)."""
    who = approver(approved_by)
    with write_transaction(db):
        proposal = read_proposal(db, proposal_id)
        _transition(db, proposal, P.REJECTED)
        return _record_change(db, proposal, P.REJECTED, who, None)


def _record_change(
    db: Database, proposal: Proposal, to: ProposalStatus, who: str, run_id: str | None
) -> Promotion:
    promotion = Promotion(
        id=new_id(),
        proposal_id=proposal.id,
        from_status=proposal.status,
        to_status=to,
        approved_by=who,
        verification_id=run_id,
        created_at=now(),
    )
    db.table("promotions").insert(promotion.model_dump(mode="json"))
    return promotion


__all__ = [
    "ALLOWED",
    "create_proposal",
    "get_proposal",
    "latest_verification",
    "list_builds",
    "list_proposals",
    "record_artifact",
    "record_build_finish",
    "record_build_start",
    "record_promotion",
    "record_verification",
    "reject_proposal",
    "revoke_trust",
]
