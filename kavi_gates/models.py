"""Results are data: frozen models that cross every module boundary."""

from __future__ import annotations

import hashlib
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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

    def with_fingerprint(self, anchor: str = "") -> Finding:
        """Return a copy with a fingerprint stable across line moves (rule, path, anchor text)."""
        key = "\0".join((self.gate, self.rule, self.path, anchor or self.message))
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return self.model_copy(update={"fingerprint": digest})

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.col, self.gate, self.rule)


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

    @property
    def failed(self) -> bool:
        return self.status in (Status.FAIL, Status.ERROR)


class RunReport(BaseModel):
    """Everything one run of the gates produced."""

    model_config = ConfigDict(frozen=True)

    version: Literal[1] = 1
    root: str
    results: tuple[GateResult, ...]

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
