"""``# kavi: allow[KAV123] reason`` — on the finding's line or alone on the line above."""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from kavi_gates.codes import policy as codes
from kavi_gates.codes.builtin import NON_POLICY_CODES
from kavi_gates.models import Finding

_PATTERN = re.compile(r"#\s*kavi:\s*allow\[([^\]]*)\]\s*(.*)$")
_ID = re.compile(r"^[A-Z]+[0-9]+$")


@dataclass
class Suppression:
    line: int
    col: int
    rules: tuple[str, ...]
    reason: str
    own_line: bool
    used: set[str] = field(default_factory=set)

    def covers(self, line: int) -> bool:
        return line == self.line or (self.own_line and line == self.line + 1)


def find_suppressions(text: str) -> list[Suppression]:
    """Suppression comments (real comments only: strings that look alike do not count)."""
    if "kavi:" not in text:
        return []
    found: list[Suppression] = []
    code_lines: set[int] = set()
    try:
        # Lines as Python reads them (universal newlines: a lone \r ends a line too).
        for tok in tokenize.generate_tokens(io.StringIO(text, newline=None).readline):
            if tok.type == tokenize.COMMENT:
                match = _PATTERN.search(tok.string)
                if match:
                    rules = tuple(r.strip() for r in match.group(1).split(",") if r.strip())
                    found.append(
                        Suppression(
                            tok.start[0],
                            tok.start[1] + 1,
                            rules,
                            match.group(2).strip(),
                            own_line=False,
                        )
                    )
            elif tok.type not in (
                tokenize.NL,
                tokenize.NEWLINE,
                tokenize.INDENT,
                tokenize.DEDENT,
                tokenize.ENDMARKER,
                tokenize.ENCODING,
            ):
                code_lines.update(range(tok.start[0], tok.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):
        return found
    for sup in found:
        sup.own_line = sup.line not in code_lines
    return found


def apply_suppressions(
    text: str,
    path: str,
    findings: list[Finding],
    rule_ids: set[str],
    locked: set[str],
    unjudged: AbstractSet[str] = frozenset(),
) -> list[Finding]:
    """Drop the findings a reasoned suppression covers; report suppressions without a
    reason (KAV003) and those that suppress nothing (KAV004). ``locked``: rule ids that
    cannot be suppressed; ``unjudged``: rules that failed on this file (whether their
    suppressions are used is unknown, so they are not reported as unused)."""
    suppressions = find_suppressions(text)
    if not suppressions:
        return findings
    covering: dict[int, list[Suppression]] = {}
    for sup in suppressions:
        covering.setdefault(sup.line, []).append(sup)
        if sup.own_line:
            covering.setdefault(sup.line + 1, []).append(sup)
    kept: list[Finding] = []
    for finding in findings:
        suppressed = False
        for sup in covering.get(finding.line, ()):
            if finding.rule in sup.rules and sup.reason and finding.rule not in locked:
                sup.used.add(finding.rule)
                suppressed = True
        if not suppressed:
            kept.append(finding)
    for sup in suppressions:
        if not sup.reason:
            message = (
                "suppression needs a reason: "
                f"# kavi: allow[{','.join(sup.rules)}] <why this is safe>"
            )
            code = codes.SUPPRESSION_WITHOUT_REASON
            kept.append(
                code.finding(path, message, line=sup.line, col=sup.col).with_fingerprint(
                    f"noreason:{sup.rules}"
                )
            )
            continue
        for rule_id in sup.rules:
            if rule_id in sup.used or rule_id in NON_POLICY_CODES or rule_id in unjudged:
                continue  # another gate's code: judged after the run (kavi_gates.triage)
            if not _ID.match(rule_id) or rule_id not in rule_ids:
                why = f"unknown rule id '{rule_id}'"
            elif rule_id in locked:
                why = f"{rule_id} cannot be suppressed"
            else:
                why = f"no {rule_id} finding here"
            finding = codes.UNUSED_SUPPRESSION.finding(
                path, f"unused suppression: {why}", line=sup.line, col=sup.col
            )
            kept.append(finding.with_fingerprint(f"unused:{rule_id}"))
    return sorted(kept, key=Finding.sort_key)
