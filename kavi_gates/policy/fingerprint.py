"""The fingerprint of the code that decides policy results, without re-reading it each run.

The digest covers the bytes of every rule-contributing module (``GateContext.rule_sources``).
Hashing them costs more than a warm run's whole cache lookup, so the digest is remembered
in the cache directory under a key made of each file's path, size, inode and change times:
editing, replacing or reinstalling any of them changes the key, and the bytes are hashed
again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

from kavi_gates.gate import GateContext
from kavi_gates.paths import atomic_write


def _stat_key(sources: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for source in sorted(set(sources)):
        try:
            st = os.stat(source)
            facts = f"{source}\0{st.st_size}\0{st.st_ino}\0{st.st_mtime_ns}\0{st.st_ctime_ns}"
        except OSError:
            facts = f"{source}\0<unreadable>"
        digest.update(facts.encode() + b"\n")
    return digest.hexdigest()


def rules_fingerprint(context: GateContext, cache_dir: Path) -> str:
    """``context.rules_fingerprint()``, remembered across runs while no source changes."""
    memo = cache_dir / "policy-rules" / _stat_key(context.rule_sources)
    try:
        remembered = memo.read_text().strip()
    except OSError:
        remembered = ""
    if len(remembered) == 64:
        return remembered
    fingerprint = context.rules_fingerprint()
    with contextlib.suppress(OSError):  # an unwritable cache only costs the next run time
        atomic_write(memo, fingerprint.encode(), durable=False)
    return fingerprint
