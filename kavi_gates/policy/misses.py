"""What the policy gate does with the files its cache did not answer.

Unreadable and trigger-free files (no rule could find anything in them) are settled here
with Python's own parser; the rest are analysed in forked workers, largest first, each
killed past its ``policy.file_budget`` (KAV005). The few largest files are parsed one at a
time, each worker giving the memory back after one (``heavy_jobs``): the run's peak memory
is one large parse, not one per worker. A rule that raises, or a worker that
dies, is a KAV006 finding that names the file (and the rule): the run cannot vouch for that
file, so the gate is an error, while every other finding is still reported. Such results
are never cached. Still libcst-free: only the workers' job (``check.check_source``) needs
the parser. A small run with the built-in rules goes to the worker the pre-commit hook
started early (``prestart``), if any: it has loaded the analysis meanwhile.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from kavi_gates.cache import Row, from_rows, to_rows
from kavi_gates.codes import policy as codes
from kavi_gates.errors import UsageError
from kavi_gates.gate import GateContext
from kavi_gates.models import Code, Finding
from kavi_gates.policy.file_job import FileJob, analyse_file
from kavi_gates.policy.gate import GATE, Job, Run
from kavi_gates.policy.plugin import BUILTIN_RULE_PLUGIN
from kavi_gates.policy.prefilter import Prefilter, trigger_words
from kavi_gates.policy.source_checks import finding, syntax_check, unreadable
from kavi_gates.policy.workers import (
    Crashed,
    Done,
    Failed,
    Outcome,
    Overrun,
    discard_prestarted,
    has_prestarted,
    release_memory,
    run_budgeted,
    take_prestarted,
)

if TYPE_CHECKING:
    from kavi_gates.policy.rule import Rule
    from kavi_gates.policy.workers import Worker


def rule_codes(context: GateContext) -> tuple[tuple[Code, ...], tuple[type[Rule], ...] | None]:
    """The codes of the rules that will run, and the rules if they had to be loaded: only a
    third-party plugin's rules (their trigger words only they know) load libcst here."""
    if set(context.rule_plugins) <= {BUILTIN_RULE_PLUGIN}:
        return codes.CODES, None
    rules = load_rules(context)
    return tuple(rule.declaration() for rule in rules), rules


def load_rules(context: GateContext) -> tuple[type[Rule], ...]:
    """The rules every plugin contributes, validated (``kavi_gates.policy.contributed``)."""
    rules = context.policy_rules()
    if not rules:
        raise UsageError("no policy rules are registered (a broken plugin setup)")
    return rules


def analyse(run: Run, misses: list[Job], sources: dict[str, bytes]) -> list[Finding]:
    """Findings for ``misses``; each result is cached except a budget overrun. ``sources``:
    the bytes of the misses when there are few (then they are pre-filtered here)."""
    declared, rules = rule_codes(run.context)
    if len(sources) < len(misses):  # a large run: the workers pre-filter, in parallel
        sources.clear()  # they read their files themselves: nothing held while they work
        return _in_workers(run, misses, rules or load_rules(run.context))
    prefilters: dict[int, Prefilter] = {}
    findings: list[Finding] = []
    rest: list[Job] = []
    for job in misses:
        source = sources[job.rel]
        result = unreadable(source, job.rel)
        prefilter = prefilters.get(job.policy)
        if prefilter is None:
            words = trigger_words(declared, run.policies[job.policy])
            prefilter = prefilters[job.policy] = Prefilter(words)
        if result is None and not prefilter.needs_analysis(source):
            result = syntax_check(source, job.rel)
        if result is None:
            rest.append(job)
            continue
        run.cache.put_findings(run.key(job.rel, job.policy, source), result)
        findings.extend(result)
    sources.clear()  # the workers read their files themselves
    if rest:
        if rules is None and has_prestarted():
            # The built-in rules are never loaded here (libcst): of what validating them
            # checks (kavi_gates.policy.contributed), only that no plugin declares one of
            # their ids can change between runs, and their declarations are the policy
            # codes: indexing every declared code checks exactly that.
            run.context.finding_codes()
            findings.extend(_in_prestarted(run, rest, take_prestarted()))
        else:
            discard_prestarted()
            findings.extend(_in_workers(run, rest, rules or load_rules(run.context)))
    return findings


def _in_prestarted(run: Run, jobs: list[Job], prestarted: list[Worker]) -> list[Finding]:
    ordered = sorted(jobs, key=lambda job: job.size, reverse=True)
    work = [
        (
            FileJob(
                path=job.path,
                rel=job.rel,
                policy=run.policies[job.policy],
                key_prefix=run.key_prefix(job.rel, job.policy),
                cache=run.cache,
            ),
            run.policies[job.policy].file_budget,
        )
        for job in ordered
    ]
    # A small run: the prestarted workers alone (a fresh one would first import libcst).
    return _collect(ordered, run_budgeted(analyse_file, work, len(prestarted), prestarted))


def _in_workers(run: Run, jobs: list[Job], rules: tuple[type[Rule], ...]) -> list[Finding]:
    from kavi_gates.policy.check import check_source  # libcst: only for real work

    # Largest first: the longest files must not be the last ones started.
    ordered = sorted(jobs, key=lambda job: job.size, reverse=True)
    budgets = [(job, run.policies[job.policy].file_budget) for job in ordered]
    processes = run.context.jobs or os.cpu_count() or 1
    heavy = heavy_jobs([job.size for job in ordered], processes)
    release_at = min((ordered[i].size for i in heavy), default=1 << 62)

    def work(job: Job) -> list[Row]:
        source = Path(job.path).read_bytes()
        found = check_source(source, job.rel, run.policies[job.policy], rules)
        rows = to_rows(found)
        # Cached here, in parallel: the pool's process only collects the answers. A rule's
        # failure is not cached: the next run tries the file again.
        if not any(f.rule == codes.RULE_ERROR.id for f in found):
            run.cache.put(run.key(job.rel, job.policy, source), rows)
        if len(source) >= release_at:
            release_memory()  # what the parse of a heavy file used: not kept for the rest
        return rows

    return _collect(ordered, run_budgeted(work, budgets, processes, heavy=heavy))


HEAVY_BYTES = 64 * 1024
"""libcst's parser holds ~270 bytes of memory per byte of source (32 MiB for a 120 KB
file), and glibc keeps what it freed: a worker that parsed a large file stays that large."""


def heavy_jobs(sizes: list[int], processes: int) -> frozenset[int]:
    """Which of the files (``sizes``, largest first) are parsed one at a time: those of at
    least ``HEAVY_BYTES`` and half the largest, as long as they are no more than one
    worker's share of the run (one at a time, they must not make it longer)."""
    if processes < 2 or not sizes:
        return frozenset()
    floor = max(HEAVY_BYTES, sizes[0] // 2)
    share = sum(sizes) // processes
    heavy: list[int] = []
    total = 0
    for index, size in enumerate(sizes):
        if size < floor or total + size > share:
            break
        heavy.append(index)
        total += size
    return frozenset(heavy) if len(heavy) > 1 else frozenset()


def _collect(ordered: list[Job], outcomes: Iterable[tuple[int, Outcome]]) -> list[Finding]:
    """The findings of every outcome: a budget overrun is KAV005, a failure KAV006."""
    findings: list[Finding] = []
    for index, outcome in outcomes:
        job = ordered[index]
        if isinstance(outcome, Done):
            findings.extend(from_rows(GATE, job.rel, outcome.value) or ())
        elif isinstance(outcome, Overrun):
            message = (
                f"parse and analysis took longer than {outcome.budget:g} s "
                "(policy.file_budget): the file cannot be checked, so it cannot pass"
            )
            findings.append(finding(codes.ANALYSIS_LIMIT, job.rel, 0, 0, message, "budget"))
        elif isinstance(outcome, Failed):
            findings.append(_engine_failure(job.rel, f"the analysis raised {outcome.error}"))
        elif isinstance(outcome, Crashed):
            died = f"the analysis process died ({outcome.detail})"
            findings.append(_engine_failure(job.rel, died))
        else:  # never a silent pass
            findings.append(_engine_failure(job.rel, f"no result from the analysis ({outcome!r})"))
    return findings


def _engine_failure(rel: str, why: str) -> Finding:
    """KAV006 for a file whose whole analysis failed (no single rule to name)."""
    message = f"{why}: nothing in this file could be checked"  # no rule to name: all of them
    return finding(codes.RULE_ERROR, rel, 0, 0, message, "analysis-error")
