"""DSSE (Dead Simple Signing Envelope, v1.0.0): the pre-authentication encoding and the envelope.

A signature never covers the payload alone but ``PAE(payloadType, payload)``::

    "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body

where ``LEN`` is the ASCII decimal byte length without leading zeros, so neither the type
nor the body can be shifted into the other. The JSON envelope carries the payload and each
signature in base64; readers accept standard and URL-safe base64, as the protocol requires.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kavi_gates.errors import KaviError

MAX_ENVELOPE_BYTES = 1_000_000
"""Envelopes are a few kB; anything far larger is refused before it is parsed."""


class EnvelopeError(KaviError):
    """An envelope that cannot be decoded (not JSON, missing fields, bad base64...)."""


def pae(payload_type: str, payload: bytes) -> bytes:
    """The bytes DSSE signs: ``PAE(UTF8(payload_type), payload)``."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def b64decode(text: str) -> bytes:
    """Decode standard or URL-safe base64 (padding optional); anything else is refused."""
    stripped = text.strip()
    padded = stripped + "=" * (-len(stripped) % 4)
    alphabet = b"-_" if ("-" in stripped or "_" in stripped) else b"+/"
    try:
        return base64.b64decode(padded, altchars=alphabet, validate=True)
    except (binascii.Error, ValueError) as err:
        raise EnvelopeError(f"invalid base64: {err}") from None


def b64encode(data: bytes) -> str:
    """Standard base64 with padding (what the DSSE examples use)."""
    return base64.b64encode(data).decode("ascii")


class Signature(BaseModel):
    """One signature: ``sig`` is base64 of the signature bytes, ``keyid`` an unauthenticated
    hint (here the SSH key's ``SHA256:`` fingerprint, never used to decide anything)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    keyid: str = ""
    sig: str


class Envelope(BaseModel):
    """The DSSE JSON envelope."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    payload_type: str = Field(alias="payloadType")
    payload: str
    signatures: tuple[Signature, ...]

    def payload_bytes(self) -> bytes:
        """The serialized body the signatures cover."""
        return b64decode(self.payload)

    def signed_bytes(self) -> bytes:
        """``PAE(payloadType, payload)``: exactly what each signature was made over."""
        return pae(self.payload_type, self.payload_bytes())

    def to_json(self) -> str:
        """The envelope as it is stored (stable key order, trailing newline)."""
        data = {
            "payloadType": self.payload_type,
            "payload": self.payload,
            "signatures": [{"keyid": s.keyid, "sig": s.sig} for s in self.signatures],
        }
        return json.dumps(data, indent=2) + "\n"


def reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` refusing duplicate keys: two readers must never see two values."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise EnvelopeError(f"duplicate JSON key {key!r}")
        seen[key] = value
    return seen


def strict_json(data: bytes, what: str) -> Any:
    """Parse JSON refusing duplicate keys, with one clear error line naming ``what``."""
    try:
        return json.loads(data.decode("utf-8"), object_pairs_hook=reject_duplicate_keys)
    except EnvelopeError as err:
        raise EnvelopeError(f"{what}: {err}") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise EnvelopeError(f"{what} is not valid JSON: {detail}") from None


def parse_envelope(data: bytes) -> Envelope:
    """An envelope from its stored bytes; any problem is an ``EnvelopeError`` saying which."""
    if len(data) > MAX_ENVELOPE_BYTES:
        raise EnvelopeError(f"envelope is {len(data)} bytes (limit {MAX_ENVELOPE_BYTES})")
    raw = strict_json(data, "envelope")
    if not isinstance(raw, dict):
        raise EnvelopeError("envelope is not a JSON object")
    try:
        envelope = Envelope.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "<root>"
        raise EnvelopeError(f"envelope field '{where}': {first['msg']}") from None
    if not envelope.signatures:
        raise EnvelopeError("envelope has no signatures")
    envelope.payload_bytes()  # fail on bad base64 here, with the envelope named
    return envelope
