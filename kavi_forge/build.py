"""``kavi build``: sandbox, agent, diff-allowlist, every check, and a safe copy-back when green.

A failed build copies nothing back; it records the failure class, a BUILD_LOG and a
RESEARCH_NOTE that the next attempt's packet includes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from kavi_forge.agent import AgentRun, agent_argv, run_agent
from kavi_forge.checks import run_diff_gate, sandbox_config
from kavi_forge.context import Forge, skill_path, test_path
from kavi_forge.packet import render_packet
from kavi_forge.research import FailureKind, Research, classify
from kavi_forge.retry import diff_lines, pending_research, record_failure, require_clearance
from kavi_forge.sandbox import Sandbox, copy_back, create_sandbox, sandbox_changes
from kavi_forge.verify import sandbox_checks
from kavi_gates.errors import KaviError
from kavi_gates.hash_pin import sha256_bytes
from kavi_gates.models import GateResult
from kavi_ledger.artifacts import write_note
from kavi_ledger.models import Artifact, ArtifactKind, Build, Proposal
from kavi_ledger.states import get_proposal, record_build_finish, record_build_start


@dataclass
class BuildOutcome:
    """What one attempt produced."""

    build: Build
    succeeded: bool
    kind: FailureKind | None = None
    reason: str = ""
    copied: list[str] = field(default_factory=list)
    results: list[GateResult] = field(default_factory=list)
    research: Research | None = None
    research_note: Artifact | None = None
    sandbox: str | None = None


def _log_body(run: AgentRun | None, results: list[GateResult], reason: str) -> str:
    parts = [f"Outcome: {reason or 'succeeded'}\n"]
    if run is not None:
        parts.append(
            f"## Agent\n\nexit code: {run.returncode}; timed out: {run.timed_out}\n\n"
            f"stdout:\n\n```\n{run.stdout}\n```\n\nstderr:\n\n```\n{run.stderr}\n```\n"
        )
    parts.append(
        "## Checks\n\n"
        + "".join(
            f"- `{r.gate}`: {r.status.value}"
            + "".join(f"\n  - {f.rule} {f.path}: {f.message[:300]}" for f in r.findings)
            + "\n"
            for r in results
        )
    )
    return "\n".join(parts)


def _fingerprint(sandbox: Sandbox) -> dict[str, str]:
    """The changed paths of the sandbox with the sha256 of their bytes (``-``: deleted)."""
    changed = {p for c in sandbox_changes(sandbox) for p in c.paths()}
    return {
        p: sha256_bytes((sandbox.repo / p).read_bytes()) if (sandbox.repo / p).is_file() else "-"
        for p in sorted(changed)
    }


def _attempt(
    forge: Forge,
    proposal: Proposal,
    sandbox: Sandbox,
    argv: list[str],
    packet: str,
    rel: str,
    allow: list[str],
    require: list[str],
) -> tuple[AgentRun, FailureKind | None, str, list[GateResult], list[str]]:
    """Run the agent and the checks; copy back only when everything is green."""
    settings = forge.loaded.config.forge
    run = run_agent(
        argv,
        packet,
        sandbox.repo,
        forge.child_env(proposal, for_agent=True),
        forge.timeout if forge.timeout is not None else settings.timeout,
    )
    if run.timed_out:
        return run, FailureKind.TIMEOUT, "the agent timed out", [], []
    if run.returncode != 0:
        return run, FailureKind.BUILD_ERROR, f"the agent exited {run.returncode}", [], []
    gated = sandbox_config(forge.loaded, sandbox.repo, allow=allow, require=require)
    diff = run_diff_gate(gated, sandbox.baseline)
    if diff.failed:
        return run, FailureKind.GATE_VIOLATION, "the diff-allowlist gate failed", [diff], []
    changed = sorted({p for c in sandbox_changes(sandbox) for p in c.paths()})
    if not changed:
        return run, FailureKind.BUILD_ERROR, "the agent changed nothing", [diff], []
    checked = _fingerprint(sandbox)
    results = [diff, *sandbox_checks(forge, proposal, sandbox.repo, rel)]
    if any(r.failed for r in results):
        kind = classify(results)
        failing = ", ".join(r.gate for r in results if r.failed)
        return run, kind, f"checks failed in the sandbox: {failing}", results, []
    if _fingerprint(sandbox) != checked:  # a test that rewrites the skill is not what passed
        return run, FailureKind.BUILD_ERROR, "files changed while they were checked", results, []
    return run, None, "", results, copy_back(sandbox, forge.root, changed)


def build_proposal(
    forge: Forge, proposal_id: str, *, agent: str | None = None, yes: bool = False
) -> BuildOutcome:
    """One build attempt of a proposal (see the module docstring)."""
    proposal = get_proposal(forge.db, proposal_id)
    pending = pending_research(forge, proposal)
    require_clearance(pending, yes=yes)
    command = agent or forge.loaded.config.forge.agent
    argv = agent_argv(command)
    rel = skill_path(forge, proposal)
    test = test_path(forge, rel)
    allow = [rel, test, *forge.loaded.config.forge.extra_allowed]
    # What does not exist yet must be written; a rebuild may change either file.
    require = [p for p in (rel, test) if not (forge.root / p).is_file()]
    sandbox = create_sandbox(forge.root, prefix="build", extra_excluded=forge.storage_dirs())
    try:
        build = record_build_start(
            forge.db, proposal.id, sandbox_path=str(sandbox.path), agent_command=command
        )
        packet = render_packet(
            proposal,
            forge.loaded.config,
            attempt=build.attempt_number,
            allowed=allow,
            required=require,
            research=pending[1] if pending else None,
        )
        write_note(
            forge.db,
            forge.paths.vault_dir,
            kind=ArtifactKind.BUILD_PACKET,
            title=f"Build packet {proposal.name} attempt {build.attempt_number}",
            body=packet,
            related_id=build.id,
        )
        run: AgentRun | None = None
        try:
            run, kind, reason, results, copied = _attempt(
                forge, proposal, sandbox, argv, packet, rel, allow, require
            )
        except KaviError as err:  # a refused copy-back, an unreadable tree...
            kind, reason, results, copied = FailureKind.BUILD_ERROR, str(err), [], []
        except OSError as err:
            kind, reason, results, copied = FailureKind.BUILD_ERROR, f"{err}", [], []
        write_note(
            forge.db,
            forge.paths.vault_dir,
            kind=ArtifactKind.BUILD_LOG,
            title=f"Build log {proposal.name} attempt {build.attempt_number}",
            body=_log_body(run, results, reason),
            related_id=build.id,
        )
        outcome = BuildOutcome(
            build,
            kind is None,
            kind,
            reason,
            copied,
            results,
            sandbox=str(sandbox.path) if forge.keep_sandbox else None,
        )
        summary: dict[str, object] = {
            "outcome": "succeeded" if kind is None else "failed",
            "skill_path": rel,
            "copied": copied,
            "reason": reason,
            "checks": {r.gate: r.status.value for r in results},
        }
        if kind is not None:
            extra = [reason] + (
                [f"agent stderr: {run.stderr[-500:]}"] if run and run.stderr else []
            )
            note, research = record_failure(
                forge,
                proposal,
                stage="build",
                related=build.id,
                kind=kind,
                results=results,
                extra_facts=extra,
                changed_lines=diff_lines(sandbox),
            )
            outcome.research, outcome.research_note = research, note
            summary.update(kind=kind.value, triggers=list(research.triggers), research_note=note.id)
        outcome.build = record_build_finish(
            forge.db, build.id, succeeded=kind is None, summary=json.dumps(summary, sort_keys=True)
        )
        return outcome
    finally:
        if not forge.keep_sandbox:
            sandbox.remove()
