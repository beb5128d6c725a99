"""Results are data: frozen dataclasses that cross every module boundary.

Plain dataclasses, not pydantic models: every run builds them (the pre-commit hook too), and
defining or building them must not cost pydantic's import. What comes from outside (a
plugin's ``Code``, a cached finding) is checked where it enters (``Code.__post_init__``,
``kavi_gates.cache.from_rows``); anything else is built by Kavi's own typed code.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

from kavi_gates.digests import sha256
from kavi_gates.errors import EXIT_CLEAN, EXIT_FINDINGS, EXIT_INTERNAL


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


class Status(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    SKIP = "skip"


def as_json(value: Any) -> Any:
    """JSON-ready data of a result (dataclasses as dicts, enums as values, tuples as lists)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [as_json(item) for item in value]
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One problem a gate found, at a place in a file (line/col are 1-based; 0 = whole file)."""

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

    def __post_init__(self) -> None:
        # Plugins' gates make findings too: a severity given as text ("error") is the
        # enum (compared by identity when a gate's status is decided, so a string would
        # silently pass), and anything else is refused.
        if type(self.severity) is not Severity:
            object.__setattr__(self, "severity", Severity(self.severity))
        for name in ("gate", "rule", "path", "message", "fingerprint"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"finding {name} must be a string, not {getattr(self, name)!r}")
        if type(self.line) is not int or type(self.col) is not int:
            raise TypeError(f"finding line and col must be ints, not {self.line!r}, {self.col!r}")

    @property
    def rules(self) -> tuple[str, ...]:
        """Every code this finding carries, the primary first."""
        return (self.rule, *self.also)

    def with_fingerprint(self, anchor: str = "") -> Finding:
        """Return a copy with a fingerprint stable across line moves (rule, path, anchor text)."""
        key = "\0".join((self.gate, self.rule, self.path, anchor or self.message))
        digest = sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return dataclasses.replace(self, fingerprint=digest)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.col, self.gate, self.rule)


ID_PATTERN = re.compile(r"[A-Z][A-Z0-9]{1,9}[0-9]{3}\Z")
"""``KAV801``; third-party codes use their own prefix (``ACME101``)."""


def _examples(what: str, value: object) -> tuple[str | bytes, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, tuple | list):
        raise TypeError(f"{what} must be a tuple of code examples, not {type(value).__name__}")
    if not all(isinstance(item, str | bytes) for item in value):
        raise TypeError(f"{what} must hold only str or bytes code examples")
    return tuple(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Code:
    """One finding code: what it means, why it matters, how to fix it.

    Plugins declare codes too, so every field is checked when one is made."""

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
    valid: tuple[str | bytes, ...] = field(default=(), repr=False)
    """Code that must not draw this finding (policy rules; run by the test suite)."""
    invalid: tuple[str | bytes, ...] = field(default=(), repr=False)
    """Code that must draw this finding."""
    triggers: tuple[str, ...] | None = field(default=None, repr=False)
    """Words one of which a file must contain for the rule to have anything to find (the
    policy pre-filter); ``None`` means the rule always runs."""

    def __post_init__(self) -> None:
        for name in ("id", "gate", "title", "doc", "fix", "category"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"code {name} must be a string, not {getattr(self, name)!r}")
        if not ID_PATTERN.match(self.id):
            raise ValueError(f"code id {self.id!r} must look like KAV123 (letters, then 3 digits)")
        if not isinstance(self.suppressible, bool):
            raise TypeError(f"code suppressible must be a bool, not {self.suppressible!r}")
        set_ = object.__setattr__  # frozen: normalise the fields once, as they are made
        set_(self, "severity", Severity(self.severity))
        set_(self, "doc", inspect.cleandoc(self.doc))
        set_(self, "fix", inspect.cleandoc(self.fix))
        set_(self, "valid", _examples("valid", self.valid))
        set_(self, "invalid", _examples("invalid", self.invalid))
        if self.triggers is not None:
            words = self.triggers
            if isinstance(words, str) or not isinstance(words, tuple | list):
                raise TypeError(f"code triggers must be a tuple of words, not {words!r}")
            if not all(isinstance(word, str) for word in words):
                raise TypeError("code triggers must hold only strings")
            set_(self, "triggers", tuple(words))

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


@dataclass(frozen=True, slots=True, kw_only=True)
class GateResult:
    """What one gate concluded. A gate that crashed is ``error``, never ``pass``."""

    gate: str
    status: Status
    findings: tuple[Finding, ...] = ()
    duration: float = 0.0
    error: str | None = None
    checked: tuple[str, ...] = ()
    """Paths the gate examined."""
    notes: tuple[str, ...] = ()
    """Verbose-only information."""
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


@dataclass(frozen=True, slots=True, kw_only=True)
class RunReport:
    """Everything one run of the gates produced.

    ``codes`` documents every finding code the findings use (from the gates' declarations,
    ``kavi_gates.codes``), so reporters describe rules without calling back into plugins.
    """

    version: Literal[1] = 1
    root: str
    results: tuple[GateResult, ...]
    config_source: str = ""
    codes: dict[str, Code] = field(default_factory=dict)
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
