"""The forge: propose → build (sandbox) → verify → promote, orchestrating the engine's gates.

The forge's checks are ``kavi_gates.runner.run_gates`` plus the agent-suppressions check
(KAV901), then ruff, mypy and pytest through a substitutable ``ToolRunner``; the agent and
the tools run in the OS sandbox (``kavi_forge.isolation``); everything is recorded in the
ledger.
"""

from __future__ import annotations

from kavi_forge.build import BuildOutcome, build_proposal
from kavi_forge.checks import SubprocessToolRunner, ToolOutcome, ToolRunner
from kavi_forge.context import Forge
from kavi_forge.errors import (
    AgentConfigError,
    AgentNotInstalled,
    EscalationRequired,
    ForgeError,
    PromotionRefused,
    SandboxRefused,
    SecretsUnreadable,
)
from kavi_forge.isolation import Isolation
from kavi_forge.promote import Promoted, promote_path, promote_proposal
from kavi_forge.research import FailureKind, Research, Trigger
from kavi_forge.verify import Verified, verify_proposal

__all__ = [
    "AgentConfigError",
    "AgentNotInstalled",
    "BuildOutcome",
    "EscalationRequired",
    "FailureKind",
    "Forge",
    "ForgeError",
    "Isolation",
    "Promoted",
    "PromotionRefused",
    "Research",
    "SandboxRefused",
    "SecretsUnreadable",
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
