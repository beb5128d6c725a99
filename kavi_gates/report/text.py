"""Human output: ``path:line:col: RULE message`` followed by the source line and a caret."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from kavi_gates.models import RunReport, Severity, Status


@lru_cache(maxsize=256)
def _lines(path: str) -> tuple[str, ...]:
    try:
        return tuple(Path(path).read_text(encoding="utf-8", errors="replace").splitlines())
    except OSError:
        return ()


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
        out.append(f"{where}: {rules}{tag} {finding.message} ({finding.gate})")
        text = source_line(report.root, finding.path, finding.line)
        if text is not None:
            out.append(f"    {text.rstrip()}")
            if finding.col > 0:
                out.append("    " + " " * (finding.col - 1) + "^")
    for result in report.results:
        if result.status is Status.ERROR:
            out.append(f"gate {result.gate}: internal error: {result.error}")
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
