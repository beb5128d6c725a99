"""The policy path's hashes (CPython's own code, no OpenSSL) give hashlib's digests: config
digests in registries and fingerprints in baselines are stored formats."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from kavi_gates import digests


@pytest.mark.parametrize("data", [b"", b"abc", bytes(range(256)) * 300, "é\u2028".encode()])
def test_sha256_is_hashlibs(data: bytes) -> None:
    assert digests.sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
    parts = digests.sha256()
    for i in range(0, len(data), 7):
        parts.update(data[i : i + 7])
    assert parts.hexdigest() == hashlib.sha256(data).hexdigest()


def test_blake2b_is_hashlibs() -> None:
    data = bytes(range(256)) * 40
    assert digests.blake2b(data, digest_size=32).hexdigest() == (
        hashlib.blake2b(data, digest_size=32).hexdigest()
    )


def test_the_policy_path_does_not_load_openssl() -> None:
    """Not a speed claim: what ``kavi_gates.digests`` is for (a fresh interpreter's
    sys.modules after hashing through it)."""
    probe = (
        "import sys\nfrom kavi_gates import digests, cache\n"
        "digests.sha256(b'x').hexdigest(); cache.content_key(b'x', 'salt')\n"
        "print('_hashlib' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stdout + done.stderr
