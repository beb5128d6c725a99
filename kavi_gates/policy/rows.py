"""Findings as the workers send them and the cache stores them: compact rows, not dicts.

A row is ``[rule, severity, line, col, message, fingerprint]``; the gate and the path are
the same for every finding of one file, so they are not repeated. Rows read back from the
cache are checked field by field: a malformed entry is a cache miss, never a crash.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kavi_gates.models import Finding, Severity

Row = list[Any]
GATE = "policy"
_SEVERITIES = {s.value: s for s in Severity}


def to_rows(findings: Iterable[Finding]) -> list[Row]:
    return [[f.rule, f.severity.value, f.line, f.col, f.message, f.fingerprint] for f in findings]


def from_rows(path: str, rows: object) -> list[Finding] | None:
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
        # Checked above, so no second validation: this runs for every cached finding.
        found.append(
            Finding.model_construct(
                gate=GATE,
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
