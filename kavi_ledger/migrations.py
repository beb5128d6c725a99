"""The ledger schema, one sqlite-utils migration per step; never edit an applied one, add one."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATION_SET = "kavi_ledger"
migrations = Migrations(MIGRATION_SET)


@migrations(name="m001_skill_proposals")
def m001_skill_proposals(db: Database) -> None:
    """What an agent (or a person) asked to be built."""
    db.table("skill_proposals").create(
        {
            "id": str,
            "name": str,
            "description": str,
            "io_schema_json": str,
            "side_effect_class": str,
            "required_secrets_json": str,
            "status": str,
            "created_at": str,
        },
        pk="id",
        not_null={"name", "status", "created_at"},
    )
    db.table("skill_proposals").create_index(["name"])


@migrations(name="m002_builds")
def m002_builds(db: Database) -> None:
    """Build attempts; ``parent_build_id`` links a retry to the attempt it follows."""
    db.table("builds").create(
        {
            "id": str,
            "proposal_id": str,
            "attempt_number": int,
            "parent_build_id": str,
            "sandbox_path": str,
            "agent_command": str,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "summary": str,
        },
        pk="id",
        not_null={"proposal_id", "attempt_number", "status", "started_at"},
        foreign_keys=[
            ("proposal_id", "skill_proposals", "id"),
            ("parent_build_id", "builds", "id"),
        ],
    )
    db.table("builds").create_index(["proposal_id", "attempt_number"], unique=True)


@migrations(name="m003_verifications")
def m003_verifications(db: Database) -> None:
    """One row per gate or check result; rows of one verify run share ``run_id``."""
    db.table("verifications").create(
        {
            "id": str,
            "run_id": str,
            "proposal_id": str,
            "build_id": str,
            "gate": str,
            "status": str,
            "findings_json": str,
            "content_hashes_json": str,
            "policy_digest": str,
            "created_at": str,
        },
        pk="id",
        not_null={"run_id", "proposal_id", "gate", "status", "created_at"},
        foreign_keys=[("proposal_id", "skill_proposals", "id"), ("build_id", "builds", "id")],
    )
    db.table("verifications").create_index(["proposal_id", "created_at"])
    db.table("verifications").create_index(["run_id"])


@migrations(name="m004_promotions")
def m004_promotions(db: Database) -> None:
    """Every trust change: who approved it, from which status to which, on which verification."""
    db.table("promotions").create(
        {
            "id": str,
            "proposal_id": str,
            "from_status": str,
            "to_status": str,
            "approved_by": str,
            "verification_id": str,
            "created_at": str,
        },
        pk="id",
        not_null={"proposal_id", "from_status", "to_status", "approved_by", "created_at"},
        foreign_keys=[("proposal_id", "skill_proposals", "id")],
    )


@migrations(name="m005_artifacts")
def m005_artifacts(db: Database) -> None:
    """Content-addressed markdown notes in the vault, keyed by their sha256."""
    db.table("artifacts").create(
        {
            "id": str,
            "kind": str,
            "path": str,
            "sha256": str,
            "related_id": str,
            "created_at": str,
        },
        pk="id",
        not_null={"kind", "path", "sha256", "created_at"},
    )
    db.table("artifacts").create_index(["related_id"])
    db.table("artifacts").create_index(["sha256"])


@migrations(name="m006_sandbox_opt_outs")
def m006_sandbox_opt_outs(db: Database) -> None:
    """Every skill execution that ran without the OS sandbox (the explicit opt-out)."""
    db.table("sandbox_opt_outs").create(
        {
            "id": str,
            "execution_id": str,
            "skill_name": str,
            "via": str,
            "reason": str,
            "created_at": str,
        },
        pk="id",
        not_null={"execution_id", "skill_name", "via", "reason", "created_at"},
    )


MIGRATION_NAMES: tuple[str, ...] = tuple(m.name for m in migrations._migrations)
SCHEMA_VERSION = len(MIGRATION_NAMES)
