"""A baseline: the findings a legacy repository accepts today, so that only new ones fail.

Entries are keyed on the findings' fingerprints (gate, code, path and the anchor text: for
policy findings the source line, never the line number), so code that moves within a file
stays matched, and an edited line is a new finding. Identical findings in one file (two
``eval(x)`` lines) share a fingerprint; the baseline keeps their count, so a third one is
new. The file is JSON, sorted, one entry per fingerprint, readable in a review.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from kavi_gates import __version__
from kavi_gates.errors import ConfigError
from kavi_gates.models import Finding
from kavi_gates.paths import atomic_write


class BaselineEntry(BaseModel):
    """One accepted finding (``count`` identical ones)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fingerprint: str
    rule: str
    path: str
    message: str
    count: int = 1


class Baseline(BaseModel):
    """The file ``kavi check --write-baseline`` writes and ``--baseline`` reads."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = 1
    kavi_version: str = __version__
    findings: tuple[BaselineEntry, ...] = ()

    def counts(self) -> Counter[str]:
        """How many findings of each fingerprint are accepted."""
        counts: Counter[str] = Counter()
        for entry in self.findings:
            counts[entry.fingerprint] += entry.count
        return counts


def build_baseline(findings: Iterable[Finding]) -> Baseline:
    """A baseline accepting exactly these findings."""
    grouped: dict[str, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(finding.fingerprint, []).append(finding)
    entries = [
        BaselineEntry(
            fingerprint=fingerprint,
            rule=group[0].rule,
            path=group[0].path,
            message=group[0].message,
            count=len(group),
        )
        for fingerprint, group in grouped.items()
    ]
    entries.sort(key=lambda e: (e.path, e.rule, e.fingerprint))
    return Baseline(findings=tuple(entries))


def write_baseline(path: Path, findings: Sequence[Finding]) -> Baseline:
    """Write a baseline of ``findings`` to ``path`` atomically (mode 0644)."""
    if path.is_dir():
        raise ConfigError(f"baseline {path} is a directory; name a file")
    baseline = build_baseline(findings)
    text = json.dumps(baseline.model_dump(mode="json"), indent=2, sort_keys=False) + "\n"
    try:
        atomic_write(path, text.encode("utf-8"), mode=0o644)
    except OSError as err:
        raise ConfigError(f"cannot write baseline {path}: {err.strerror or err}") from None
    return baseline


def read_baseline(path: Path) -> Baseline:
    """Read a baseline; a missing or malformed file is a configuration error (exit 2)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"baseline not found: {path} (write one with kavi check --write-baseline {path})"
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read baseline {path}: {err}") from None
    try:
        return Baseline.model_validate_json(text)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "<root>"
        raise ConfigError(f"{path}: not a Kavi baseline ({where}: {first['msg']})") from None
