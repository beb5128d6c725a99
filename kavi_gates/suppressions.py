"""Suppressions as data: every ``# kavi: allow[...]`` in a set of files, and those a change adds.

The forge fails a build whose change adds one (KAV901: a suppression is a human's call);
promotion lists every suppression in the code it pins (the confirmation prompt, the
PROMOTION note, the attestation). Reading them tokenizes only: libcst is never imported.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from kavi_gates.codes import forge as codes
from kavi_gates.lines import first_code_line, split_lines
from kavi_gates.models import GateResult, Status
from kavi_gates.policy.suppress import find_suppressions
from kavi_gates.source_text import python_text


class FileSuppression(BaseModel):
    """One suppression comment: where, which rules, why, and the code line it covers."""

    model_config = ConfigDict(frozen=True)

    path: str
    line: int
    rules: tuple[str, ...]
    reason: str
    covers: str
    """The stripped source line the suppression applies to (its own line, or the next one
    when the comment stands alone)."""

    def key(self) -> tuple[tuple[str, ...], str, str]:
        """What makes two suppressions the same decision, wherever the file moved them."""
        return (self.rules, self.reason, self.covers)

    def describe(self) -> str:
        """``path:line allow[RULES] reason``, for prompts and notes."""
        reason = self.reason or "(no reason given)"
        return f"{self.path}:{self.line} allow[{', '.join(self.rules)}] {reason}"


def _read_text(path: Path) -> str | None:
    """The text Python runs (a latin-1 file's comments too); None when it is missing or the
    policy gate refuses it (it reports what it cannot read)."""
    try:
        return python_text(path.read_bytes())
    except OSError:
        return None


def _statement_spans(text: str) -> dict[int, tuple[int, int]]:
    """For each line of Python, the first and last line of the innermost statement holding
    it (a compound statement's first line: the whole statement, body included); nothing
    for text that is not Python."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    spans: dict[int, tuple[int, int]] = {}
    for node in ast.walk(tree):  # outer statements first: inner ones overwrite their lines
        if isinstance(node, ast.stmt):
            decorators = getattr(node, "decorator_list", [])
            first = min([node.lineno, *(d.lineno for d in decorators)])
            last = node.end_lineno or node.lineno
            body = min((child.lineno for child in _children(node)), default=last + 1)
            for line in range(first, last + 1):
                if line < body or line not in spans:
                    spans[line] = (first, last)
    return spans


def _children(node: ast.stmt) -> list[ast.stmt]:
    """The statements nested in ``node`` (its bodies, handlers, cases)."""
    return [child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt)] + [
        stmt
        for child in ast.iter_child_nodes(node)
        if isinstance(child, ast.ExceptHandler | ast.match_case)
        for stmt in child.body
    ]


def text_suppressions(rel: str, text: str) -> tuple[FileSuppression, ...]:
    """The suppressions of one file's text (real comments only, not strings).

    What a suppression covers is what it can silence, so that an agent that keeps a
    human's comment and changes that changes the decision (KAV901): the whole statement
    holding the covered line (a ``class`` or ``def`` line: the body too, whose findings
    are reported there); for a comment in the file's header, which covers every finding
    about the whole file, the whole file."""
    lines = split_lines(text)
    spans = _statement_spans(text) if "kavi:" in text else {}
    header_end = first_code_line(text)
    found = []
    for sup in find_suppressions(text):
        covered = sup.line + 1 if sup.own_line else sup.line
        if sup.own_line and sup.line < header_end:
            covers = text
        else:
            first, last = spans.get(covered, (covered, covered))
            covers = "\n".join(line.strip() for line in lines[max(first, 1) - 1 : last])
        found.append(
            FileSuppression(
                path=rel, line=sup.line, rules=sup.rules, reason=sup.reason, covers=covers
            )
        )
    return tuple(found)


def suppressions_in(root: Path, paths: Iterable[str]) -> tuple[FileSuppression, ...]:
    """Every suppression in the files ``paths`` (relative to ``root``), in path/line order.

    Every file is read, whatever its type: the non-policy gates' findings in a workflow or
    a Makefile are suppressed by a comment there too (``triage``). Unreadable files have
    none (the policy gate reports what it cannot read)."""
    found: list[FileSuppression] = []
    for rel in sorted(set(paths)):
        text = _read_text(root / rel)
        if text is not None:
            found.extend(text_suppressions(rel, text))
    return tuple(found)


def added_suppressions(
    before: Path, after: Path, paths: Iterable[str]
) -> tuple[FileSuppression, ...]:
    """Suppressions of ``after`` that ``before`` does not have (per file, as a multiset).

    A suppression counts as added when its rules, reason or covered line are new: moving a
    human's comment onto other code is a new decision too.
    """
    added: list[FileSuppression] = []
    for rel in sorted(set(paths)):
        old = Counter(s.key() for s in suppressions_in(before, [rel]))
        for sup in suppressions_in(after, [rel]):
            if old[sup.key()] > 0:
                old[sup.key()] -= 1
            else:
                added.append(sup)
    return tuple(added)


def agent_suppressions_result(before: Path, after: Path, paths: Sequence[str]) -> GateResult:
    """KAV901 for each suppression the change from ``before`` to ``after`` adds in ``paths``."""
    code = codes.AGENT_SUPPRESSION
    findings = tuple(
        code.finding(
            sup.path,
            f"the agent's change adds `# kavi: allow[{', '.join(sup.rules)}]` "
            f"({sup.reason or 'no reason'}); fix the finding instead, a suppression is a "
            "human's decision",
            line=sup.line,
        ).with_fingerprint(repr(sup.key()))
        for sup in added_suppressions(before, after, paths)
    )
    return GateResult(
        gate=codes.GATE,
        status=Status.FAIL if findings else Status.PASS,
        findings=findings,
        checked=tuple(sorted(set(paths))),
    )
