"""Shared queries, the second layer of the policy analysis: what references, calls and
imports in a module reach, asked of ``ModuleFacts`` and answered against a catalogue.
Rules ask these instead of walking facts themselves; each answer is computed once per
file and shared by every rule that asks."""

from __future__ import annotations

from kavi_gates.policy.queries.imports import DynamicImport, dynamic_imports, module_hits
from kavi_gates.policy.queries.matching import match_any, matching, ref_hits, return_hits
from kavi_gates.policy.queries.references import method_hits, name_hits
from kavi_gates.policy.queries.writes import (
    WriteOp,
    inside,
    literal_path,
    normalise,
    write_operations,
)

__all__ = [
    "DynamicImport",
    "WriteOp",
    "dynamic_imports",
    "inside",
    "literal_path",
    "match_any",
    "matching",
    "method_hits",
    "module_hits",
    "name_hits",
    "normalise",
    "ref_hits",
    "return_hits",
    "write_operations",
]
