"""`kavi reject ID --reason` and `kavi revoke NAME --reason`: taking trust back, on record.

``reject`` ends a proposal that is not trusted (REJECTED is final). ``revoke`` removes a
trusted skill from the registry first (what grants trust: once it is gone the runtime
refuses the skill), then demotes its proposal in the ledger (TRUSTED → BUILT). Both write
a note with the reason and who decided into the vault, recorded in the ledger.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from kavi_gates.config import load_config
from kavi_gates.errors import UsageError
from kavi_gates.registry import Registry, load_registry, save_registry
from kavi_hooks.confirm import confirm_or_refuse
from kavi_ledger.artifacts import write_note
from kavi_ledger.db import open_ledger
from kavi_ledger.models import ArtifactKind, ProposalStatus
from kavi_ledger.paths import resolve_paths
from kavi_ledger.records import approver, get_proposal, list_proposals
from kavi_ledger.states import reject_proposal, revoke_trust

ConfigOpt = Annotated[
    str | None, typer.Option("--config", help="Config file (YAML or TOML); default: discovered.")
]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (recorded in the ledger).")]
ByOpt = Annotated[str | None, typer.Option("--by", help="Who decides (default: git user.email).")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def _reason(text: str) -> str:
    reason = " ".join(text.split())
    if not reason:
        raise UsageError("--reason must say why (it is recorded in the ledger)")
    return reason


def _stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def reject(
    proposal_id: Annotated[str, typer.Argument(help="The proposal to reject (kavi status).")],
    reason: ReasonOpt,
    by: ByOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Reject a proposal that is not trusted yet (final), recording why and who."""
    why = _reason(reason)
    loaded = load_config(config)
    paths = resolve_paths(loaded.config.storage, loaded.root)
    db = open_ledger(paths.ledger)
    try:
        proposal = get_proposal(db, proposal_id)
        if proposal.status is ProposalStatus.TRUSTED:
            raise UsageError(
                f"proposal {proposal_id} ({proposal.name}) is trusted: use kavi revoke "
                f"{proposal.name} --reason ..."
            )
        who = approver(by)
        change = reject_proposal(db, proposal_id, approved_by=who)
        write_note(
            db,
            paths.vault_dir,
            kind=ArtifactKind.PROMOTION,
            title=f"Rejection {proposal.name}",
            body=f"- proposal: `{proposal_id}`\n- rejected by: {who}\n- at: {_stamp()}\n"
            f"- was: {change.from_status.value}\n\n## Reason\n\n{why}\n",
            related_id=proposal_id,
        )
    finally:
        db.close()
    typer.echo(f"rejected {proposal_id} ({proposal.name}) by {who}")


def revoke(
    name: Annotated[str, typer.Argument(help="A trusted skill's name (kavi skills).")],
    reason: ReasonOpt,
    by: ByOpt = None,
    yes: YesOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Take trust back: remove the skill from the registry and record why in the ledger."""
    why = _reason(reason)
    loaded = load_config(config)
    registry_file = loaded.root / loaded.config.hash_pin.registry
    registry = load_registry(registry_file) if registry_file.exists() else Registry()
    entry = registry.skills.get(name)
    if entry is None:
        known = ", ".join(sorted(registry.skills)) or "none"
        raise UsageError(f"no trusted skill {name!r} in {registry_file} (trusted: {known})")
    if not yes:
        confirm_or_refuse(f"Revoke trust in {name} ({entry.path})?", action="kavi revoke")
    who = approver(by)
    remaining = {k: v for k, v in registry.skills.items() if k != name}
    save_registry(registry_file, registry.model_copy(update={"skills": remaining}))
    paths = resolve_paths(loaded.config.storage, loaded.root)
    db = open_ledger(paths.ledger)
    try:
        trusted = [p for p in list_proposals(db, ProposalStatus.TRUSTED) if p.name == name]
        for proposal in trusted:
            revoke_trust(db, proposal.id, approved_by=who)
        related = trusted[0].id if trusted else None
        write_note(
            db,
            paths.vault_dir,
            kind=ArtifactKind.PROMOTION,
            title=f"Revocation {name}",
            body=f"- skill: `{name}` ({entry.path})\n- revoked by: {who}\n- at: {_stamp()}\n"
            f"- proposal: {', '.join(f'`{p.id}`' for p in trusted) or 'none in this ledger'}\n"
            f"\n## Reason\n\n{why}\n",
            related_id=related,
        )
    finally:
        db.close()
    typer.echo(f"revoked {name}: removed from {loaded.config.hash_pin.registry} by {who}")


def register(app: typer.Typer) -> None:
    """Add ``kavi reject`` and ``kavi revoke`` to the ``kavi`` app."""
    app.command("reject")(reject)
    app.command("revoke")(revoke)
