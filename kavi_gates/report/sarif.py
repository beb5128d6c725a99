"""SARIF 2.1.0 for GitHub code scanning (one run, one tool ``kavi``, rules from findings)."""

from __future__ import annotations

import json

from kavi_gates import __version__
from kavi_gates.models import Code, RunReport, Severity, Status

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _rule(rule_id: str, code: Code | None) -> dict[str, object]:
    """A SARIF reportingDescriptor from the code's declaration (id only when undeclared)."""
    if code is None:
        return {"id": rule_id, "shortDescription": {"text": rule_id}}
    return {
        "id": rule_id,
        "name": code.title,
        "shortDescription": {"text": code.title},
        "fullDescription": {"text": code.doc},
        "help": {"text": code.help_text()},
        "defaultConfiguration": {
            "level": "error" if code.severity is Severity.ERROR else "warning"
        },
        "properties": {"gate": code.gate, "category": code.category},
    }


def _properties(gate: str, also: tuple[str, ...]) -> dict[str, object]:
    """A result's properties: its gate, and the other codes merged into it (one place that
    violates several categories is one result; SARIF gives a result one ruleId)."""
    if not also:
        return {"gate": gate}
    return {"gate": gate, "alsoViolates": list(also)}


def sarif_dict(report: RunReport) -> dict[str, object]:
    rule_ids = sorted({rule for f in report.findings for rule in f.rules})
    rules = [_rule(rule_id, report.codes.get(rule_id)) for rule_id in rule_ids]
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    results = []
    for f in report.findings:
        region: dict[str, int] = {"startLine": max(f.line, 1)}
        if f.col:
            region["startColumn"] = f.col
        results.append(
            {
                "ruleId": f.rule,
                "ruleIndex": index[f.rule],
                "level": "error" if f.severity is Severity.ERROR else "warning",
                "message": {"text": f.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                            "region": region,
                        }
                    }
                ],
                "partialFingerprints": {"kaviFingerprint/v1": f.fingerprint},
                "properties": _properties(f.gate, f.also),
            }
        )
    notifications = [
        {"level": "error", "message": {"text": f"gate {r.gate} crashed: {r.error}"}}
        for r in report.results
        if r.status is Status.ERROR
    ]
    invocation: dict[str, object] = {"executionSuccessful": report.exit_code in (0, 1)}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "kavi",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "invocations": [invocation],
                "properties": {"configSource": report.config_source},
                "results": results,
            }
        ],
    }


def render_sarif(report: RunReport) -> str:
    return json.dumps(sarif_dict(report), indent=2) + "\n"
