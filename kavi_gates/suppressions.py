"""Suppressions as data: every ``# kavi: allow[...]`` in a set of files, and those a change adds.

The forge fails a build whose change adds one (KAV901: a suppression is a human's call);
promotion lists every suppression in the code it pins (the confirmation prompt, the
PROMOTION note, the attestation). Reading them tokenizes only: libcst is never imported.
"""

from __future__ import annotations

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


def text_suppressions(rel: str, text: str) -> tuple[FileSuppression, ...]:
    """The suppressions of one file's text (real comments only, not strings)."""
    lines = split_lines(text)
    found = []
    for sup in find_suppressions(text):
        covered = sup.line + 1 if sup.own_line else sup.line
        covers = lines[covered - 1].strip() if 0 < covered <= len(lines) else ""
        found.append(
            FileSuppression(
                path=rel, line=sup.line, rules=sup.rules, reason=sup.reason, covers=covers
            )
        )
    return tuple(found)


def suppressions_in(root: Path, paths: Iterable[str]) -> tuple[FileSuppression, ...]:
    """Every suppression in the files ``paths`` (relative to ``root``), in path/line order.

    Non-Python and unreadable files have none (only ``.py`` files are read)."""
    found: list[FileSuppression] = []
    for rel in sorted(set(paths)):
        if not rel.endswith(".py"):
            continue
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
