"""Signed promotions: an in-toto Statement in a DSSE envelope, signed with an SSH key.

``kavi promote`` signs :func:`kavi_gates.statement.statement_for` of the registry entry it
writes and stores the envelope at ``<registry dir>/attestations/<skill>.intoto.json``; the
entry's ``attestation`` field names that file. Everything that trusts an entry (the hash-pin
gate, ``kavi run``/chain/replay, ``kavi skills``, ``kavi doctor``) calls
:func:`verify_entry_attestation`: the entry must be covered by an envelope whose signature
``ssh-keygen -Y verify`` accepts for the recorded approver against the project's allowed
signers, over exactly the entry's pins and fields. Findings:

- KAV810 the entry names no attestation, or its file does not exist
- KAV811 the attestation is not a readable DSSE envelope holding a Kavi promotion statement
- KAV812 no signature verifies for the approver against the allowed signers (edited after
  signing, a key not in the allowed signers, no allowed-signers file...)
- KAV813 the attestation is a statement for another skill
- KAV814 the attested subjects differ from the entry's pins
- KAV815 another field of the entry differs from the attested one (class, side-effect
  class, secrets, hosts, policy digest, verification, approver, time, path)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from kavi_gates.codes import Code
from kavi_gates.codes import hash_pin as codes
from kavi_gates.dsse import Envelope, EnvelopeError, Signature, b64decode, b64encode, parse_envelope
from kavi_gates.errors import EXIT_FINDINGS, KaviError
from kavi_gates.models import Finding
from kavi_gates.paths import atomic_write
from kavi_gates.registry import RegistryEntry
from kavi_gates.sshsig import NAMESPACE, sig_info, sign, verify
from kavi_gates.statement import (
    PAYLOAD_TYPE,
    CheckResult,
    Statement,
    Suppression,
    approver_hint,
    entry_mismatches,
    parse_statement,
    statement_for,
)

ATTESTATIONS_DIR = "attestations"
SUFFIX = ".intoto.json"

__all__ = [
    "AttestationRefused",
    "CheckResult",
    "Suppression",
    "attest_entry",
    "attestation_path",
    "read_attestation",
    "require_entry_attestation",
    "sign_statement",
    "verify_entry_attestation",
    "verify_envelope",
    "write_attestation",
]


class AttestationRefused(KaviError):
    """An entry is not covered by a valid signed promotion: it must not be trusted."""

    exit_code = EXIT_FINDINGS

    def __init__(self, code: Code, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.code = code
        self.path = path
        self.detail = message

    @property
    def rule(self) -> str:
        """The finding code's id (KAV810-KAV815)."""
        return self.code.id

    def finding(self) -> Finding:
        """The refusal as a hash-pin finding."""
        return self.code.finding(self.path, self.detail)


def attestation_path(registry: str, name: str) -> str:
    """Where a skill's attestation lives: ``<registry dir>/attestations/<name>.intoto.json``."""
    return str(PurePosixPath(registry).parent / ATTESTATIONS_DIR / f"{name}{SUFFIX}")


def sign_statement(statement: Statement, key: Path) -> Envelope:
    """A DSSE envelope of ``statement`` signed over its PAE with the SSH key ``key``."""
    payload = statement.to_payload()
    unsigned = Envelope(payloadType=PAYLOAD_TYPE, payload=b64encode(payload), signatures=())
    blob = sign(unsigned.signed_bytes(), key, NAMESPACE)
    signature = Signature(keyid=sig_info(blob).fingerprint, sig=b64encode(blob))
    return unsigned.model_copy(update={"signatures": (signature,)})


def attest_entry(
    name: str,
    entry: RegistryEntry,
    key: Path,
    *,
    results: Sequence[CheckResult] = (),
    suppressions: Sequence[Suppression] = (),
) -> Envelope:
    """Sign the promotion of a complete registry entry (pins and provenance filled in)."""
    statement = statement_for(name, entry, results=tuple(results), suppressions=tuple(suppressions))
    return sign_statement(statement, key)


def write_attestation(path: Path, envelope: Envelope) -> None:
    """Write an envelope atomically; mode 0644: a public file meant to be committed."""
    atomic_write(path, envelope.to_json().encode("utf-8"), mode=0o644)


def verify_envelope(envelope: Envelope, allowed_signers: Path, where: str) -> Statement:
    """The statement of an envelope one of whose signatures ``ssh-keygen -Y verify`` accepts
    for the statement's approver; otherwise ``AttestationRefused`` (KAV811/KAV812)."""
    if envelope.payload_type != PAYLOAD_TYPE:
        raise AttestationRefused(
            codes.ATTESTATION_UNREADABLE,
            where,
            f"payloadType is {envelope.payload_type!r}, not {PAYLOAD_TYPE}",
        )
    try:
        payload = envelope.payload_bytes()
        approver = approver_hint(payload)
    except EnvelopeError as err:
        raise AttestationRefused(codes.ATTESTATION_UNREADABLE, where, str(err)) from None
    if not allowed_signers.is_file():
        raise AttestationRefused(
            codes.BAD_SIGNATURE,
            where,
            f"cannot verify: the allowed signers file {allowed_signers} does not exist "
            "(commit it; `attestation.allowed_signers` names it)",
        )
    signed = envelope.signed_bytes()
    reasons: list[str] = []
    for signature in envelope.signatures:
        try:
            blob = b64decode(signature.sig)
        except EnvelopeError as err:
            reasons.append(f"signature is not base64: {err}")
            continue
        verdict = verify(signed, blob, allowed_signers=allowed_signers, principal=approver)
        if verdict.ok:
            try:
                return parse_statement(payload)
            except EnvelopeError as err:
                raise AttestationRefused(codes.ATTESTATION_UNREADABLE, where, str(err)) from None
        reasons.append(verdict.reason)
    raise AttestationRefused(
        codes.BAD_SIGNATURE, where, f"no valid signature: {'; '.join(reasons)}"
    )


def read_attestation(root: Path, rel: str) -> Envelope:
    """The envelope stored at ``rel`` (a regular file, never a symlink), or a refusal."""
    path = root / rel
    if path.is_symlink():
        raise AttestationRefused(
            codes.ATTESTATION_UNREADABLE, rel, "attestation is a symlink; refusing to follow it"
        )
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        raise AttestationRefused(codes.UNATTESTED, rel, "attestation file does not exist") from None
    except OSError as err:
        raise AttestationRefused(
            codes.ATTESTATION_UNREADABLE, rel, f"cannot read attestation: {err}"
        ) from None
    try:
        return parse_envelope(data)
    except EnvelopeError as err:
        raise AttestationRefused(codes.ATTESTATION_UNREADABLE, rel, str(err)) from None


def require_entry_attestation(
    name: str, entry: RegistryEntry, root: Path, allowed_signers: Path
) -> Statement:
    """The verified statement covering ``entry`` exactly, or ``AttestationRefused``.

    ``ssh-keygen`` missing is ``SshKeygenMissing`` (exit 2), never a pass.
    """
    if entry.attestation is None:
        raise AttestationRefused(
            codes.UNATTESTED,
            entry.path,
            f"registry entry {name!r} has no attestation: it was not promoted by a signed "
            "`kavi promote` (hand-written or edited registry?)",
        )
    envelope = read_attestation(root, entry.attestation)
    statement = verify_envelope(envelope, allowed_signers, entry.attestation)
    differences = entry_mismatches(name, entry, statement)
    for kind, code in (
        ("skill", codes.OTHER_SKILL),
        ("pins", codes.ATTESTED_PINS_DIFFER),
        ("fields", codes.ATTESTED_FIELDS_DIFFER),
    ):
        if kind in differences:
            what = "" if kind == "skill" else "registry entry differs from its attestation: "
            raise AttestationRefused(
                code, entry.attestation, f"{name}: {what}{'; '.join(differences[kind])}"
            )
    return statement


def verify_entry_attestation(
    name: str, entry: RegistryEntry, root: Path, allowed_signers: Path
) -> list[Finding]:
    """Hash-pin findings (KAV810-KAV815) for one entry; empty when a signed promotion by an
    allowed signer covers exactly its pins and fields."""
    try:
        require_entry_attestation(name, entry, root, allowed_signers)
    except AttestationRefused as err:
        return [err.finding()]
    return []
