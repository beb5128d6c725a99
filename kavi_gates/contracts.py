"""Boundary contracts (``invariants.contracts``): package A must not import package B.

Checked over the static import graph of ``kavi_gates.imports`` for every module of the
contract's ``source`` package, not only governed files. A violation is either direct
(``source.x`` imports ``forbidden.y``) or indirect through other local modules outside the
source package (``source.x -> helper -> forbidden.y``); each is reported once, at the import
in the source package, with the shortest chain. A module named in a contract that does not
exist under the project root is a misconfiguration (``ConfigError``, exit 2), not a finding.
"""

from __future__ import annotations

import ast
import os
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from kavi_gates.codes.invariants import CONTRACT_VIOLATED
from kavi_gates.config import Contract
from kavi_gates.errors import ConfigError
from kavi_gates.imports import ImportRef, module_name, parse_imports, resolve_module
from kavi_gates.models import Finding
from kavi_gates.paths import SKIP_DIRS, relpath


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


class ImportGraph:
    """Local modules under ``root`` and their imports, parsed lazily and at most once."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._edges: dict[str, list[tuple[ImportRef, tuple[str, ...]]]] = {}
        self.unparsable: dict[str, str] = {}

    def file_of(self, module: str) -> Path | None:
        found = resolve_module(module, self.root)
        return found if found is not None and found.is_file() else None

    def modules_in(self, package: str) -> list[str]:
        """Every module of a package (or the single module) under root, sorted.

        Like import-linter, a regular package's modules are those reached through
        directories holding ``__init__.py``: a data directory inside a package (example
        files shipped as package data) is not part of its import graph.
        """
        found = resolve_module(package, self.root)
        if found is None:
            return []
        if found.is_file() and found.name != "__init__.py":
            return [package]
        directory = found if found.is_dir() else found.parent
        regular = found.is_file()
        names: list[str] = []
        for dirpath, dirnames, filenames in os.walk(directory):
            dirnames[:] = sorted(
                d
                for d in dirnames
                if d not in SKIP_DIRS
                and d.isidentifier()
                and (not regular or Path(dirpath, d, "__init__.py").is_file())
            )
            names.extend(
                module_name(Path(dirpath, f), self.root) for f in filenames if f.endswith(".py")
            )
        return sorted(names)

    def _targets(self, ref: ImportRef) -> tuple[str, ...]:
        """Local modules an import executes: parent packages and the most specific module."""
        for candidate in ref.candidates():
            if resolve_module(candidate, self.root) is None:
                continue
            parts = candidate.split(".")
            return tuple(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        return (ref.module,)  # not local: kept so a forbidden name still matches

    def edges(self, module: str) -> list[tuple[ImportRef, tuple[str, ...]]]:
        if module in self._edges:
            return self._edges[module]
        edges: list[tuple[ImportRef, tuple[str, ...]]] = []
        path = self.file_of(module)
        if path is not None:
            try:
                tree = ast.parse(path.read_bytes(), filename=str(path))
            except (SyntaxError, ValueError) as err:
                self.unparsable[module] = f"{type(err).__name__}: {err}"
            else:
                refs = parse_imports(tree, module, path.name == "__init__.py")
                edges = [(ref, self._targets(ref)) for ref in refs]
        self._edges[module] = edges
        return edges


def _chain_to_forbidden(
    graph: ImportGraph, start: str, source: str, forbidden: Sequence[str]
) -> list[str] | None:
    """Shortest import chain from ``start`` to a forbidden module, avoiding ``source``."""
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        if any(_within(current, f) for f in forbidden):
            chain = [current]
            while (step := previous[chain[-1]]) is not None:
                chain.append(step)
            return chain[::-1]
        for _ref, targets in graph.edges(current):
            for target in targets:
                if target not in previous and not _within(target, source):
                    previous[target] = current
                    queue.append(target)
    return None


def _validate(contracts: Sequence[Contract], root: Path) -> None:
    for index, contract in enumerate(contracts):
        for name in (contract.source, *contract.forbidden):
            if resolve_module(name, root) is None:
                raise ConfigError(
                    f"invariants.contracts[{index}]: unknown module {name!r} "
                    f"(no package or module of that name under {root})"
                )


def check_contracts(contracts: Sequence[Contract], root: Path) -> list[Finding]:
    """KAV610 findings for every import that breaks a contract; unknown modules raise."""
    _validate(contracts, root)
    graph = ImportGraph(root)
    findings: list[Finding] = []
    for contract in contracts:
        forbidden = ", ".join(contract.forbidden)
        label = contract.name or f"{contract.source} must not import {forbidden}"
        memo: dict[str, list[str] | None] = {}
        for module in graph.modules_in(contract.source):
            path = graph.file_of(module)
            if path is None:
                continue
            rel = relpath(path, graph.root)
            for ref, targets in graph.edges(module):
                chain: list[str] | None = None
                for target in reversed(targets):  # most specific first
                    if _within(target, contract.source):
                        continue
                    if target not in memo:
                        memo[target] = _chain_to_forbidden(
                            graph, target, contract.source, contract.forbidden
                        )
                    chain = memo[target]
                    if chain is not None:
                        break
                if chain is None:
                    continue
                how = "imports" if len(chain) == 1 else "reaches"
                findings.append(
                    CONTRACT_VIOLATED.finding(
                        rel,
                        f"contract '{label}' broken: {module} {how} {chain[-1]} "
                        f"(chain: {' -> '.join([module, *chain])})",
                        line=ref.line,
                        col=ref.col,
                    ).with_fingerprint(f"{label}\0{module}\0{' '.join(chain)}")
                )
            if module in graph.unparsable:
                findings.append(
                    CONTRACT_VIOLATED.finding(
                        rel,
                        f"contract '{label}' cannot be checked: {module} does not parse "
                        f"({graph.unparsable[module]})",
                    )
                )
    return findings
