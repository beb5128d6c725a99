"""Name resolution, the first layer of the policy analysis: one walk over a module
(``walker``), a light scope model (``scopes``) and memoised resolution of names and
expressions to the qualified names they may denote (``resolver``, over the graph of
what names read: ``slots``), gathered in
``ModuleFacts``. Queries and rules build on this package's public names only."""

from __future__ import annotations

from kavi_gates.policy.resolution.facts import ImportSite, ModuleFacts, Ref, Region, Site
from kavi_gates.policy.resolution.fields import children_of, subtree
from kavi_gates.policy.resolution.resolver import MAX_STAR_MODULES, SKILL_CONTEXT, UNKNOWN_SELF
from kavi_gates.policy.resolution.scopes import BUILTIN_NAMES, Binding, Scope, Slot
from kavi_gates.policy.resolution.slots import MAX_NAMES, MAX_PARTS, ResolutionLimit
from kavi_gates.policy.resolution.syntax import (
    dotted_name,
    fold_string,
    ident,
    literal_string,
    string_args,
    subscript_key,
)
from kavi_gates.policy.resolution.walker import analyze

__all__ = [
    "BUILTIN_NAMES",
    "MAX_NAMES",
    "MAX_PARTS",
    "MAX_STAR_MODULES",
    "SKILL_CONTEXT",
    "UNKNOWN_SELF",
    "Binding",
    "ImportSite",
    "ModuleFacts",
    "Ref",
    "Region",
    "ResolutionLimit",
    "Scope",
    "Site",
    "Slot",
    "analyze",
    "children_of",
    "dotted_name",
    "fold_string",
    "ident",
    "literal_string",
    "string_args",
    "subscript_key",
    "subtree",
]
