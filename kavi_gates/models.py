"""Results are data: frozen models that cross every module boundary."""

from __future__ import annotations

import hashlib
import inspect
import re
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kavi_gates.errors import EXIT_CLEAN, EXIT_FINDINGS, EXIT_INTERNAL


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


class Status(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    SKIP = "skip"


class Finding(BaseModel):
    """One problem a gate found, at a place in a file (line/col are 1-based; 0 = whole file)."""

    model_config = ConfigDict(frozen=True)

    gate: str
    rule: str
    severity: Severity = Severity.ERROR
    path: str
    line: int = 0
    col: int = 0
    message: str
    fingerprint: str = ""
    also: tuple[str, ...] = ()
    """Other codes the same place violates, merged into this finding (``kavi_gates.merge``):
    ``rule`` is the primary code (the lowest id), these the rest, in id order."""

    @property
    def rules(self) -> tuple[str, ...]:
        """Every code this finding carries, the primary first."""
        return (self.rule, *self.also)

    def with_fingerprint(self, anchor: str = "") -> Finding:
        """Return a copy with a fingerprint stable across line moves (rule, path, anchor text)."""
        key = "\0".join((self.gate, self.rule, self.path, anchor or self.message))
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return self.model_copy(update={"fingerprint": digest})

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.col, self.gate, self.rule)


ID_PATTERN = re.compile(r"[A-Z][A-Z0-9]{1,9}[0-9]{3}\Z")
"""``KAV801``; third-party codes use their own prefix (``ACME101``)."""


class Code(BaseModel):
    """One finding code: what it means, why it matters, how to fix it."""

    model_config = ConfigDict(frozen=True)

    id: str
    gate: str
    title: str
    """One line: the summary in ``kavi rules``, SARIF's ``shortDescription``."""
    doc: str
    """What the code finds and why it matters (plain text, paragraphs)."""
    fix: str
    """How to make the finding go away properly."""
    severity: Severity = Severity.ERROR
    suppressible: bool = True
    """False where a suppression would defeat the gate (a drifted pin, unparsable input)."""
    category: str = ""
    valid: tuple[str | bytes, ...] = Field(default=(), repr=False)
    """Code that must not draw this finding (policy rules; run by the test suite)."""
    invalid: tuple[str | bytes, ...] = Field(default=(), repr=False)
    """Code that must draw this finding."""
    triggers: tuple[str, ...] | None = Field(default=None, repr=False)
    """Words one of which a file must contain for the rule to have anything to find (the
    policy pre-filter); ``None`` means the rule always runs."""

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError(f"code id {value!r} must look like KAV123 (letters, then 3 digits)")
        return value

    @field_validator("doc", "fix")
    @classmethod
    def _clean(cls, value: str) -> str:
        return inspect.cleandoc(value)

    def finding(
        self,
        path: str,
        message: str,
        *,
        line: int = 0,
        col: int = 0,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding of this code at ``path`` (line/col 1-based; 0 = the whole file)."""
        return Finding(
            gate=self.gate,
            rule=self.id,
            severity=severity or self.severity,
            path=path,
            line=line,
            col=col,
            message=message,
        )

    def help_text(self) -> str:
        """The documentation a user reads: what and why, then how to fix."""
        return f"{self.doc}\n\nHow to fix: {self.fix}" if self.fix else self.doc


class GateResult(BaseModel):
    """What one gate concluded. A gate that crashed is ``error``, never ``pass``."""

    model_config = ConfigDict(frozen=True)

    gate: str
    status: Status
    findings: tuple[Finding, ...] = ()
    duration: float = 0.0
    error: str | None = None
    checked: tuple[str, ...] = Field(default=(), description="paths the gate examined")
    notes: tuple[str, ...] = Field(default=(), description="verbose-only information")
    suppressed: int = 0
    """Findings silenced by a ``# kavi: allow[CODE] reason`` comment (outside the policy
    gate, which applies its own before it reports)."""
    ignored: int = 0
    """Findings dropped by ``select``/``ignore``/``per_path_ignores``."""
    baselined: int = 0
    """Findings the baseline already records (accepted legacy findings)."""

    @property
    def failed(self) -> bool:
        return self.status in (Status.FAIL, Status.ERROR)


class RunReport(BaseModel):
    """Everything one run of the gates produced.

    ``codes`` documents every finding code the findings use (from the gates' declarations,
    ``kavi_gates.codes``), so reporters describe rules without calling back into plugins.
    """

    model_config = ConfigDict(frozen=True)

    version: Literal[1] = 1
    root: str
    results: tuple[GateResult, ...]
    config_source: str = ""
    codes: dict[str, Code] = Field(default_factory=dict)
    notes: tuple[str, ...] = ()
    """Run-level information (verbose text, JSON): e.g. baseline entries that matched nothing."""

    @property
    def findings(self) -> tuple[Finding, ...]:
        found = [f for r in self.results for f in r.findings]
        return tuple(sorted(found, key=Finding.sort_key))

    @property
    def exit_code(self) -> int:
        if any(r.status is Status.ERROR for r in self.results):
            return EXIT_INTERNAL
        if any(r.status is Status.FAIL for r in self.results):
            return EXIT_FINDINGS
        return EXIT_CLEAN
