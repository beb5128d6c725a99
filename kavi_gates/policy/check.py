"""Check one file's bytes against one policy: parse, walk, rules, suppressions, positions."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache, partial

import libcst as cst

from kavi_gates.codes import policy as codes
from kavi_gates.config import PolicyConfig
from kavi_gates.models import Finding
from kavi_gates.policy.positions import node_positions, run_deep
from kavi_gates.policy.prefilter import Prefilter, trigger_words
from kavi_gates.policy.resolution import ModuleFacts, ResolutionLimit, analyze
from kavi_gates.policy.rule import GATE, Rule, Violation
from kavi_gates.policy.source_checks import decode, finding, syntax_check, unreadable
from kavi_gates.policy.suppress import apply_suppressions


def _parse(source: bytes, path: str) -> cst.Module | list[Finding]:
    """The module, or the findings that say why it cannot be analysed."""
    try:
        return run_deep(lambda: cst.parse_module(source))
    except cst.ParserSyntaxError as err:
        # CPython's parser locates errors better than libcst's; prefer its position.
        precise = syntax_check(source, path)
        if precise:
            return precise
        message = str(err.message).splitlines()[0] if err.message else "invalid syntax"
        if precise == []:  # valid for CPython, beyond libcst (e.g. extreme nesting)
            message = (
                f"valid Python that the policy parser cannot analyse ({message}); "
                "it cannot be checked, so it cannot pass"
            )
        else:
            message = f"file does not parse: {message}"
        where = (err.raw_line, err.raw_column + 1)
        return [finding(codes.PARSE_FAILURE, path, *where, message, "syntax")]
    except (UnicodeDecodeError, LookupError) as err:
        return [finding(codes.UNREADABLE_INPUT, path, 1, 1, f"cannot decode file: {err}", "decode")]
    except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
        message = f"file does not parse: {type(err).__name__}: {err}".rstrip(": ")
        return [finding(codes.PARSE_FAILURE, path, 1, 1, message, "syntax")]


@lru_cache(maxsize=32)
def _prefilter(rules: tuple[type[Rule], ...], policy: PolicyConfig) -> Prefilter:
    return Prefilter(trigger_words((rule.declaration() for rule in rules), policy))


def _collect(rule: Rule, facts: ModuleFacts) -> list[Violation]:
    return list(rule.check(facts))


def _violations(
    module: cst.Module, policy: PolicyConfig, rules: Sequence[type[Rule]]
) -> list[tuple[Rule, Violation]]:
    facts = run_deep(lambda: analyze(module))
    found: list[tuple[Rule, Violation]] = []
    try:
        for rule_class in rules:
            rule = rule_class(policy)
            if rule.enabled():
                found.extend((rule, v) for v in run_deep(partial(_collect, rule, facts)))
    finally:
        facts.release()
    return found


def check_source(
    source: bytes,
    path: str,
    policy: PolicyConfig,
    rules: Sequence[type[Rule]],
    unsuppressible: Sequence[str] = (),
) -> list[Finding]:
    """All policy findings for one file. Rule exceptions propagate (the gate turns them
    into ``status=error``); input problems are findings."""
    problem = unreadable(source, path)
    if problem is not None:
        return problem
    if not _prefilter(tuple(rules), policy).needs_analysis(source):
        quick = syntax_check(source, path)
        if quick is not None:
            return quick
    module = _parse(source, path)
    if isinstance(module, list):
        return module
    return check_module(module, source, path, policy, rules, unsuppressible)


def check_module(
    module: cst.Module,
    source: bytes,
    path: str,
    policy: PolicyConfig,
    rules: Sequence[type[Rule]],
    unsuppressible: Sequence[str] = (),
) -> list[Finding]:
    """The findings for a parsed module (``source``: its bytes): what Kavi does once the
    parser is done."""
    try:
        violations = _violations(module, policy, rules)
    except ResolutionLimit as limit:
        line, col = (1, 1)
        if limit.node is not None:
            line, col = node_positions(module, [limit.node]).get(id(limit.node), (1, 1))
        message = f"{limit}: the file is too complex to check, so it cannot pass"
        return [finding(codes.ANALYSIS_LIMIT, path, line, col, message, "complexity")]
    positions = node_positions(module, [v.node for _, v in violations]) if violations else {}
    text = decode(source)
    lines = text.splitlines()
    findings: dict[tuple[str, int, int], Finding] = {}
    for rule, violation in violations:
        line, col = positions.get(id(violation.node), (1, 1))
        key = (rule.id, line, col)
        if key not in findings:
            anchor = lines[line - 1].strip() if 0 < line <= len(lines) else ""
            findings[key] = Finding(
                gate=GATE, rule=rule.id, path=path, line=line, col=col, message=violation.message
            ).with_fingerprint(anchor)
    locked = {*unsuppressible, *policy.unsuppressible}
    locked.update(rule.id for rule in rules if rule.UNSUPPRESSIBLE)
    return apply_suppressions(text, path, list(findings.values()), {r.id for r in rules}, locked)
