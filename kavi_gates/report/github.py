"""GitHub Actions workflow commands: ``::error file=…,line=…,col=…,title=…::message``."""

from __future__ import annotations

from kavi_gates.models import RunReport, Severity, Status


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def render_github(report: RunReport) -> str:
    out: list[str] = []
    for f in report.findings:
        level = "error" if f.severity is Severity.ERROR else "warning"
        props = [f"file={_escape_property(f.path)}"]
        if f.line:
            props += [f"line={f.line}", f"col={max(f.col, 1)}"]
        rules = ", ".join(f.rules)
        props.append(f"title={_escape_property(f'{rules} ({f.gate})')}")
        out.append(f"::{level} {','.join(props)}::{_escape_data(f.message)}")
    for r in report.results:
        if r.status is Status.ERROR:
            out.append(
                f"::error title={_escape_property('kavi ' + r.gate)}::"
                f"{_escape_data(f'gate crashed: {r.error}')}"
            )
    return "\n".join(out) + ("\n" if out else "")
