"""Frozen row models: what crosses the ledger's API (never loose dicts)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from kavi_gates.models import Status


class ProposalStatus(StrEnum):
    PROPOSED = "PROPOSED"
    REJECTED = "REJECTED"
    BUILT = "BUILT"
    VERIFIED = "VERIFIED"
    TRUSTED = "TRUSTED"


class BuildStatus(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class ArtifactKind(StrEnum):
    SKILL_SPEC = "SKILL_SPEC"
    BUILD_PACKET = "BUILD_PACKET"
    BUILD_LOG = "BUILD_LOG"
    VERIFICATION_REPORT = "VERIFICATION_REPORT"
    RESEARCH_NOTE = "RESEARCH_NOTE"
    PROMOTION = "PROMOTION"
    NOTE = "NOTE"


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class Proposal(_Row):
    id: str
    name: str
    description: str
    io_schema: dict[str, Any]
    side_effect_class: str
    required_secrets: tuple[str, ...]
    status: ProposalStatus
    created_at: str


class Build(_Row):
    id: str
    proposal_id: str
    attempt_number: int
    parent_build_id: str | None
    sandbox_path: str | None
    agent_command: str | None
    started_at: str
    finished_at: str | None
    status: BuildStatus
    summary: str | None


class Verification(_Row):
    """One gate's or check's result within a verify run."""

    id: str
    run_id: str
    proposal_id: str
    build_id: str | None
    gate: str
    status: Status
    findings_json: str
    content_hashes: dict[str, str]
    policy_digest: str | None
    created_at: str


class VerificationRun(_Row):
    """All rows of one verify run; ``run_id`` is what a promotion cites."""

    run_id: str
    proposal_id: str
    build_id: str | None
    results: tuple[Verification, ...]
    content_hashes: dict[str, str]
    policy_digest: str | None
    created_at: str

    @property
    def passed(self) -> bool:
        """Fail closed: at least one result passed and none failed or errored."""
        statuses = {r.status for r in self.results}
        return Status.PASS in statuses and not statuses & {Status.FAIL, Status.ERROR}


class Promotion(_Row):
    id: str
    proposal_id: str
    from_status: ProposalStatus
    to_status: ProposalStatus
    approved_by: str
    verification_id: str | None
    created_at: str


class Artifact(_Row):
    id: str
    kind: ArtifactKind
    path: str  # relative to the vault directory, POSIX separators
    sha256: str
    related_id: str | None
    created_at: str

    @property
    def note_name(self) -> str:
        """The name Obsidian resolves a ``[[wiki-link]]`` by (file name without ``.md``)."""
        return self.path.rsplit("/", 1)[-1].removesuffix(".md")
