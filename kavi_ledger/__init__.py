"""The Kavi ledger: SQLite audit trail, XDG storage, artifacts, backups, doctor and reset."""

from __future__ import annotations

from kavi_ledger.db import open_ledger
from kavi_ledger.errors import LedgerError, SchemaTooNewError, TransitionError, ValidationError
from kavi_ledger.models import (
    Artifact,
    ArtifactKind,
    Build,
    BuildStatus,
    Promotion,
    Proposal,
    ProposalStatus,
    Verification,
    VerificationRun,
)
from kavi_ledger.paths import KaviPaths, resolve_paths

__all__ = [
    "Artifact",
    "ArtifactKind",
    "Build",
    "BuildStatus",
    "KaviPaths",
    "LedgerError",
    "Promotion",
    "Proposal",
    "ProposalStatus",
    "SchemaTooNewError",
    "TransitionError",
    "ValidationError",
    "Verification",
    "VerificationRun",
    "open_ledger",
    "resolve_paths",
]
