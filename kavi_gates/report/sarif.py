"""SARIF 2.1.0 for GitHub code scanning (one run, one tool ``kavi``, rules from findings)."""

from __future__ import annotations

import json

from kavi_gates import __version__
from kavi_gates.models import RunReport, Severity, Status

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _rule_docs() -> dict[str, tuple[str, str]]:
    """Rule id → (short description, full doc) for every known policy rule."""
    try:
        from kavi_gates.runner import policy_rules

        rules = policy_rules()
    except Exception:  # reporting must not fail because a plugin cannot load
        return {}
    docs: dict[str, tuple[str, str]] = {}
    for rule in rules:
        rule_id, message, doc = (getattr(rule, a, None) for a in ("id", "MESSAGE", "doc"))
        if isinstance(rule_id, str) and isinstance(message, str) and callable(doc):
            docs[rule_id] = (message, str(doc()))
    return docs


def sarif_dict(report: RunReport) -> dict[str, object]:
    docs = _rule_docs()
    rule_ids = sorted({f.rule for f in report.findings})
    rules = []
    for rule_id in rule_ids:
        short, full = docs.get(rule_id, (rule_id, ""))
        rule: dict[str, object] = {"id": rule_id, "shortDescription": {"text": short}}
        if full:
            rule["fullDescription"] = {"text": full}
        rules.append(rule)
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
                "properties": {"gate": f.gate},
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
                "results": results,
            }
        ],
    }


def render_sarif(report: RunReport) -> str:
    return json.dumps(sarif_dict(report), indent=2) + "\n"
