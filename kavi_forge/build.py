"""``kavi build``: a sandbox copy, the agent in the OS sandbox, every gate, then the tools,
and a safe copy-back when everything is green.

Order is the security argument. The agent runs in its sandbox and sees only the copy. Then
the static checks run on the host, each parsing and never importing: diff-allowlist (the
change touches only the skill and its test; no symlinks, no special files), the
agent-suppressions check (KAV901: the change adds no ``# kavi: allow``), the spec binding,
policy, invariants and hash-pin. Only when every one of them passed do ruff, mypy and
pytest run, each in its own sandbox with no network and only the copy writable. A failed
build copies nothing back; it records the failure class, a BUILD_LOG and a RESEARCH_NOTE
that the next attempt's packet includes. Every note and record is redacted of known
secret values first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from kavi_forge.agent import AgentRun, agent_argv, run_agent
from kavi_forge.agent_view import AgentView, agent_environment, protected_paths, resolve_view
from kavi_forge.checks import run_diff_gate, sandbox_config
from kavi_forge.context import Forge, skill_path, test_path
from kavi_forge.isolation import Isolation, scrub_bytecode
from kavi_forge.packet import render_packet
from kavi_forge.research import FailureKind, Research, classify
from kavi_forge.retry import diff_lines, pending_research, record_failure, require_clearance
from kavi_forge.sandbox import (
    Sandbox,
    copy_back,
    create_sandbox,
    sandbox_changes,
    unsafe_entries,
)
from kavi_forge.verify import sandbox_checks
from kavi_gates.errors import KaviError
from kavi_gates.hash_pin import sha256_bytes
from kavi_gates.models import GateResult
from kavi_gates.suppressions import agent_suppressions_result
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
    isolation: Isolation | None = None


@dataclass(frozen=True)
class AgentSetup:
    """Everything about the agent's run that is settled before the build is recorded."""

    argv: list[str]
    view: AgentView
    env: dict[str, str]
    withheld: tuple[str, ...]


def _log_body(
    run: AgentRun | None,
    results: list[GateResult],
    reason: str,
    isolation: Isolation,
    setup: AgentSetup,
) -> str:
    parts = [f"Outcome: {reason or 'succeeded'}\n", f"- {isolation.describe()}"]
    parts.append(f"- agent environment: {', '.join(sorted(setup.env)) or 'empty'}")
    parts.append(
        "- agent's own paths (besides the copy and the system): read-only "
        f"{', '.join(map(str, setup.view.read_only)) or 'none'}; read-write "
        f"{', '.join(map(str, setup.view.writable)) or 'none'}"
    )
    if setup.withheld:
        parts.append(
            f"- withheld from the agent (declared skill secrets): {', '.join(setup.withheld)}"
        )
    if setup.view.missing:
        parts.append(f"- forge.agent_paths not found (not bound): {', '.join(setup.view.missing)}")
    parts.append("")
    if run is not None:
        stopped = f"; stopped: {run.stopped}" if run.stopped else ""
        parts.append(
            f"## Agent\n\nexit code: {run.returncode}; timed out: {run.timed_out}{stopped}\n\n"
            f"stdout:\n\n```\n{run.stdout}\n```\n\nstderr:\n\n```\n{run.stderr}\n```\n"
        )
    parts.append(
        "## Checks\n\n"
        + "".join(
            f"- `{r.gate}`: {r.status.value}"
            + "".join(f"\n  - {','.join(f.rules)} {f.path}: {f.message[:300]}" for f in r.findings)
            + "".join(f"\n  - {note}" for note in r.notes)
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


def agent_setup(forge: Forge, command: str) -> AgentSetup:
    """The agent's program, view and environment; refuses (exit 2) before anything runs."""
    settings = forge.loaded.config.forge
    argv = agent_argv(command)
    home_text = forge.environ.get("HOME")
    home = Path(home_text) if home_text else None
    view = resolve_view(
        argv[0],
        search_path=forge.environ.get("PATH", ""),
        configured=settings.agent_paths,
        protected=protected_paths(forge.root, forge.storage_dirs(), home),
        home=home,
    )
    env, withheld = agent_environment(forge.environ, settings.agent_env, forge.declared_secrets())
    return AgentSetup([view.executable, *argv[1:]], view, env, withheld)


def _run_agent(forge: Forge, sandbox: Sandbox, setup: AgentSetup, packet: str) -> AgentRun:
    settings = forge.loaded.config.forge
    home = forge.environ.get("HOME")
    policy = setup.view.policy(
        sandbox.repo,
        setup.env,
        network=settings.agent_network,
        timeout=forge.timeout if forge.timeout is not None else settings.timeout,
        protected=protected_paths(
            forge.root, forge.storage_dirs(), Path(home) if home else None, sandbox.path
        ),
    )
    run = run_agent(setup.argv, packet, policy, forge.isolation().backend)
    return AgentRun(
        run.returncode,
        forge.redact(run.stdout),
        forge.redact(run.stderr),
        run.timed_out,
        run.backend,
        run.stopped,
    )


def _attempt(
    forge: Forge,
    proposal: Proposal,
    sandbox: Sandbox,
    setup: AgentSetup,
    packet: str,
    rel: str,
    allow: list[str],
    require: list[str],
) -> tuple[AgentRun, FailureKind | None, str, list[GateResult], list[str]]:
    """Run the agent, the static checks, then the tools; copy back only when all is green."""
    run = _run_agent(forge, sandbox, setup, packet)
    if run.timed_out:
        return run, FailureKind.TIMEOUT, "the agent timed out", [], []
    if run.stopped == "start":
        return run, FailureKind.BUILD_ERROR, run.stderr, [], []
    if run.returncode is None:
        what = "wrote more output than allowed" if run.stopped == "output" else run.stopped
        return run, FailureKind.BUILD_ERROR, f"the agent was stopped: {what}", [], []
    if run.returncode != 0:
        return run, FailureKind.BUILD_ERROR, f"the agent exited {run.returncode}", [], []
    unsafe = unsafe_entries(sandbox)
    if unsafe:
        return run, FailureKind.GATE_VIOLATION, f"refused: {'; '.join(unsafe[:5])}", [], []
    gated = sandbox_config(forge.loaded, sandbox.repo, allow=allow, require=require)
    diff = run_diff_gate(gated, sandbox.baseline)
    if diff.failed:
        return run, FailureKind.GATE_VIOLATION, "the diff-allowlist gate failed", [diff], []
    changed = sorted({p for c in sandbox_changes(sandbox) for p in c.paths()})
    if not changed:
        return run, FailureKind.BUILD_ERROR, "the agent changed nothing", [diff], []
    suppressions = agent_suppressions_result(sandbox.baseline, sandbox.repo, changed)
    scrub_bytecode(sandbox.repo)  # planted bytecode must not stand in for checked source
    checked = _fingerprint(sandbox)
    results = [
        diff,
        suppressions,
        *sandbox_checks(forge, proposal, sandbox.repo, rel, earlier=[diff, suppressions]),
    ]
    results = forge.redact_results(results)
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
    isolation = forge.isolation()  # no sandbox and no opt-out: refused before anything
    command = agent or forge.loaded.config.forge.agent
    setup = agent_setup(forge, command)
    forge.redactor()  # an unreadable secrets file refuses here, before anything is recorded
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
        forge.note(
            ArtifactKind.BUILD_PACKET,
            f"Build packet {proposal.name} attempt {build.attempt_number}",
            packet,
            build.id,
        )
        run: AgentRun | None = None
        try:
            run, kind, reason, results, copied = _attempt(
                forge, proposal, sandbox, setup, packet, rel, allow, require
            )
        except KaviError as err:  # a refused copy-back, an unreadable tree...
            kind, reason, results, copied = FailureKind.BUILD_ERROR, str(err), [], []
        except OSError as err:
            kind, reason, results, copied = FailureKind.BUILD_ERROR, f"{err}", [], []
        reason, results = forge.redact(reason), forge.redact_results(results)
        forge.note(
            ArtifactKind.BUILD_LOG,
            f"Build log {proposal.name} attempt {build.attempt_number}",
            _log_body(run, results, reason, isolation, setup),
            build.id,
        )
        outcome = BuildOutcome(
            build,
            kind is None,
            kind,
            reason,
            copied,
            results,
            sandbox=str(sandbox.path) if forge.keep_sandbox else None,
            isolation=isolation,
        )
        summary: dict[str, object] = {
            "outcome": "succeeded" if kind is None else "failed",
            "skill_path": rel,
            "copied": copied,
            "reason": reason,
            "checks": {r.gate: r.status.value for r in results},
            "sandbox": isolation.record(),
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
