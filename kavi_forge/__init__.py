"""The forge: propose → build (sandbox) → verify → promote, orchestrating the engine's gates.

The forge adds no gate of its own: every check is ``kavi_gates.runner.run_gates`` plus ruff,
mypy and pytest through a substitutable ``ToolRunner``; everything is recorded in the ledger.
"""

from __future__ import annotations

from kavi_forge.build import BuildOutcome, build_proposal
from kavi_forge.checks import SubprocessToolRunner, ToolOutcome, ToolRunner
from kavi_forge.context import Forge
from kavi_forge.errors import (
    AgentNotInstalled,
    EscalationRequired,
    ForgeError,
    PromotionRefused,
)
from kavi_forge.promote import Promoted, promote_path, promote_proposal
from kavi_forge.research import FailureKind, Research, Trigger
from kavi_forge.verify import Verified, verify_proposal

__all__ = [
    "AgentNotInstalled",
    "BuildOutcome",
    "EscalationRequired",
    "FailureKind",
    "Forge",
    "ForgeError",
    "Promoted",
    "PromotionRefused",
    "Research",
    "SubprocessToolRunner",
    "ToolOutcome",
    "ToolRunner",
    "Trigger",
    "Verified",
    "build_proposal",
    "promote_path",
    "promote_proposal",
    "verify_proposal",
]
