"""Every finding code is declared once, documented, and the only way gates name a code."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from kavi_gates.codes import DuplicateCode, index_codes
from kavi_gates.codes.forge import GATE as FORGE_GATE
from kavi_gates.models import Code, Severity
from kavi_gates.runner import available_gates, finding_codes

PACKAGE = Path(__file__).resolve().parents[2] / "kavi_gates"
CODE_LITERAL = re.compile(r"[\"']KAV\d{3}[\"']")


def test_every_gate_declares_the_codes_it_reports() -> None:
    codes = finding_codes()
    gates = set(available_gates())
    # "targets" is the runner's own pseudo-gate (include globs, unreadable paths); the
    # forge's agent-suppressions check is no gate of the runner, but documented alike.
    assert {c.gate for c in codes.values()} == gates | {"targets", FORGE_GATE}
    for gate in ("invariants", "diff-allowlist", "hash-pin", FORGE_GATE):
        declared = [c for c in codes.values() if c.gate == gate]
        assert declared, gate
        for code in declared:
            assert code.title and code.doc and code.fix, code.id


def test_gates_name_codes_only_through_declarations() -> None:
    """A finding code written as a string literal outside its declaration could drift."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(("codes/", "policy/")):
            continue  # the declarations themselves; policy rules carry their ids as classes
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if CODE_LITERAL.search(line):
                offenders.append(f"{rel}:{number}: {line.strip()}")
    assert offenders == []


def test_a_code_declared_twice_is_refused() -> None:
    one = Code(id="ACME101", gate="acme", title="t", doc="d", fix="f")
    other = dataclasses.replace(one, gate="other")
    with pytest.raises(DuplicateCode, match="ACME101 is declared twice"):
        index_codes([one, other])


@pytest.mark.parametrize("bad", ["kav801", "KAV80", "801", "KAV8011X", ""])
def test_malformed_code_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="must look like KAV123"):
        Code(id=bad, gate="g", title="t", doc="d", fix="f")


def test_a_code_builds_its_findings_with_its_gate_and_severity() -> None:
    code = Code(id="ACME102", gate="acme", title="t", doc="d", fix="f", severity=Severity.WARNING)
    finding = code.finding("a.py", "m", line=3, col=2)
    assert (finding.gate, finding.rule, finding.severity, finding.line, finding.col) == (
        "acme",
        "ACME102",
        Severity.WARNING,
        3,
        2,
    )
    assert code.help_text() == "d\n\nHow to fix: f"
