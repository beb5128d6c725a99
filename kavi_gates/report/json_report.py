"""Machine output, schema version 1: ``{"version": 1, "findings": [...], "gates": [...]}``."""

from __future__ import annotations

import json

from kavi_gates import __version__
from kavi_gates.models import RunReport, as_json


def report_dict(report: RunReport) -> dict[str, object]:
    return {
        "version": 1,
        "kavi_version": __version__,
        "root": report.root,
        "config_source": report.config_source,
        "exit_code": report.exit_code,
        "findings": [as_json(f) for f in report.findings],
        "codes": {
            code_id: {
                "gate": code.gate,
                "title": code.title,
                "severity": code.severity.value,
                "help": code.help_text(),
            }
            for code_id, code in report.codes.items()
        },
        "gates": [
            {
                "gate": r.gate,
                "status": r.status.value,
                "findings": len(r.findings),
                "duration": round(r.duration, 4),
                "error": r.error,
                "checked": list(r.checked),
                "notes": list(r.notes),
            }
            for r in report.results
        ],
    }


def render_json(report: RunReport) -> str:
    return json.dumps(report_dict(report), indent=2) + "\n"
