"""After a failure: the research note; before a retry: the note to include, and enforcement."""

from __future__ import annotations

import difflib
import stat
from collections.abc import Sequence
from pathlib import Path

from kavi_forge.context import Forge
from kavi_forge.errors import EscalationRequired
from kavi_forge.research import (
    FailureKind,
    Research,
    ask_advice,
    facts,
    note_artifacts,
    read_research,
    triggers,
    write_research,
)
from kavi_forge.sandbox import Sandbox, sandbox_changes, unsafe_entries
from kavi_gates.models import GateResult
from kavi_ledger.models import Artifact, Proposal
from kavi_ledger.states import latest_verification, list_builds


def _lines(path: Path) -> list[str]:
    """A regular file's lines (a symlink or special file is never opened: no lines)."""
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return []
    except OSError:
        return []
    return path.read_text(encoding="utf-8").splitlines()


def diff_lines(sandbox: Sandbox) -> int:
    """Added plus removed lines of the sandbox against its baseline (binary files: 1 each)."""
    if unsafe_entries(sandbox):
        return 0  # the build already failed on them; reading could block or exhaust memory
    total = 0
    for change in sandbox_changes(sandbox):
        before, after = sandbox.baseline / change.path, sandbox.repo / change.path
        try:
            old, new = _lines(before), _lines(after)
        except UnicodeDecodeError:
            total += 1
            continue
        total += sum(
            1
            for line in difflib.unified_diff(old, new, lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        )
    return total


def _consecutive(forge: Forge, proposal: Proposal) -> int:
    """Failures since the last passing verification (this one included)."""
    run = latest_verification(forge.db, proposal.id)
    since = run.created_at if run is not None and run.passed else ""
    return 1 + sum(1 for a in note_artifacts(forge.db, proposal.id) if a.created_at > since)


def record_failure(
    forge: Forge,
    proposal: Proposal,
    *,
    stage: str,
    related: str,
    kind: FailureKind,
    results: Sequence[GateResult] = (),
    extra_facts: Sequence[str] = (),
    changed_lines: int = 0,
) -> tuple[Artifact, Research]:
    """Classify, ask for advice, raise triggers and write the RESEARCH_NOTE."""
    settings = forge.loaded.config.forge
    clean = forge.redact_results(list(results))
    lines = tuple(forge.redact(line) for line in (*extra_facts, *facts(clean)))
    advice, answered = ask_advice(forge.advisor(), kind, lines, proposal)
    advice = forge.redact(advice)
    consecutive = _consecutive(forge, proposal)
    raised = triggers(
        kind,
        results,
        proposal,
        consecutive=consecutive,
        limit=settings.repeated_failure_limit,
        diff_lines=changed_lines,
        max_diff_lines=settings.max_diff_lines,
        advice=advice if answered else "",
    )
    research = Research(
        stage=stage,
        kind=kind,
        facts=tuple(lines),
        triggers=raised,
        advice=advice,
        consecutive_failures=consecutive,
    )
    note = write_research(forge.db, forge.paths.vault_dir, proposal, research, related)
    return note, research


def pending_research(forge: Forge, proposal: Proposal) -> tuple[Research, str, Artifact] | None:
    """The research note written after the latest build started (what the retry must read)."""
    notes = note_artifacts(forge.db, proposal.id)
    if not notes:
        return None
    builds = list_builds(forge.db, proposal.id)
    last_start = builds[-1].started_at if builds else ""
    if notes[-1].created_at < last_start:
        return None
    research, text = read_research(forge.paths.vault_dir, notes[-1])
    return research, text, notes[-1]


def require_clearance(pending: tuple[Research, str, Artifact] | None, *, yes: bool) -> None:
    """Refuse a retry whose previous failure raised an escalation trigger, unless ``yes``."""
    if pending is None or not pending[0].triggers or yes:
        return
    research, _, note = pending
    raise EscalationRequired(
        f"the previous failure ({research.kind.value}) raised escalation trigger(s) "
        f"{', '.join(research.triggers)}; review research note {note.path} and retry with --yes"
    )
