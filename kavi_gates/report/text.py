"""Human output: ``path:line:col: RULE message`` followed by the source line and a caret."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from kavi_gates.lines import split_lines
from kavi_gates.models import RunReport, Severity, Status
from kavi_gates.source_text import decode

WIDTH = 120
"""The most of a source line shown under a finding: a window around its column."""
# C0 and C1 controls, DEL and the bidirectional overrides: a file's text (and a message
# quoting it) must not move the cursor, erase or forge lines, recolour a terminal or
# reorder what it shows (Trojan Source), e.g. to hide the finding above it.
_CONTROLS = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]"
)


def printable(text: str) -> str:
    """``text`` with every control character shown as its escape (``\\x1b``, ``\\u202e``)."""
    return _CONTROLS.sub(lambda m: ascii(m.group())[1:-1], text)


def _excerpt(text: str, col: int) -> tuple[str, int]:
    """At most ``WIDTH`` characters of a line, around column ``col`` (1-based; 0: none),
    and that column within the excerpt (control characters escaped)."""
    text = text.rstrip()
    start = 0
    if len(text) > WIDTH:
        start = max(0, min(col - 1 - WIDTH // 3, len(text) - WIDTH))
        shown = text[start : start + WIDTH]
        prefix = "…" if start else ""
        text = prefix + shown + ("…" if start + WIDTH < len(text) else "")
        start -= len(prefix)
    before = printable(text[: max(col - 1 - start, 0)])
    return printable(text), len(before) + 1 if col > 0 else 0


@lru_cache(maxsize=256)
def _lines(path: str) -> tuple[str, ...]:
    try:
        text = decode(Path(path).read_bytes())  # as Python reads it: the columns count that
    except OSError:
        return ()
    # Lines as Python counts them (not str.splitlines, which also breaks at form feeds,
    # \x85 or U+2028: one in a comment would show the line above under every finding).
    return tuple(split_lines(text))


def source_line(root: str, rel: str, line: int) -> str | None:
    if line <= 0:
        return None
    path = Path(rel) if Path(rel).is_absolute() else Path(root) / rel
    lines = _lines(str(path))
    return lines[line - 1] if line <= len(lines) else None


def render_text(report: RunReport, verbose: bool = False) -> str:
    _lines.cache_clear()
    out: list[str] = []
    for finding in report.findings:
        where = finding.path + (f":{finding.line}:{finding.col}" if finding.line else "")
        tag = "" if finding.severity is Severity.ERROR else " [warning]"
        rules = ",".join(finding.rules)
        message = printable(finding.message)
        out.append(f"{printable(where)}: {rules}{tag} {message} ({finding.gate})")
        text = source_line(report.root, finding.path, finding.line)
        if text is not None:
            shown, col = _excerpt(text, finding.col)
            out.append(f"    {shown}")
            if col > 0:
                out.append("    " + " " * (col - 1) + "^")
    for result in report.results:
        if result.status is Status.ERROR:
            out.append(f"gate {result.gate}: internal error: {printable(str(result.error))}")
        if verbose:
            out.extend(f"gate {result.gate}: {note}" for note in result.notes)
    errors = sum(1 for f in report.findings if f.severity is Severity.ERROR)
    warnings = len(report.findings) - errors
    summary = ", ".join(f"{r.gate} {r.status.value}" for r in report.results)
    counts = f"{errors} error{'s' * (errors != 1)}"
    if warnings:
        counts += f", {warnings} warning{'s' * (warnings != 1)}"
    out.append(f"kavi: {counts} ({summary})")
    return "\n".join(out) + "\n"
