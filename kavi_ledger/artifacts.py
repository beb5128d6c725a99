"""Content-addressed markdown notes in an Obsidian-compatible vault, recorded in the ledger.

A note's file name ends with the first 16 hex digits of the sha256 of its bytes, so a name
identifies its content; notes link to each other with ``[[wiki-links]]`` by note name.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path

import yaml
from sqlite_utils import Database

from kavi_gates.paths import atomic_write
from kavi_ledger.models import Artifact, ArtifactKind, Proposal
from kavi_ledger.records import new_id, now, record_artifact

HASH_PREFIX = 16


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:48] or "note"


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def render_note(
    *,
    artifact_id: str,
    kind: ArtifactKind,
    title: str,
    body: str,
    related_id: str | None,
    created: str,
    links: Sequence[str] = (),
) -> str:
    """The markdown text of a note: YAML front matter, title, body, wiki-links."""
    front = {
        "kavi_id": artifact_id,
        "kind": kind.value,
        "related_id": related_id,
        "created": created,
        "links": [f"[[{name}]]" for name in links],
        "tags": ["kavi", kind.value.lower()],
    }
    text = "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---\n\n"
    text += f"# {title}\n\n{body.rstrip()}\n"
    if links:
        text += "\n## Links\n\n" + "".join(f"- [[{name}]]\n" for name in links)
    return text


def write_note(
    db: Database,
    vault_dir: Path,
    *,
    kind: ArtifactKind,
    title: str,
    body: str,
    related_id: str | None,
    links: Sequence[Artifact] = (),
) -> Artifact:
    """Write a note atomically into the vault and record it with its sha256."""
    artifact_id, created = new_id(), now()
    text = render_note(
        artifact_id=artifact_id,
        kind=kind,
        title=title,
        body=body,
        related_id=related_id,
        created=created,
        links=[link.note_name for link in links],
    )
    data = text.encode("utf-8")
    digest = sha256_bytes(data)
    rel = f"{kind.value.lower()}/{_slug(title)}-{digest[:HASH_PREFIX]}.md"
    target = vault_dir / rel
    if not (target.is_file() and sha256_bytes(target.read_bytes()) == digest):
        atomic_write(target, data)
    return record_artifact(
        db,
        kind=kind,
        path=rel,
        sha256=digest,
        related_id=related_id,
        artifact_id=artifact_id,
        created_at=created,
    )


def verify_artifact(vault_dir: Path, artifact: Artifact) -> bool:
    """True when the file still holds exactly the bytes the ledger recorded."""
    path = vault_dir / artifact.path
    return path.is_file() and sha256_bytes(path.read_bytes()) == artifact.sha256


def write_skill_spec(db: Database, vault_dir: Path, proposal: Proposal) -> Artifact:
    """The SKILL_SPEC note of a proposal: its fields, its IO schema, its declared secrets."""
    schema = json.dumps(proposal.io_schema, indent=2, sort_keys=True)
    secrets = ", ".join(f"`{s}`" for s in proposal.required_secrets) or "none"
    body = (
        f"- proposal: `{proposal.id}`\n"
        f"- name: `{proposal.name}`\n"
        f"- side-effect class: `{proposal.side_effect_class}`\n"
        f"- required secrets: {secrets}\n"
        f"- status at proposal: `{proposal.status.value}`\n\n"
        f"## Description\n\n{proposal.description}\n\n"
        f"## IO schema\n\n```json\n{schema}\n```\n"
    )
    return write_note(
        db,
        vault_dir,
        kind=ArtifactKind.SKILL_SPEC,
        title=f"Skill spec {proposal.name}",
        body=body,
        related_id=proposal.id,
    )
