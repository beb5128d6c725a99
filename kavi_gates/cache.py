"""Content-addressed result cache: key = file bytes + config digest + Kavi version + the
code that decides results (never a file's mtime).

Findings are stored as compact rows ``[rule, severity, line, col, message, fingerprint]``
(gate and path are the same for every finding of one entry) and read back field by field:
a malformed entry is a miss, never a crash.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kavi_gates import __version__
from kavi_gates.digests import blake2b
from kavi_gates.models import Finding, Severity
from kavi_gates.paths import atomic_write, storage_dir
from kavi_gates.storage import create_storage_dir

Row = list[Any]
_SEVERITIES = {s.value: s for s in Severity}


def default_cache_dir(root: Path, configured: str | None) -> Path:
    """The result cache's directory (``storage.cache_dir``, else ``$XDG_CACHE_HOME/kavi``)."""
    return storage_dir(configured, root, "XDG_CACHE_HOME")


def content_key(data: bytes, salt: str) -> str:
    """The cache key of ``data`` under a cache's ``salt`` (``ResultCache.key``; a worker
    process computes it from the very bytes it analysed)."""
    digest = blake2b(data, digest_size=32)
    digest.update(salt.encode())
    return digest.hexdigest()


class ResultCache:
    """One small JSON file per entry; a corrupt or unreadable entry is a miss, never an error."""

    def __init__(self, directory: Path, namespace: str, salt: str) -> None:
        self.base = directory
        self.directory = directory / namespace
        self.salt = f"{__version__}\0{salt}"

    def key(self, data: bytes) -> str:
        return content_key(data, self.salt)

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> Any | None:
        try:
            return json.loads(self._path(key).read_bytes())
        except (OSError, ValueError):
            return None

    def put(self, key: str, value: Any) -> None:
        path = self._path(key)
        data = json.dumps(value, separators=(",", ":")).encode()
        # A read-only or full cache must never fail a check; an entry is rebuildable, so it
        # is written atomically but not fsynced. A cache directory Kavi creates is marked as
        # Kavi's, so that `kavi reset` may delete it (and nothing it did not create).
        with contextlib.suppress(OSError):
            create_storage_dir(self.base, "cache")
            atomic_write(path, data, durable=False)

    def get_findings(self, key: str, gate: str, path: str) -> list[Finding] | None:
        """The findings stored under ``key`` (None: no entry, or not a well-formed one)."""
        rows = self.get(key)
        return from_rows(gate, path, rows) if rows is not None else None

    def put_findings(self, key: str, findings: Iterable[Finding]) -> None:
        self.put(key, to_rows(findings))


def to_rows(findings: Iterable[Finding]) -> list[Row]:
    """Findings of one gate and path as compact rows."""
    return [[f.rule, f.severity.value, f.line, f.col, f.message, f.fingerprint] for f in findings]


def from_rows(gate: str, path: str, rows: object) -> list[Finding] | None:
    """The findings the rows describe, or None when they are not well-formed rows."""
    if not isinstance(rows, list):
        return None
    found: list[Finding] = []
    for row in rows:
        if not (isinstance(row, list) and len(row) == 6):
            return None
        rule, severity, line, col, message, fingerprint = row
        if not (
            isinstance(rule, str)
            and severity in _SEVERITIES
            and type(line) is int
            and type(col) is int
            and isinstance(message, str)
            and isinstance(fingerprint, str)
        ):
            return None
        found.append(
            Finding(
                gate=gate,
                rule=rule,
                severity=_SEVERITIES[severity],
                path=path,
                line=line,
                col=col,
                message=message,
                fingerprint=fingerprint,
            )
        )
    return found


def _stat_key(sources: Iterable[str]) -> str:
    digest = blake2b(digest_size=32)
    for source in sorted(set(sources)):
        try:
            st = os.stat(source)
            facts = f"{source}\0{st.st_size}\0{st.st_ino}\0{st.st_mtime_ns}\0{st.st_ctime_ns}"
        except OSError:
            facts = f"{source}\0<unreadable>"
        digest.update(facts.encode() + b"\n")
    return digest.hexdigest()


def hash_sources(sources: Iterable[str]) -> str:
    """sha256 over the names and bytes of source files (an unreadable one counts too)."""
    digest = blake2b(digest_size=32)
    for source in sorted(set(sources)):
        digest.update(source.encode())
        try:
            digest.update(Path(source).read_bytes())
        except OSError:
            digest.update(b"<unreadable>")
    return digest.hexdigest()


def code_fingerprint(sources: Iterable[str], cache_dir: Path) -> str:
    """``hash_sources(sources)``, remembered across runs while no source changes.

    Hashing the code costs more than a warm run's whole cache lookup, so the digest is
    kept under a key made of each file's path, size, inode and change times: editing,
    replacing or reinstalling any of them changes the key, and the bytes are hashed again.
    """
    sources = tuple(sources)
    memo = cache_dir / "code" / _stat_key(sources)
    try:
        remembered = memo.read_text().strip()
    except OSError:
        remembered = ""
    if len(remembered) == 64:
        return remembered
    fingerprint = hash_sources(sources)
    with contextlib.suppress(OSError):  # an unwritable cache only costs the next run time
        atomic_write(memo, fingerprint.encode(), durable=False)
    return fingerprint
