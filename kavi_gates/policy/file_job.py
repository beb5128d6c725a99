"""A prestarted worker's job: one file, everything its analysis needs, picklable.

Apart from ``misses`` so that the worker the pre-commit hook starts early loads only the
analysis (``check``, the built-in rules, the result cache and the policy's settings), not
the gate's machinery or the rest of the configuration, which the hook loads meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kavi_gates.cache import ResultCache, Row, to_rows
from kavi_gates.codes import policy as codes
from kavi_gates.config_policy import PolicyConfig


@dataclass(frozen=True)
class FileJob:
    """One file for a prestarted worker: everything ``analyse_file`` needs, picklable."""

    path: str
    rel: str
    policy: PolicyConfig
    key_prefix: bytes
    """What precedes the file's bytes in its cache key (``Run.key``)."""
    cache: ResultCache


def analyse_file(job: FileJob) -> list[Row]:
    """The built-in rules on one file, cached as ``misses`` caches a worker's results (from
    the very bytes analysed); its rows."""
    from kavi_gates.policy.check import check_source
    from kavi_gates.policy.rules import BUILTIN_RULES

    source = Path(job.path).read_bytes()
    found = check_source(source, job.rel, job.policy, BUILTIN_RULES)
    rows = to_rows(found)
    if not any(f.rule == codes.RULE_ERROR.id for f in found):
        job.cache.put(job.cache.key(job.key_prefix + source), rows)
    return rows
