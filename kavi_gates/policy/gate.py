"""The policy gate: cache lookups, the pre-filter, budgeted workers for the rest.

Nothing here imports libcst: a warm run (every file cached) and a run on trigger-free files
never load it. Files that need the full analysis go to forked workers that the gate kills
when a file overruns ``policy.file_budget`` (``workers.py``); the workers read each file
themselves and answer with compact rows, which the cache stores as they are.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kavi_gates.cache import (
    ResultCache,
    Row,
    code_fingerprint,
    default_cache_dir,
    from_rows,
    to_rows,
)
from kavi_gates.codes import policy as codes
from kavi_gates.config import NOT_POLICY, KaviConfig, PolicyConfig, effective_policy
from kavi_gates.errors import UsageError
from kavi_gates.gate import GateContext, GateOutcome
from kavi_gates.models import Code, Finding
from kavi_gates.paths import match_glob
from kavi_gates.policy.prefilter import Prefilter, trigger_words
from kavi_gates.policy.source_checks import finding, syntax_check, unreadable
from kavi_gates.policy.workers import Crashed, Done, Failed, Overrun, run_budgeted

if TYPE_CHECKING:
    from kavi_gates.policy.rule import Rule

GATE = "policy"
BUILTIN_RULE_PLUGIN = "kavi_gates.policy.plugin"
"""The plugin whose rules the policy codes describe (``kavi_gates.codes.policy``)."""
# Up to this many files to analyse, the gate pre-filters them itself, so that a small run
# on trigger-free files (a pre-commit hook) never loads libcst; larger runs leave it to the
# workers, in parallel.
SMALL_RUN = 16


class AnalysisError(Exception):
    """A file's analysis raised or its worker died: the gate cannot vouch for the run."""


@dataclass(frozen=True)
class _Job:
    rel: str
    path: str
    policy: int
    """Index into the run's distinct effective policies."""
    size: int


@dataclass
class _Run:
    """One run's distinct effective policies, their cache-key text and pre-filters."""

    config: KaviConfig
    cache: ResultCache
    codes: tuple[Code, ...]
    policies: list[PolicyConfig]
    keys: list[bytes]
    prefilters: dict[int, Prefilter]
    by_overrides: dict[tuple[int, ...], int]

    def policy_for(self, rel: str) -> int:
        matched = tuple(
            i
            for i, override in enumerate(self.config.overrides)
            if any(match_glob(rel, pattern) for pattern in override.paths)
        )
        index = self.by_overrides.get(matched)
        if index is None:
            policy = effective_policy(self.config, rel) if matched else self.config.policy
            index = self.by_overrides[matched] = len(self.policies)
            self.policies.append(policy)
            # The budget says how long to try, not what is found: not part of the key.
            self.keys.append(policy.model_dump_json(exclude=set(NOT_POLICY)).encode())
        return index

    def key(self, rel: str, policy: int, source: bytes) -> str:
        return self.cache.key(rel.encode() + b"\0" + self.keys[policy] + b"\0" + source)

    def prefilter(self, policy: int) -> Prefilter:
        found = self.prefilters.get(policy)
        if found is None:
            words = trigger_words(self.codes, self.policies[policy])
            found = self.prefilters[policy] = Prefilter(words)
        return found


class PolicyGate:
    id = GATE

    def check(self, context: GateContext) -> GateOutcome:
        directory = default_cache_dir(context.root, context.config.storage.cache_dir)
        # The cache key covers the code of every module that decides results (rules, the
        # codes' trigger words), not just a version: editing a rule invalidates results.
        fingerprint = code_fingerprint(context.rule_sources, directory)
        cache = ResultCache(directory, "policy-v2", fingerprint)
        rule_codes, rules = self._rule_codes(context)
        self._validate(context, rule_codes)
        run = _Run(context.config, cache, rule_codes, [], [], {}, {})
        findings: list[Finding] = []
        checked: list[str] = []
        misses: list[_Job] = []
        sources: dict[str, bytes] = {}
        for path in context.files:
            rel = context.rel(path)
            checked.append(rel)
            try:
                source = path.read_bytes()
            except OSError as err:
                message = f"cannot read file: {err.strerror or err}"
                findings.append(codes.UNREADABLE_INPUT.finding(rel, message, line=1, col=1))
                continue
            policy = run.policy_for(rel)
            key = run.key(rel, policy, source)
            found = cache.get_findings(key, GATE, rel) if context.use_cache else None
            if found is not None:
                findings.extend(found)
                continue
            misses.append(_Job(rel, str(path), policy, len(source)))
            if len(misses) <= SMALL_RUN:
                sources[rel] = source
        if misses:
            findings.extend(analyse_misses(run, misses, sources, rules, context))
        return GateOutcome(findings=findings, checked=checked)

    def _rule_codes(
        self, context: GateContext
    ) -> tuple[tuple[Code, ...], tuple[type[Rule], ...] | None]:
        """The codes of the rules that will run; loading rules (and libcst) only when a
        third-party plugin contributes some, whose trigger words only they know."""
        if set(context.rule_plugins) <= {BUILTIN_RULE_PLUGIN}:
            return codes.CODES, None
        rules = _load_rules(context)
        return tuple(rule.declaration() for rule in rules), rules

    @staticmethod
    def _validate(context: GateContext, rule_codes: tuple[Code, ...]) -> None:
        wanted = set(context.config.policy.unsuppressible)
        for override in context.config.overrides:
            wanted.update(override.policy.get("unsuppressible", ()))
        known = {code.id for code in rule_codes}
        for rule_id in sorted(wanted - known):
            raise UsageError(f"policy.unsuppressible names unknown rule '{rule_id}'")


def _check_here(
    run: _Run, misses: list[_Job], sources: dict[str, bytes], findings: list[Finding]
) -> list[_Job]:
    """Settle what needs no libcst (unreadable or trigger-free files); the rest."""
    rest: list[_Job] = []
    for job in misses:
        source = sources[job.rel]
        result = unreadable(source, job.rel)
        if result is None and not run.prefilter(job.policy).needs_analysis(source):
            result = syntax_check(source, job.rel)
        if result is None:
            rest.append(job)
            continue
        run.cache.put_findings(run.key(job.rel, job.policy, source), result)
        findings.extend(result)
    return rest


def _analyse(
    run: _Run, misses: list[_Job], rules: tuple[type[Rule], ...], context: GateContext
) -> list[Finding]:
    from kavi_gates.policy.check import check_source  # libcst: only for real work

    def work(job: _Job) -> tuple[str, list[Row]]:
        source = Path(job.path).read_bytes()
        policy = run.policies[job.policy]
        found = check_source(source, job.rel, policy, rules)
        return run.key(job.rel, job.policy, source), to_rows(found)

    # Largest first: the longest files must not be the last ones started.
    ordered = sorted(misses, key=lambda job: job.size, reverse=True)
    budgets = [(job, run.policies[job.policy].file_budget) for job in ordered]
    processes = context.jobs or os.cpu_count() or 1
    findings: list[Finding] = []
    errors: list[str] = []
    for index, outcome in run_budgeted(work, budgets, processes):
        job = ordered[index]
        if isinstance(outcome, Done):
            key, rows = outcome.value
            run.cache.put(key, rows)
            findings.extend(from_rows(GATE, job.rel, rows) or ())
        elif isinstance(outcome, Overrun):
            message = (
                f"parse and analysis took longer than {outcome.budget:g} s "
                "(policy.file_budget): the file cannot be checked, so it cannot pass"
            )
            findings.append(finding(codes.ANALYSIS_LIMIT, job.rel, 0, 0, message, "budget"))
        elif isinstance(outcome, Failed):
            errors.append(f"{job.rel}: {outcome.error}")
        elif isinstance(outcome, Crashed):
            errors.append(f"{job.rel}: the analysis process died ({outcome.detail})")
        else:  # never a silent pass
            errors.append(f"{job.rel}: no result from the analysis ({outcome!r})")
    if errors:
        raise AnalysisError("; ".join(sorted(errors)))
    return findings


def _load_rules(context: GateContext) -> tuple[type[Rule], ...]:
    from kavi_gates.policy.rule import Rule

    rules = tuple(r for r in context.policy_rules() if isinstance(r, type) and issubclass(r, Rule))
    if not rules:
        raise UsageError("no policy rules are registered (a broken plugin setup)")
    return rules


def analyse_misses(
    run: _Run,
    misses: list[_Job],
    sources: dict[str, bytes],
    rules: tuple[type[Rule], ...] | None,
    context: GateContext,
) -> list[Finding]:
    """Findings for the files the cache did not answer (tests count what passes here)."""
    findings: list[Finding] = []
    if len(misses) <= SMALL_RUN:
        misses = _check_here(run, misses, sources, findings)
    if misses:
        findings.extend(_analyse(run, misses, rules or _load_rules(context), context))
    return findings


__all__ = ["AnalysisError", "PolicyGate", "analyse_misses"]
