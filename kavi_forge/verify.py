"""``kavi verify``: every gate, then ruff, mypy and pytest, on the repository's copy of a skill.

pytest executes agent-written code, so the checks run on a fresh copy of the working tree,
never on the repository itself: the gates first (static), the tools only when every gate
passed, each tool in the OS sandbox with no network and only the copy writable. The content
hashes recorded are those of the repository's files, and they must equal the copy's before
and the repository's after, or nothing is recorded. The first row says how the checks ran
(``sandbox``: pass in bubblewrap, skip with a warning when explicitly unconfined).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kavi_forge.checks import run_static_gates, run_tools, skipped_tools
from kavi_forge.context import Forge, entry_for, skill_path, test_path
from kavi_forge.errors import ForgeError
from kavi_forge.research import classify
from kavi_forge.retry import record_failure
from kavi_forge.sandbox import create_sandbox
from kavi_forge.skillspec import read_declared, spec_result
from kavi_gates.config import LoadedConfig
from kavi_gates.hash_pin import compute_pins
from kavi_gates.models import GateResult
from kavi_ledger.models import Artifact, ArtifactKind, Proposal, VerificationRun
from kavi_ledger.states import get_proposal, record_verification


def sandbox_checks(
    forge: Forge,
    proposal: Proposal,
    sandbox_root: Path,
    rel: str,
    *,
    earlier: Sequence[GateResult] = (),
) -> list[GateResult]:
    """The spec binding and every gate, then (only if those and ``earlier`` all passed) every
    tool, for one skill inside a sandbox copy."""
    base_class = forge.loaded.config.invariants.base_class
    loaded = LoadedConfig(
        config=forge.loaded.config, root=sandbox_root, source=f"{forge.loaded.source} (sandbox)"
    )
    spec = spec_result(sandbox_root, rel, base_class, proposal)
    static = [spec]
    if not spec.failed:
        class_name = read_declared(sandbox_root, rel, base_class).class_name
        static += run_static_gates(
            loaded,
            skill_path=rel,
            entry=entry_for(proposal, rel, class_name),
            name=proposal.name,
        )
    if any(r.failed for r in (*earlier, *static)):
        return [*static, *skipped_tools(loaded, rel)]
    tools = run_tools(
        loaded,
        skill_path=rel,
        test_path=test_path(forge, rel),
        tools=forge.tool_runner,
        env=forge.tool_env(),
    )
    return [*static, *tools]


def report_body(proposal: Proposal, results: list[GateResult], hashes: dict[str, str]) -> str:
    """Markdown: one line per check, then the hashes verified."""
    lines = [
        f"- `{r.gate}`: **{r.status.value}**"
        + (f" ({len(r.findings)} finding(s))" if r.findings else "")
        + "".join(f"; {note}" for note in r.notes)
        for r in results
    ]
    pins = [f"- `{path}`: `{digest}`" for path, digest in sorted(hashes.items())]
    # The whole output of every failing check: the note is where a person reads why.
    details = [
        f"### `{r.gate}`\n\n"
        + "\n\n".join(
            f"{f.path}:{f.line}: {','.join(f.rules)}\n\n```\n{f.message}\n```" for f in r.findings
        )
        for r in results
        if r.status.value != "pass" and (r.findings or r.error)
    ]
    return (
        f"Proposal `{proposal.id}` ({proposal.name}).\n\n## Checks\n\n"
        + "\n".join(lines)
        + ("\n\n## Failures\n\n" + "\n\n".join(details) if details else "")
        + "\n\n## Content hashes verified\n\n"
        + "\n".join(pins)
        + "\n"
    )


@dataclass(frozen=True)
class Verified:
    """A recorded verify run, its report artifact and (on failure) its research note."""

    run: VerificationRun
    report: Artifact
    research: Artifact | None


def verify_proposal(forge: Forge, proposal_id: str) -> Verified:
    """Check the repository's copy of the proposal's skill and record one row per check."""
    proposal = get_proposal(forge.db, proposal_id)
    rel = skill_path(forge, proposal)
    if not (forge.root / rel).is_file():
        raise ForgeError(f"{rel} does not exist in {forge.root}; build it first")
    isolation = forge.isolation()  # no sandbox and no opt-out: refused before anything
    forge.redactor()  # an unreadable secrets file refuses here, before anything runs
    before = compute_pins(forge.root / rel, forge.root)
    sandbox = create_sandbox(forge.root, prefix="verify", extra_excluded=forge.storage_dirs())
    try:
        if compute_pins(sandbox.repo / rel, sandbox.repo) != before:
            raise ForgeError(f"{rel} changed while it was copied for verification; verify again")
        results = [isolation.result(), *sandbox_checks(forge, proposal, sandbox.repo, rel)]
    finally:
        if not forge.keep_sandbox:
            sandbox.remove()
    if compute_pins(forge.root / rel, forge.root) != before:
        raise ForgeError(f"{rel} changed during verification; nothing recorded, verify again")
    results = forge.redact_results(results)
    run = record_verification(
        forge.db,
        proposal.id,
        results,
        content_hashes=before,
        policy_digest=forge.loaded.policy_digest(),
    )
    verdict = "passed" if run.passed else "failed"
    report = forge.note(
        ArtifactKind.VERIFICATION_REPORT,
        f"Verification {proposal.name} {verdict}",
        report_body(proposal, results, before),
        proposal.id,
    )
    research = None
    if not run.passed:
        research, _ = record_failure(
            forge,
            proposal,
            stage="verify",
            related=run.run_id,
            kind=classify(results),
            results=results,
        )
    return Verified(run, report, research)
