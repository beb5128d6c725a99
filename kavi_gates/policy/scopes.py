"""A light scope model: enough to resolve a name to the qualified names it may denote.

Python's rules, simplified in the safe direction:
- a name bound anywhere in a function is local to it (else ``UnboundLocalError``), so a
  parameter or local called ``eval`` is never the builtin;
- at module and class level a binding only shadows a builtin for code after it, and only
  when unconditional (not inside ``if``/``try``/loops/``with``/``match``); until then the
  builtin stays a possibility;
- names that resolve nowhere are builtins, or come from a star import.
A name may denote several things (``x = os if a else sys``): resolution returns every
qualified name it may denote, and rules flag any dangerous one.
"""

from __future__ import annotations

import builtins
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

import libcst as cst

BUILTIN_NAMES = frozenset(dir(builtins))


def ident(name: str) -> str:
    """Python normalises identifiers with NFKC: fullwidth ``eval`` *is* ``eval``."""
    return name if name.isascii() else unicodedata.normalize("NFKC", name)


ScopeKind = Literal["module", "class", "function"]


@dataclass(eq=False)
class Binding:
    """One way a name gets a value in a scope."""

    kind: Literal["import", "alias", "local", "class", "del"]
    order: int
    conditional: bool
    origin: str = ""
    """``import``: the qualified name imported (``os.path``, ``os.system``)."""
    alias: cst.BaseExpression | None = None
    """``alias``: the expression assigned (``f = os.system``), resolved lazily."""
    import_node: cst.CSTNode | None = None


@dataclass(eq=False)
class Scope:
    kind: ScopeKind
    parent: Scope | None
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    declared_global: set[str] = field(default_factory=set)
    declared_nonlocal: set[str] = field(default_factory=set)
    comprehension: bool = False
    """Comprehension scopes: a walrus inside binds in the enclosing scope (PEP 572)."""

    def bind(self, name: str, binding: Binding) -> None:
        if name in self.declared_global:
            module = self.module()
            module.bindings.setdefault(name, []).append(
                Binding(
                    binding.kind,
                    binding.order,
                    True,
                    binding.origin,
                    binding.alias,
                    binding.import_node,
                )
            )
            return
        if name in self.declared_nonlocal:
            target = self.parent
            while target is not None and not (
                target.kind == "function" and name in target.bindings
            ):
                target = target.parent
            if target is not None:
                target.bindings.setdefault(name, []).append(binding)
                return
        self.bindings.setdefault(name, []).append(binding)

    def module(self) -> Scope:
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope
