"""Check one file's bytes against one policy: parse, walk, rules, suppressions, positions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, partial

import libcst as cst

from kavi_gates.codes import policy as codes
from kavi_gates.config_policy import PolicyConfig
from kavi_gates.lines import split_lines
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
        return run_deep(lambda: cst.parse_module(decode(source)))  # read as Python reads it
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
    found = list(rule.check(facts))
    for item in found:  # a malformed result is the rule's failure, not the engine's
        if not (
            isinstance(item, Violation)
            and isinstance(item.node, cst.CSTNode)
            and isinstance(item.message, str)
        ):
            raise TypeError(f"check() yielded {item!r}, not a Violation(node, message)")
    return found


@dataclass(frozen=True)
class RuleFailure:
    """A rule that raised while checking one file: what it would find there is unknown."""

    rule_id: str
    error: str
    """``Type: first line of the message``."""

    @classmethod
    def of(cls, rule_class: type[Rule], err: BaseException) -> RuleFailure:
        detail = str(err).splitlines()[0] if str(err) else ""
        return cls(
            getattr(rule_class, "id", rule_class.__name__),
            f"{type(err).__name__}: {detail}".rstrip(": "),
        )


def _violations(
    module: cst.Module, policy: PolicyConfig, rules: Sequence[type[Rule]]
) -> tuple[list[tuple[Rule, Violation]], list[RuleFailure]]:
    """Every rule's violations; a rule that raises is a failure of that rule on this file,
    and the other rules' violations stand (a plugin's bug must not hide anything else)."""
    facts = run_deep(lambda: analyze(module))
    found: list[tuple[Rule, Violation]] = []
    failures: list[RuleFailure] = []
    try:
        for rule_class in rules:
            try:
                rule = rule_class(policy)
                if rule.enabled():
                    found.extend((rule, v) for v in run_deep(partial(_collect, rule, facts)))
            except ResolutionLimit:
                raise  # the file is beyond the analysis: KAV005 for the whole file
            except (Exception, SystemExit) as err:  # anything else is that rule's failure
                failures.append(RuleFailure.of(rule_class, err))
    finally:
        facts.release()
    return found, failures


def check_source(
    source: bytes,
    path: str,
    policy: PolicyConfig,
    rules: Sequence[type[Rule]],
    unsuppressible: Sequence[str] = (),
) -> list[Finding]:
    """All policy findings for one file. Input problems are findings; a rule that raises is
    a KAV006 finding naming the rule (the gate turns it into ``status=error``)."""
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
    text = decode(source)
    try:
        violations, failures = _violations(module, policy, rules)
    except ResolutionLimit as limit:
        line, col = (0, 0)
        if limit.node is not None:
            line, col, _ = node_positions(module, [limit.node], text).get(id(limit.node), (0, 0, 0))
        message = f"{limit}: the file is too complex to check, so it cannot pass"
        return [finding(codes.ANALYSIS_LIMIT, path, line, col, message, "complexity")]
    nodes = [v.node for _, v in violations]
    positions = node_positions(module, nodes, text) if violations else {}
    lines = split_lines(text)
    findings: dict[tuple[str, int, int], Finding] = {}
    # A fingerprint hashes the statement the finding is in: once per rule and statement,
    # not once per finding (a thousand findings on one long line would hash it a thousand
    # times).
    fingerprints: dict[tuple[str, int, int], str] = {}
    for rule, violation in violations:
        # A node that cannot be placed for certain is a finding about the whole file (line
        # 0): no suppression comment covers it, and its fingerprint hashes the file.
        line, col, last = positions.get(id(violation.node), (0, 0, 0))
        key = (rule.id, line, col) if line else (rule.id, 0, id(violation.node))
        if key in findings:
            continue
        message = violation.message
        shared = fingerprints.get((rule.id, line, last))
        if shared is not None:
            found = Finding(
                gate=GATE,
                rule=rule.id,
                path=path,
                line=line,
                col=col,
                message=message,
                fingerprint=shared,
            )
        else:
            if line:
                anchor = _anchor(lines, line, last)
            else:  # not placed: tied to this very text (an edit makes it new again)
                anchor = f"\0{module.code_for_node(violation.node)}\0{text}"
            found = Finding(
                gate=GATE, rule=rule.id, path=path, line=line, col=col, message=message
            ).with_fingerprint(anchor)
            if anchor and line:  # without one the message is hashed, and it differs
                fingerprints[rule.id, line, last] = found.fingerprint
        findings[key] = found
    locked = {*unsuppressible, *policy.unsuppressible, codes.RULE_ERROR.id}
    locked.update(rule.id for rule in rules if rule.UNSUPPRESSIBLE)
    known = {r.id for r in rules} | {codes.RULE_ERROR.id}
    # A rule that failed here cannot say whether a suppression of its code is used.
    unjudged = {failure.rule_id for failure in failures}
    kept = apply_suppressions(text, path, list(findings.values()), known, locked, unjudged)
    return kept + [_failure_finding(path, failure) for failure in failures]


def _anchor(lines: list[str], line: int, last: int) -> str:
    """What a finding's fingerprint hashes (so that a baseline accepts it, and only it,
    wherever it moves): its line, and the rest of the statement holding it when that goes
    on (the arguments of a call written over several lines)."""
    if last <= line:  # one line (or a compound statement's header: its first line)
        return lines[line - 1].strip() if line <= len(lines) else ""
    return "\n".join(text.strip() for text in lines[line - 1 : last])


def _failure_finding(path: str, failure: RuleFailure) -> Finding:
    message = (
        f"rule {failure.rule_id} raised {failure.error}: what it would find in this file is unknown"
    )
    return finding(codes.RULE_ERROR, path, 0, 0, message, f"rule-error:{failure.rule_id}")
