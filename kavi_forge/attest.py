"""What a promotion signs: the check results, the suppressions in the pinned code, the prompt.

The envelope is signed and then verified against the project's allowed signers *before*
anything is written, so a key nobody listed fails the promotion here rather than leaving
a registry entry every later check refuses.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from kavi_forge.errors import PromotionRefused
from kavi_forge.signing import SigningKey
from kavi_gates.attestation import AttestationRefused, sign_statement, verify_envelope
from kavi_gates.dsse import Envelope
from kavi_gates.hash_pin import sha256_bytes
from kavi_gates.policy.suppress import find_suppressions
from kavi_gates.registry import RegistryEntry
from kavi_gates.source_text import decode
from kavi_gates.statement import CheckResult, Suppression, statement_for
from kavi_ledger.models import VerificationRun


def check_results(run: VerificationRun) -> tuple[CheckResult, ...]:
    """Each gate's and tool's verdict in the verification a promotion cites."""
    results = []
    for row in run.results:
        try:
            count = len(json.loads(row.findings_json or "[]"))
        except (json.JSONDecodeError, TypeError):
            count = 0
        results.append(CheckResult(check=row.gate, status=row.status.value, findings=count))
    return tuple(results)


def pinned_suppressions(root: Path, pins: dict[str, str]) -> tuple[Suppression, ...]:
    """Every ``# kavi: allow[...]`` comment in the pinned bytes (re-hashed: what is listed is
    what is pinned, or the promotion stops)."""
    found: list[Suppression] = []
    for rel, digest in sorted(pins.items()):
        data = (root / rel).read_bytes()
        if sha256_bytes(data) != digest:
            raise PromotionRefused(f"{rel} changed during the promotion; run `kavi verify` again")
        text = decode(data)  # as Python (and the policy gate) reads it
        for sup in find_suppressions(text):
            found.append(Suppression(path=rel, line=sup.line, rules=sup.rules, reason=sup.reason))
    return tuple(found)


def promotion_question(
    name: str, entry: RegistryEntry, suppressions: Sequence[Suppression], key: SigningKey
) -> str:
    """The confirmation prompt: what is trusted, the hosts it may reach, its suppressions."""
    hosts = ", ".join(entry.allowed_hosts) or "none"
    secrets = ", ".join(entry.required_secrets) or "none"
    lines = [
        f"Trust {name} ({entry.path}, {entry.side_effect_class}), {len(entry.pins)} pin(s)?",
        f"  network hosts: {hosts}",
        f"  secrets: {secrets}",
    ]
    if suppressions:
        lines.append(f"  suppressions in the pinned code ({len(suppressions)}):")
        lines.extend(
            f"    {s.path}:{s.line} allow[{', '.join(s.rules)}] {s.reason or '(no reason)'}"
            for s in suppressions
        )
    lines.append(f"  signed as {entry.promoted_by} with {key.path} ({key.source})")
    return "\n".join(lines) + "\n"


def sign_promotion(
    name: str,
    entry: RegistryEntry,
    *,
    key: SigningKey,
    allowed_signers: Path,
    results: tuple[CheckResult, ...],
    suppressions: tuple[Suppression, ...],
) -> Envelope:
    """The signed envelope for ``entry``, already verified as every later check will."""
    statement = statement_for(name, entry, results=results, suppressions=suppressions)
    envelope = sign_statement(statement, key.path)
    try:
        verify_envelope(envelope, allowed_signers, entry.attestation or name)
    except AttestationRefused as err:
        raise PromotionRefused(
            f"the promotion's signature would not verify ({err.detail}); list the key for "
            f"{entry.promoted_by} in {allowed_signers} (`kavi keygen --add` prints and adds "
            "the line for Kavi's own key) and commit it; nothing was changed"
        ) from None
    return envelope
