"""The policy gate: cache lookups here, everything else only for the files they miss.

A warm run (every file cached) imports nothing beyond this module: not libcst, not the
rule codes, not the worker processes. The files the cache does not answer go to
``misses.analyse``: trigger-free ones are settled with Python's own parser, the rest are
analysed in forked workers that the gate kills when a file overruns ``policy.file_budget``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kavi_gates.cache import ResultCache, code_fingerprint, default_cache_dir
from kavi_gates.config import PolicyConfig, effective_policy, policy_key
from kavi_gates.errors import UsageError
from kavi_gates.gate import GateContext, GateOutcome
from kavi_gates.models import Finding
from kavi_gates.paths import match_glob

if TYPE_CHECKING:
    from kavi_gates.policy.prefilter import Prefilter

GATE = "policy"
# Up to this many files to analyse, the gate pre-filters them itself, so that a small run
# on trigger-free files (a pre-commit hook) never loads libcst; a larger run leaves that to
# the workers, in parallel, and keeps no file's bytes.
SMALL_RUN = 16


@dataclass(frozen=True)
class Job:
    """A file the cache did not answer."""

    rel: str
    path: str
    policy: int
    """Index into the run's distinct effective policies."""
    size: int


@dataclass
class Run:
    """One run's cache and its distinct effective policies (each with its cache-key text
    and, once needed, its pre-filter)."""

    context: GateContext
    cache: ResultCache
    policies: list[PolicyConfig] = field(default_factory=list)
    keys: list[bytes] = field(default_factory=list)
    prefilters: dict[int, Prefilter] = field(default_factory=dict)
    by_overrides: dict[tuple[int, ...], int] = field(default_factory=dict)

    def policy_for(self, rel: str) -> int:
        config = self.context.config
        matched = tuple(
            i
            for i, override in enumerate(config.overrides)
            if any(match_glob(rel, pattern) for pattern in override.paths)
        )
        index = self.by_overrides.get(matched)
        if index is None:
            policy = effective_policy(config, rel) if matched else config.policy
            index = self.by_overrides[matched] = len(self.policies)
            self.policies.append(policy)
            # The budget says how long to try, not what is found: not part of the key.
            self.keys.append(policy_key(policy))
        return index

    def key_prefix(self, rel: str, policy: int) -> bytes:
        """What precedes a file's bytes in its cache key: its path and its policy."""
        return rel.encode() + b"\0" + self.keys[policy] + b"\0"

    def key(self, rel: str, policy: int, source: bytes) -> str:
        return self.cache.key(self.key_prefix(rel, policy) + source)


class PolicyGate:
    id = GATE

    def check(self, context: GateContext) -> GateOutcome:
        directory = default_cache_dir(context.root, context.config.storage.cache_dir)
        # The cache key covers the code of every module that decides results (rules, the
        # codes' trigger words), not just a version: editing a rule invalidates results.
        fingerprint = code_fingerprint(context.rule_sources, directory)
        run = Run(context, ResultCache(directory, "policy-v2", fingerprint))
        _validate(context)
        findings: list[Finding] = []
        checked: list[str] = []
        misses: list[Job] = []
        sources: dict[str, bytes] = {}
        for path in context.files:
            rel = context.rel(path)
            checked.append(rel)
            try:
                source = path.read_bytes()
            except OSError as err:
                findings.append(_unreadable(rel, err))
                continue
            policy = run.policy_for(rel)
            key = run.key(rel, policy, source)
            found = run.cache.get_findings(key, GATE, rel) if context.use_cache else None
            if found is not None:
                findings.extend(found)
                continue
            misses.append(Job(rel, str(path), policy, len(source)))
            if len(misses) <= SMALL_RUN:
                sources[rel] = source
        if misses:
            findings.extend(analyse_misses(run, misses, sources))
        return GateOutcome(findings=findings, checked=checked, errors=_errors(findings))


def _errors(findings: list[Finding]) -> list[str]:
    """What the gate could not check (KAV006: a rule raised, an analysis died): one line per
    distinct failure, with the files it happened on (each file has its own finding)."""
    if not findings:
        return []
    from kavi_gates.codes.policy import RULE_ERROR

    by_failure: dict[str, list[str]] = {}
    for f in findings:
        if f.rule == RULE_ERROR.id:
            by_failure.setdefault(f.message, []).append(f.path)
    lines = []
    for message, paths in sorted(by_failure.items()):
        shown = ", ".join(sorted(paths)[:_NAMED_FILES])
        more = f" and {len(paths) - _NAMED_FILES} more" if len(paths) > _NAMED_FILES else ""
        lines.append(f"{message} (in {shown}{more})")
    return lines


_NAMED_FILES = 5
"""Files a gate error names per failure (every file still has its own KAV006 finding)."""


def _unreadable(rel: str, err: OSError) -> Finding:
    from kavi_gates.codes.policy import UNREADABLE_INPUT

    message = f"cannot read file: {err.strerror or err}"
    return UNREADABLE_INPUT.finding(rel, message, line=1, col=1)


def _validate(context: GateContext) -> None:
    """Config that names rules names known ones; a third-party plugin's rules are loaded
    and validated on every run, a warm one too (a broken plugin never passes quietly)."""
    wanted = set(context.config.policy.unsuppressible)
    for override in context.config.overrides:
        wanted.update(override.policy.get("unsuppressible", ()))
    from kavi_gates.policy.plugin import BUILTIN_RULE_PLUGIN

    if not wanted and set(context.rule_plugins) <= {BUILTIN_RULE_PLUGIN}:
        return  # the usual case needs no rule codes at all
    from kavi_gates.policy.misses import rule_codes

    known = {code.id for code in rule_codes(context)[0]}
    for rule_id in sorted(wanted - known):
        raise UsageError(f"policy.unsuppressible names unknown rule '{rule_id}'")


def analyse_misses(run: Run, misses: list[Job], sources: dict[str, bytes]) -> list[Finding]:
    """Findings for the files the cache did not answer (tests count what passes here)."""
    from kavi_gates.policy.misses import analyse

    return analyse(run, misses, sources)


__all__ = ["GATE", "Job", "PolicyGate", "Run", "analyse_misses"]
