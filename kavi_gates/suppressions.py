"""Suppressions as data: every ``# kavi: allow[...]`` in a set of files, and those a change adds.

The forge fails a build whose change adds one (KAV901: a suppression is a human's call);
promotion lists every suppression in the code it pins (the confirmation prompt, the
PROMOTION note, the attestation). Reading them tokenizes only: libcst is never imported.
"""

from __future__ import annotations

import io
import tokenize
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from kavi_gates.codes import forge as codes
from kavi_gates.lines import split_lines
from kavi_gates.models import GateResult, Status
from kavi_gates.policy.source_checks import python_text
from kavi_gates.policy.suppress import find_suppressions


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


def _statement_ends(text: str) -> dict[int, int]:
    """For each line that starts a logical line of Python (a statement, or a compound
    statement's header), the line it ends on; nothing for text tokenize cannot read."""
    ends: dict[int, int] = {}
    start = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text, newline=None).readline):
            if tok.type in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
                continue
            if not start:
                start = tok.start[0]
            if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                ends[start] = tok.end[0]
                start = 0
    except (tokenize.TokenError, SyntaxError):
        pass
    return ends


def text_suppressions(rel: str, text: str) -> tuple[FileSuppression, ...]:
    """The suppressions of one file's text (real comments only, not strings)."""
    lines = split_lines(text)
    ends = _statement_ends(text) if "kavi:" in text else {}
    found = []
    for sup in find_suppressions(text):
        covered = sup.line + 1 if sup.own_line else sup.line
        # The whole statement it covers: an agent that rewrites the arguments on the
        # lines below a human's ``eval(  # kavi: allow[...]`` adds a decision too.
        last = max(covered, ends.get(covered, covered))
        covers = "\n".join(line.strip() for line in lines[max(covered, 1) - 1 : last])
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
