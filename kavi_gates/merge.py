"""One finding per place: the findings one gate reports at the same line and column of a
file become one finding that carries every code, the primary first.

``import subprocess`` under the default policy violates two categories (a forbidden import
and a process module): the user sees one finding at that place, coded with the lower id and
carrying the other in ``also``, whose message says what each code found and names both
categories. Every format shows every code (text ``A,B``, JSON ``also``, SARIF
``properties.alsoViolates``, GitHub's title), ``--statistics`` counts the finding for each.

The primary code is the lowest id among them, so which code is primary never depends on
rule order or timing. Merging is the last step of triage (``kavi_gates.triage``): each code
has been judged on its own before (suppressions, ``select``/``ignore``/``per_path_ignores``
and the baseline), so a comment or selector naming one code leaves the others reported, and
a baseline that accepted one code at a place does not accept another that appears there
later. Findings about a whole file (no line) are not merged: each says something different
about the file, not about one place in it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from kavi_gates.models import Code, Finding, GateResult, Severity

Place = tuple[str, int, int]


def merge_findings(
    findings: Sequence[Finding], codes: Callable[[], Mapping[str, Code]] | None = None
) -> tuple[Finding, ...]:
    """The findings with those at one place merged (input order kept, by first finding).
    ``codes``: the finding codes' declarations, for the categories the message names."""
    groups: dict[Place, list[Finding]] = {}
    order: list[Place | int] = []
    for index, finding in enumerate(findings):
        if finding.line <= 0:
            order.append(index)
            continue
        place = (finding.path, finding.line, finding.col)
        group = groups.get(place)
        if group is None:
            groups[place] = [finding]
            order.append(place)
        else:
            group.append(finding)
    out: list[Finding] = []
    for item in order:
        if isinstance(item, int):
            out.append(findings[item])
        else:
            out.append(_merged(groups[item], codes))
    return tuple(out)


def _merged(group: list[Finding], codes: Callable[[], Mapping[str, Code]] | None) -> Finding:
    by_code: dict[str, list[Finding]] = {}
    for finding in group:
        for rule in finding.rules:
            by_code.setdefault(rule, []).append(finding)
    if len(by_code) == 1 and len(group) == 1:
        return group[0]
    ordered = sorted(by_code)
    primary = by_code[ordered[0]][0]
    parts: list[str] = []
    for rule in ordered:
        messages = list(dict.fromkeys(f.message for f in by_code[rule]))
        text = "; ".join(messages)
        parts.append(text if rule == ordered[0] else f"{rule}: {text}")
    message = "; ".join(dict.fromkeys(parts))
    if len(ordered) > 1:
        categories = _categories(ordered, codes)
        if categories:
            message += f" [{' + '.join(categories)}]"
    severity = (
        Severity.ERROR if any(f.severity is Severity.ERROR for f in group) else Severity.WARNING
    )
    return replace(primary, message=message, also=tuple(ordered[1:]), severity=severity)


def _categories(rules: Sequence[str], codes: Callable[[], Mapping[str, Code]] | None) -> list[str]:
    if codes is None:
        return []
    known = codes()
    found = [known[r].category or known[r].gate for r in rules if r in known]
    return list(dict.fromkeys(found))


def merge_results(
    results: Sequence[GateResult], codes: Callable[[], Mapping[str, Code]] | None = None
) -> list[GateResult]:
    """Each gate's findings merged by place (gates are never merged with each other)."""
    out = []
    for result in results:
        merged = merge_findings(result.findings, codes)
        if len(merged) != len(result.findings):
            result = replace(result, findings=merged)
        out.append(result)
    return out
