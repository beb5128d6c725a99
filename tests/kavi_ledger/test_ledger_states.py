from __future__ import annotations

from typing import Any

import pytest
from sqlite_utils import Database

from kavi_gates.models import GateResult, Status
from kavi_ledger.errors import LedgerError, TransitionError, ValidationError
from kavi_ledger.models import BuildStatus, Proposal, ProposalStatus
from kavi_ledger.states import (
    create_proposal,
    get_proposal,
    latest_verification,
    list_builds,
    list_proposals,
    record_build_finish,
    record_build_start,
    record_promotion,
    record_verification,
    reject_proposal,
    revoke_trust,
)

HASHES = {"skills/write_note.py": "sha256:" + "a" * 64}
PASSING = [
    GateResult(gate="policy", status=Status.PASS),
    GateResult(gate="ruff", status=Status.PASS),
]
FAILING = [
    GateResult(gate="policy", status=Status.FAIL),
    GateResult(gate="ruff", status=Status.PASS),
]


def _propose(db: Database, **overrides: Any) -> Proposal:
    fields: dict[str, Any] = {
        "name": "write_note",
        "description": "Write a note",
        "io_schema": {"type": "object"},
        "side_effect_class": "FILE_WRITE",
    }
    fields.update(overrides)
    return create_proposal(db, **fields)


def _built(db: Database) -> Proposal:
    proposal = _propose(db)
    record_build_finish(db, record_build_start(db, proposal.id).id, succeeded=True)
    return get_proposal(db, proposal.id)


def _verified(db: Database) -> Proposal:
    proposal = _built(db)
    record_verification(db, proposal.id, PASSING, content_hashes=HASHES, policy_digest="sha256:p")
    return get_proposal(db, proposal.id)


def test_a_new_proposal_is_proposed_and_round_trips(ledger: Database) -> None:
    proposal = _propose(ledger, required_secrets=["API_KEY"])
    assert proposal.status is ProposalStatus.PROPOSED
    assert get_proposal(ledger, proposal.id) == proposal
    assert list_proposals(ledger) == (proposal,)


@pytest.mark.parametrize("name", ["class", "match", "1abc", "has-dash", "", "naïve"])
def test_a_skill_name_that_is_not_a_plain_identifier_is_refused(
    ledger: Database, name: str
) -> None:
    with pytest.raises(ValidationError):
        _propose(ledger, name=name)
    assert list_proposals(ledger) == ()


def test_an_unknown_side_effect_class_is_refused(ledger: Database) -> None:
    with pytest.raises(ValidationError, match="side-effect"):
        _propose(ledger, side_effect_class="WRITE_EVERYTHING")


def test_an_invalid_json_schema_is_refused(ledger: Database) -> None:
    with pytest.raises(ValidationError, match="JSON Schema"):
        _propose(ledger, io_schema={"type": 42})


def test_required_secrets_must_be_env_var_names(ledger: Database) -> None:
    with pytest.raises(ValidationError, match="environment variable"):
        _propose(ledger, required_secrets=["api key"])


def test_a_successful_build_makes_the_proposal_built(ledger: Database) -> None:
    assert _built(ledger).status is ProposalStatus.BUILT


def test_a_failed_build_leaves_the_proposal_proposed(ledger: Database) -> None:
    proposal = _propose(ledger)
    build = record_build_finish(ledger, record_build_start(ledger, proposal.id).id, succeeded=False)
    assert build.status is BuildStatus.FAILED
    assert get_proposal(ledger, proposal.id).status is ProposalStatus.PROPOSED


def test_build_attempts_are_numbered_and_linked_to_their_parent(ledger: Database) -> None:
    proposal = _propose(ledger)
    first = record_build_start(ledger, proposal.id)
    record_build_finish(ledger, first.id, succeeded=False)
    second = record_build_start(ledger, proposal.id, agent_command="agent --go")
    assert (second.attempt_number, second.parent_build_id) == (2, first.id)
    assert [b.id for b in list_builds(ledger, proposal.id)] == [first.id, second.id]


def test_a_build_cannot_finish_twice(ledger: Database) -> None:
    proposal = _propose(ledger)
    build = record_build_start(ledger, proposal.id)
    record_build_finish(ledger, build.id, succeeded=True)
    with pytest.raises(TransitionError, match="already finished"):
        record_build_finish(ledger, build.id, succeeded=True)


def test_no_verification_without_a_successful_build(ledger: Database) -> None:
    proposal = _propose(ledger)
    with pytest.raises(TransitionError, match="no successful build"):
        record_verification(ledger, proposal.id, PASSING, content_hashes=HASHES, policy_digest=None)
    assert get_proposal(ledger, proposal.id).status is ProposalStatus.PROPOSED


def test_a_passing_verification_records_one_row_per_result(ledger: Database) -> None:
    proposal = _verified(ledger)
    run = latest_verification(ledger, proposal.id)
    assert proposal.status is ProposalStatus.VERIFIED
    assert run is not None and run.passed
    assert [r.gate for r in run.results] == ["policy", "ruff"]
    assert run.content_hashes == HASHES and run.policy_digest == "sha256:p"
    assert ledger.table("verifications").count == 2


def test_a_failed_verification_of_a_built_proposal_keeps_it_built(ledger: Database) -> None:
    proposal = _built(ledger)
    record_verification(ledger, proposal.id, FAILING, content_hashes=HASHES, policy_digest=None)
    assert get_proposal(ledger, proposal.id).status is ProposalStatus.BUILT


def test_a_failed_reverification_moves_verified_back_to_built(ledger: Database) -> None:
    proposal = _verified(ledger)
    record_verification(ledger, proposal.id, FAILING, content_hashes=HASHES, policy_digest=None)
    assert get_proposal(ledger, proposal.id).status is ProposalStatus.BUILT


def test_an_all_skipped_verification_does_not_pass(ledger: Database) -> None:
    proposal = _built(ledger)
    skipped = [GateResult(gate="policy", status=Status.SKIP)]
    run = record_verification(ledger, proposal.id, skipped, content_hashes={}, policy_digest=None)
    assert not run.passed
    assert get_proposal(ledger, proposal.id).status is ProposalStatus.BUILT


def test_promotion_needs_a_verified_proposal(ledger: Database) -> None:
    proposal = _built(ledger)
    with pytest.raises(TransitionError):
        record_promotion(ledger, proposal.id, approved_by="a@example.com")


def test_promotion_records_who_approved_and_which_verification(ledger: Database) -> None:
    proposal = _verified(ledger)
    run = latest_verification(ledger, proposal.id)
    assert run is not None
    promotion = record_promotion(
        ledger,
        proposal.id,
        approved_by="a@example.com",
        verification_id=run.run_id,
        content_hashes=HASHES,
    )
    assert (promotion.from_status, promotion.to_status) == (
        ProposalStatus.VERIFIED,
        ProposalStatus.TRUSTED,
    )
    assert (promotion.approved_by, promotion.verification_id) == ("a@example.com", run.run_id)
    assert get_proposal(ledger, proposal.id).status is ProposalStatus.TRUSTED


def test_promotion_is_refused_when_the_files_changed_since_verification(ledger: Database) -> None:
    proposal = _verified(ledger)
    edited = {"skills/write_note.py": "sha256:" + "b" * 64}
    with pytest.raises(TransitionError, match="changed since"):
        record_promotion(ledger, proposal.id, approved_by="a@example.com", content_hashes=edited)
    assert get_proposal(ledger, proposal.id).status is ProposalStatus.VERIFIED


def test_promotion_without_any_approver_is_refused(
    ledger: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    proposal = _verified(ledger)
    monkeypatch.setattr("kavi_ledger.records.subprocess.run", _no_git)
    with pytest.raises(LedgerError, match=r"user\.email"):
        record_promotion(ledger, proposal.id)


def _no_git(*args: object, **kwargs: object) -> object:
    raise FileNotFoundError("git")


def test_a_failed_reverification_never_silently_demotes_trusted(ledger: Database) -> None:
    proposal = _verified(ledger)
    record_promotion(ledger, proposal.id, approved_by="a@example.com")
    run = record_verification(
        ledger, proposal.id, FAILING, content_hashes=HASHES, policy_digest=None
    )
    assert not run.passed
    assert latest_verification(ledger, proposal.id) == run
    assert get_proposal(ledger, proposal.id).status is ProposalStatus.TRUSTED


def test_trust_is_lowered_only_by_an_explicit_recorded_revocation(ledger: Database) -> None:
    proposal = _verified(ledger)
    record_promotion(ledger, proposal.id, approved_by="a@example.com")
    revocation = revoke_trust(ledger, proposal.id, approved_by="b@example.com")
    assert (revocation.from_status, revocation.to_status) == (
        ProposalStatus.TRUSTED,
        ProposalStatus.BUILT,
    )
    assert ledger.table("promotions").count == 2


def test_a_rejected_proposal_cannot_be_built(ledger: Database) -> None:
    proposal = _propose(ledger)
    reject_proposal(ledger, proposal.id, approved_by="a@example.com")
    with pytest.raises(TransitionError, match="REJECTED"):
        record_build_start(ledger, proposal.id)


def test_a_trusted_proposal_cannot_be_rejected(ledger: Database) -> None:
    proposal = _verified(ledger)
    record_promotion(ledger, proposal.id, approved_by="a@example.com")
    with pytest.raises(TransitionError, match="TRUSTED to REJECTED"):
        reject_proposal(ledger, proposal.id, approved_by="a@example.com")
