"""SHA-256 and BLAKE2b without OpenSSL, for the hashing on the policy gate's path.

Importing ``hashlib`` loads OpenSSL's libcrypto: ~4 MiB of memory in a process and ~11 M
instructions (3 ms), more than the policy gate's own hashing of a pre-commit run. CPython
carries both functions itself, and these are those (``hashlib`` returns the same digests).
Cache keys hash every scanned file's bytes, so they use BLAKE2b, which CPython's own code
computes at ~5x its SHA-256's speed; SHA-256 remains where a digest is a stored format (a
config's digest in the registry, a finding's fingerprint in a baseline). Hash pinning and
the runtime, which hash whole skill trees, keep ``hashlib`` and OpenSSL's faster SHA-256.
"""

from __future__ import annotations

from _blake2 import blake2b
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from _hashlib import HASH

try:  # CPython's own implementation: _sha256 on 3.11, _sha2 from 3.12
    from _sha256 import sha256 as _sha256  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - Python >= 3.12, or another implementation
    try:
        from _sha2 import sha256 as _sha256  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        from hashlib import sha256 as _sha256


class _Constructor(Protocol):
    def __call__(self, data: bytes = b"", /) -> HASH: ...


sha256: _Constructor = _sha256
"""``hashlib.sha256``'s digests, from CPython's own code."""

__all__ = ["blake2b", "sha256"]
