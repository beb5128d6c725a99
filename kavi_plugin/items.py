"""Collection nodes for ``pytest --kavi-verify``: one item per governed file per file gate,
plus one status item per gate (``kavi::<gate>``).

Every finding of the run belongs to exactly one item: a file gate's finding on a file the
gate examined goes to that file's item; everything else (whole-repo gates, a file gate's
findings elsewhere, e.g. an import contract, and gate crashes) goes to the gate's status
item. A failing item's message is the ``kavi check`` text report lines for its findings.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from kavi_gates.models import Finding, GateResult, RunReport, Severity, Status
from kavi_gates.report.text import render_text

ReportSource = Callable[[], RunReport]


class KaviGateFailure(Exception):
    """A Kavi item failed; the message is the text report for it."""


class KaviWarning(pytest.PytestWarning):
    """A Kavi finding of severity ``warning`` (reported, does not fail the item)."""


def report_lines(
    report: RunReport, result: GateResult, findings: list[Finding], with_error: bool
) -> str:
    """The ``kavi check`` text report lines for these findings (without the summary line)."""
    status = result.status if with_error else Status.PASS
    part = replace(result, findings=tuple(findings), status=status)
    lines = render_text(RunReport(root=report.root, results=(part,))).splitlines()
    return "\n".join(lines[:-1])


class KaviItem(pytest.Item):
    """One slice of one gate's result; fails on its error findings or a crashed gate."""

    def __init__(
        self,
        *,
        gate: str,
        rel: str | None,
        report_source: ReportSource,
        owned: frozenset[str] = frozenset(),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.gate = gate
        self.rel = rel
        """The file this item judges; None for the gate's status item."""
        self.owned = owned
        """Status item: the paths whose findings belong to per-file items instead."""
        self.report_source = report_source
        self.add_marker("kavi")

    def _slice(self, result: GateResult) -> list[Finding]:
        if self.rel is not None:
            return [f for f in result.findings if f.path == self.rel]
        return [f for f in result.findings if f.path not in self.owned]

    def runtest(self) -> None:
        report = self.report_source()
        result = next((r for r in report.results if r.gate == self.gate), None)
        if result is None:
            raise KaviGateFailure(f"gate {self.gate}: no result in this run")
        findings = self._slice(result)
        crashed = result.status is Status.ERROR
        text = report_lines(report, result, findings, with_error=crashed)
        if crashed or any(f.severity is Severity.ERROR for f in findings):
            raise KaviGateFailure(text)
        if findings:
            warnings.warn(KaviWarning(text), stacklevel=1)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, KaviGateFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.nodeid} [kavi]"


class KaviFile(pytest.File):
    """A governed file; yields one item per file gate that examined it."""

    def __init__(
        self, *, gates: tuple[str, ...], rel: str, report_source: ReportSource, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.gates = gates
        self.rel = rel
        self.report_source = report_source

    def collect(self) -> Iterator[KaviItem]:
        for gate in self.gates:
            yield KaviItem.from_parent(
                self, name=f"kavi-{gate}", gate=gate, rel=self.rel, report_source=self.report_source
            )


class KaviGates(pytest.Collector):
    """The ``kavi`` node: one status item per gate of the run."""

    def __init__(
        self, *, owned: dict[str, frozenset[str]], report_source: ReportSource, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.owned = owned
        self.report_source = report_source

    def collect(self) -> Iterator[KaviItem]:
        for gate, owned in self.owned.items():
            yield KaviItem.from_parent(
                self, name=gate, gate=gate, rel=None, owned=owned, report_source=self.report_source
            )


def build_items(
    session: pytest.Session, report: RunReport, file_gates: set[str], report_source: ReportSource
) -> list[pytest.Item]:
    """The Kavi items for a run: per (governed file, file gate), then the status items.

    A file gate's ``checked`` names the files it examined (they get items); a whole-repo
    gate's ``checked`` lists changed or pinned paths, which get none.
    """
    per_file: dict[str, list[str]] = {}
    for result in report.results:
        if result.gate in file_gates:
            for rel in result.checked:
                per_file.setdefault(rel, []).append(result.gate)
    root = Path(report.root)
    nodes: list[pytest.Collector] = []
    for rel in sorted(per_file):
        path = Path(rel) if Path(rel).is_absolute() else root / rel
        nodes.append(
            KaviFile.from_parent(
                session, path=path, gates=tuple(per_file[rel]), rel=rel, report_source=report_source
            )
        )
    owned = {
        r.gate: frozenset(r.checked) if r.gate in file_gates else frozenset()
        for r in report.results
    }
    nodes.append(
        KaviGates.from_parent(
            session, name="kavi", nodeid="kavi", owned=owned, report_source=report_source
        )
    )
    items: list[pytest.Item] = []
    for node in nodes:
        items.extend(i for i in session.genitems(node) if isinstance(i, pytest.Item))
    return items
