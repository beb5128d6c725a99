"""Research and retry: classify a failure, raise escalation triggers, write a RESEARCH_NOTE.

The note's body carries a JSON block (kind, facts, triggers); the next build's packet
includes the note, and a retry after a note with triggers needs ``--yes``. The note is a
content-addressed artifact recorded in the ledger, so the triggers are stored there too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field
from sqlite_utils import Database

from kavi_gates.codes.invariants import UNDECLARED_SIDE_EFFECT
from kavi_gates.errors import KaviError
from kavi_gates.models import GateResult, Status
from kavi_ledger.artifacts import verify_artifact, write_note
from kavi_ledger.models import Artifact, ArtifactKind, Proposal
from kavi_ledger.records import list_artifacts

CONFIG_FILES = (
    "kavi.yaml",
    "pyproject.toml",
    "setup.cfg",
    ".pre-commit-config.yaml",
    "conftest.py",
    ".github/",
    "skills/registry.yaml",
)
# Advice that reaches for one of these asks for more than the proposal was granted.
ESCALATING_WORDS = {
    "NETWORK": ("network access", "http request", "socket", "urllib", "requests."),
    "SECRET_READ": ("secret", "api key", "token", "password"),
    "MONEY": ("payment", "charge the"),
    "MESSAGING": ("send an email", "send a message", "sms"),
}
_JSON_BLOCK = re.compile(r"```json\n(.*?)\n```", re.DOTALL)

if TYPE_CHECKING:  # openai costs a second to import; only advice needs it
    from kavi_skills.llm import LLMClient


class FailureKind(StrEnum):
    GATE_VIOLATION = "GATE_VIOLATION"
    TIMEOUT = "TIMEOUT"
    BUILD_ERROR = "BUILD_ERROR"
    VERIFY_LINT = "VERIFY_LINT"
    VERIFY_TEST = "VERIFY_TEST"
    VERIFY_POLICY = "VERIFY_POLICY"
    VERIFY_INVARIANT = "VERIFY_INVARIANT"
    UNKNOWN = "UNKNOWN"


class Trigger(StrEnum):
    REPEATED_FAILURE = "REPEATED_FAILURE"
    PERMISSION_WIDENING = "PERMISSION_WIDENING"
    SECURITY_CLASS = "SECURITY_CLASS"
    LARGE_DIFF = "LARGE_DIFF"


class Advice(BaseModel):
    """What the LLM is asked for: a diagnosis and concrete fixes."""

    diagnosis: str
    fixes: list[str] = Field(default_factory=list)


class Research(BaseModel):
    """The machine-readable part of a RESEARCH_NOTE."""

    model_config = ConfigDict(frozen=True)

    stage: str  # "build" or "verify"
    kind: FailureKind
    facts: tuple[str, ...]
    triggers: tuple[Trigger, ...]
    advice: str
    consecutive_failures: int


# Checked in this order: the first failing class decides the kind.
_BY_GATE = (
    ("diff-allowlist", FailureKind.GATE_VIOLATION),
    ("agent-suppressions", FailureKind.VERIFY_POLICY),
    ("policy", FailureKind.VERIFY_POLICY),
    ("invariants", FailureKind.VERIFY_INVARIANT),
    ("spec", FailureKind.VERIFY_INVARIANT),
    ("ruff", FailureKind.VERIFY_LINT),
    ("mypy", FailureKind.VERIFY_LINT),
    ("pytest", FailureKind.VERIFY_TEST),
)


def classify(results: Sequence[GateResult]) -> FailureKind:
    """The failure class of a red check run (UNKNOWN when nothing explains it)."""
    failed = {r.gate for r in results if r.status is Status.FAIL}
    for gate, kind in _BY_GATE:
        if gate in failed:
            return kind
    return FailureKind.UNKNOWN


def facts(results: Sequence[GateResult], limit: int = 12) -> tuple[str, ...]:
    """One line per failing finding (bounded): gate, rule, place, message."""
    lines: list[str] = []
    for result in results:
        if not result.failed:
            continue
        if result.error and not result.findings:
            lines.append(f"{result.gate}: error: {result.error}")
        for f in result.findings:
            message = f.message if len(f.message) < 600 else f.message[-600:]
            lines.append(f"{result.gate} {','.join(f.rules)} {f.path}:{f.line}: {message}")
    return tuple(lines[:limit])


def triggers(
    kind: FailureKind,
    results: Sequence[GateResult],
    proposal: Proposal,
    *,
    consecutive: int,
    limit: int,
    diff_lines: int,
    max_diff_lines: int,
    advice: str = "",
) -> tuple[Trigger, ...]:
    """The escalation triggers this failure raises (each needs a human before a retry)."""
    found: list[Trigger] = []
    if consecutive >= limit:
        found.append(Trigger.REPEATED_FAILURE)
    touched = {f.path for r in results if r.gate == "diff-allowlist" for f in r.findings}
    widening = any(p.startswith(CONFIG_FILES) or p.endswith(CONFIG_FILES) for p in touched)
    widening |= any(UNDECLARED_SIDE_EFFECT.id in f.rules for r in results for f in r.findings)
    widening |= any(r.gate == "spec" and r.failed for r in results)
    lowered = advice.lower()
    for side, words in ESCALATING_WORDS.items():
        if side != proposal.side_effect_class and any(w in lowered for w in words):
            widening = True
    if widening:
        found.append(Trigger.PERMISSION_WIDENING)
    if kind in (FailureKind.VERIFY_POLICY, FailureKind.VERIFY_INVARIANT):
        found.append(Trigger.SECURITY_CLASS)
    if diff_lines > max_diff_lines:
        found.append(Trigger.LARGE_DIFF)
    return tuple(found)


def ask_advice(
    client: LLMClient | None, kind: FailureKind, lines: Sequence[str], proposal: Proposal
) -> tuple[str, bool]:
    """Optional LLM advice and whether the endpoint gave it (a fixed fallback otherwise)."""
    if client is None:
        return "LLM advice disabled (forge.advice: false); deterministic analysis only.", False
    prompt = (
        f"A coding agent's attempt to build the Python skill {proposal.name!r} "
        f"({proposal.description}) failed with {kind.value}. Findings:\n"
        + "\n".join(lines)
        + "\nDiagnose the cause and list concrete fixes."
    )
    try:
        answer = Advice.model_validate(client.chat_json(prompt, Advice))
    except KaviError as err:
        return f"LLM advice unavailable ({err}); deterministic analysis only.", False
    return answer.diagnosis + "".join(f"\n- {fix}" for fix in answer.fixes), True


def note_artifacts(db: Database, proposal_id: str) -> list[Artifact]:
    """The proposal's RESEARCH_NOTE artifacts, oldest first."""
    return [a for a in list_artifacts(db, proposal_id) if a.kind is ArtifactKind.RESEARCH_NOTE]


def write_research(
    db: Database, vault: Path, proposal: Proposal, research: Research, related: str
) -> Artifact:
    """Write the RESEARCH_NOTE (human text + a JSON block) about the proposal."""
    payload = json.dumps(research.model_dump(mode="json"), indent=2, sort_keys=True)
    body = (
        f"- proposal: `{proposal.id}` ({proposal.name})\n- {research.stage} of `{related}` "
        f"failed: **{research.kind.value}**\n- escalation triggers: "
        f"{', '.join(research.triggers) or 'none'}\n\n## Facts\n\n"
        + "".join(f"- {line}\n" for line in research.facts)
        + f"\n## Advice\n\n{research.advice}\n\n## Data\n\n```json\n{payload}\n```\n"
    )
    return write_note(
        db,
        vault,
        kind=ArtifactKind.RESEARCH_NOTE,
        title=f"Research {proposal.name} {research.kind.value}",
        body=body,
        related_id=proposal.id,
    )


def read_research(vault: Path, artifact: Artifact) -> tuple[Research, str]:
    """The research data and full text of a note; a tampered note counts as escalated."""
    path = vault / artifact.path
    if not verify_artifact(vault, artifact):
        tampered = Research(
            stage="unknown",
            kind=FailureKind.UNKNOWN,
            facts=(f"research note {artifact.path} is missing or was altered",),
            triggers=(Trigger.SECURITY_CLASS,),
            advice="",
            consecutive_failures=0,
        )
        return tampered, ""
    text = path.read_text(encoding="utf-8")
    match = _JSON_BLOCK.search(text)
    data = json.loads(match.group(1)) if match else {}
    return Research.model_validate(data), text
