"""``kavi promote``: pin exactly the bytes the latest passing verification covered, and sign it.

Order matters for failing safe: every refusal happens before anything is written (the
signature is made and checked against the allowed signers first); the ledger records the
promotion (which re-checks the hashes in its transaction), then the attestation is written,
then the registry is replaced atomically. A crash in between leaves a TRUSTED row or an
attestation that no registry entry matches: nothing runs, never pins nobody signed. The
approver is shown every suppression (``# kavi: allow[...]``) in the pinned code and whether
the verification ran without the sandbox; the PROMOTION note records both.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kavi_forge.attest import (
    check_results,
    pinned_suppressions,
    promotion_question,
    sign_promotion,
)
from kavi_forge.context import Forge, entry_for, skill_path
from kavi_forge.errors import ForgeError, PromotionRefused
from kavi_forge.isolation import was_sandboxed
from kavi_forge.signing import signing_key
from kavi_forge.skillspec import read_declared
from kavi_forge.verify import Verified, verify_proposal
from kavi_gates.attestation import attestation_path, write_attestation
from kavi_gates.hash_pin import compute_pins
from kavi_gates.paths import relpath
from kavi_gates.registry import Registry, RegistryEntry, load_registry, save_registry
from kavi_gates.statement import Suppression
from kavi_ledger.models import Artifact, ArtifactKind, Promotion, Proposal, VerificationRun
from kavi_ledger.records import approver
from kavi_ledger.states import (
    create_proposal,
    get_proposal,
    latest_verification,
    list_proposals,
    record_build_finish,
    record_build_start,
    record_promotion,
)

ADOPT_SCHEMA = {"type": "object", "description": "adopted skill: see its input_model/output_model"}


@dataclass(frozen=True)
class Promoted:
    """A promotion: the ledger row, the registry entry written and the PROMOTION note."""

    name: str
    promotion: Promotion
    entry: RegistryEntry
    artifact: Artifact
    verified: Verified | None = None
    suppressions: tuple[Suppression, ...] = ()
    sandboxed: bool | None = True
    """Whether the verification ran in the sandbox (None: recorded before this was known)."""


def _changed_files(verified: dict[str, str], current: dict[str, str]) -> list[str]:
    return sorted(p for p in verified.keys() | current.keys() if verified.get(p) != current.get(p))


def check_promotable(
    forge: Forge, proposal: Proposal, rel: str
) -> tuple[VerificationRun, dict[str, str]]:
    """The passing verification and the pins, or a refusal that names what is wrong."""
    run = latest_verification(forge.db, proposal.id)
    if run is None:
        raise PromotionRefused(f"proposal {proposal.id} was never verified; run `kavi verify`")
    if not run.passed:
        failing = ", ".join(r.gate for r in run.results if r.status.value in ("fail", "error"))
        raise PromotionRefused(f"the latest verification of {proposal.id} failed ({failing})")
    if not (forge.root / rel).is_file():
        raise PromotionRefused(f"{rel} does not exist")
    current = compute_pins(forge.root / rel, forge.root)
    changed = _changed_files(run.content_hashes, current)
    if changed:
        raise PromotionRefused(
            f"{', '.join(changed)} changed since verification {run.run_id} "
            "(the bytes differ from those verified); run `kavi verify` again"
        )
    if run.policy_digest != forge.loaded.policy_digest():
        raise PromotionRefused(
            f"the policy changed since verification {run.run_id}; run `kavi verify` again"
        )
    return run, current


def promote_proposal(
    forge: Forge,
    proposal_id: str,
    *,
    by: str | None = None,
    confirm: Callable[[str], bool] | None = None,
    verified: Verified | None = None,
    key: Path | None = None,
    suppressions: Sequence[Suppression] | None = None,
) -> Promoted:
    """Promote a VERIFIED proposal: signed attestation, ledger row, registry entry, note.

    ``suppressions`` (default: every ``# kavi: allow`` in the pinned bytes) are shown in the
    prompt and signed; ``key`` overrides the signing-key lookup (see ``kavi_forge.signing``).
    """
    proposal = get_proposal(forge.db, proposal_id)
    rel = skill_path(forge, proposal)
    run, pins = check_promotable(forge, proposal, rel)
    found = read_declared(forge.root, rel, forge.loaded.config.invariants.base_class)
    registry_rel = forge.loaded.config.hash_pin.registry
    registry_file = forge.root / registry_rel
    registry = load_registry(registry_file) if registry_file.exists() else Registry()
    clash = registry.entry_for(rel)
    if clash is not None and clash[0] != proposal.name:
        raise PromotionRefused(f"{rel} is already pinned as skill {clash[0]!r}")
    who = approver(by)
    attested = attestation_path(registry_rel, proposal.name)
    listed = (
        tuple(suppressions) if suppressions is not None else pinned_suppressions(forge.root, pins)
    )
    entry = entry_for(proposal, rel, found.class_name).model_copy(
        update={
            "allowed_hosts": found.allowed_hosts,
            "pins": pins,
            "policy_digest": forge.loaded.policy_digest(),
            "verification": run.run_id,
            "promoted_by": who,
            "promoted_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "attestation": attested,
        }
    )
    configured = forge.loaded.config.attestation.signing_key
    sandboxed = was_sandboxed(run.results)
    with signing_key(forge.root, key, configured, forge.environ) as signer:
        question = promotion_question(proposal.name, entry, listed, signer)
        if sandboxed is False:
            question += "  its checks ran WITHOUT a sandbox (explicit opt-out)\n"
        if confirm is not None and not confirm(question):
            raise ForgeError("promotion not confirmed; nothing was changed")
        envelope = sign_promotion(
            proposal.name,
            entry,
            key=signer,
            allowed_signers=forge.loaded.allowed_signers(),
            results=check_results(run),
            suppressions=listed,
        )
    promotion = record_promotion(
        forge.db, proposal.id, verification_id=run.run_id, approved_by=who, content_hashes=pins
    )
    write_attestation(forge.root / attested, envelope)
    save_registry(registry_file, Registry(skills={**registry.skills, proposal.name: entry}))
    body = (
        f"- proposal: `{proposal.id}`\n- skill: `{proposal.name}` ({rel})\n"
        f"- verification: `{run.run_id}` ({_verified_where(sandboxed)})\n"
        f"- approved by: {who}\n- at: {entry.promoted_at}\n"
        f"- attestation: `{entry.attestation}` (key {envelope.signatures[0].keyid})\n"
        f"- network hosts: {', '.join(entry.allowed_hosts) or 'none'}\n"
        f"- suppressions: {len(listed)}\n\n"
        "## Pins\n\n```json\n" + json.dumps(pins, indent=2, sort_keys=True) + "\n```\n\n"
        "## Suppressions in the pinned code\n\n"
        + ("".join(f"- `{describe(s)}`\n" for s in listed) or "none\n")
    )
    artifact = forge.note(ArtifactKind.PROMOTION, f"Promotion {proposal.name}", body, proposal.id)
    return Promoted(proposal.name, promotion, entry, artifact, verified, listed, sandboxed)


def describe(suppression: Suppression) -> str:
    """``path:line allow[RULES] reason``, as prompts, notes and the CLI show it."""
    reason = suppression.reason or "(no reason)"
    return f"{suppression.path}:{suppression.line} allow[{', '.join(suppression.rules)}] {reason}"


def _verified_where(sandboxed: bool | None) -> str:
    if sandboxed is None:
        return "sandbox not recorded"
    return "checked in the sandbox" if sandboxed else "checked WITHOUT a sandbox (opted out)"


def adopt_path(forge: Forge, path: Path) -> Proposal:
    """A proposal plus a recorded no-agent build for an existing, hand-written skill file."""
    full = path if path.is_absolute() else Path.cwd() / path
    if not full.is_file():
        raise ForgeError(f"{path} is not a file")
    rel = relpath(full.resolve(), forge.root)
    found = read_declared(forge.root, rel, forge.loaded.config.invariants.base_class)
    if found.name is None or found.side_effect_class is None:
        raise ForgeError(f"{rel}: name and side_effect_class must be string literals")
    reuse = [
        p
        for p in list_proposals(forge.db)
        if p.name == found.name
        and p.status.value in ("PROPOSED", "BUILT", "VERIFIED")
        and p.side_effect_class == found.side_effect_class
        and p.required_secrets == found.required_secrets
    ]
    proposal = (
        reuse[-1]
        if reuse
        else create_proposal(
            forge.db,
            name=found.name,
            description=found.description or found.name,
            io_schema=ADOPT_SCHEMA,
            side_effect_class=found.side_effect_class,
            required_secrets=found.required_secrets,
        )
    )
    build = record_build_start(forge.db, proposal.id, agent_command=f"adopt {rel}")
    summary = {"outcome": "succeeded", "adopted": True, "skill_path": rel, "copied": []}
    record_build_finish(
        forge.db, build.id, succeeded=True, summary=json.dumps(summary, sort_keys=True)
    )
    return get_proposal(forge.db, proposal.id)


def _first_line(findings_json: str) -> str:
    """The first line of a failed check's first finding (the tool's telling line)."""
    try:
        findings = json.loads(findings_json)
        text = str(findings[0]["message"]) if findings else ""
    except (ValueError, LookupError, TypeError):
        text = ""
    return next((line.strip() for line in text.splitlines() if line.strip()), "failed")


def promote_path(
    forge: Forge,
    path: Path,
    *,
    by: str | None = None,
    confirm: Callable[[str], bool] | None = None,
    key: Path | None = None,
) -> Promoted:
    """Adopt a hand-written skill: propose, verify it, then promote it on those bytes."""
    forge.isolation()  # no sandbox and no opt-out: refused before anything is recorded
    proposal = adopt_path(forge, path)
    verified = verify_proposal(forge, proposal.id)
    if not verified.run.passed:
        failing = "; ".join(
            f"{r.gate}: {_first_line(r.findings_json)}"
            for r in verified.run.results
            if r.status.value in ("fail", "error")
        )
        report = (forge.paths.vault_dir / verified.report.path).resolve()
        raise ForgeError(
            f"{skill_path(forge, proposal)} failed verification ({failing}); "
            f"full report: {report}; not promoted"
        )
    return promote_proposal(forge, proposal.id, by=by, confirm=confirm, verified=verified, key=key)
