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
from typing import Literal

import libcst as cst

BUILTIN_NAMES = frozenset(dir(builtins))

ScopeKind = Literal["module", "class", "function"]
BindingKind = Literal["import", "alias", "local", "class", "del"]


class Binding:
    """One way a name gets a value in a scope."""

    __slots__ = ("alias", "conditional", "kind", "order", "origin")

    def __init__(
        self,
        kind: BindingKind,
        order: int,
        conditional: bool,
        origin: str = "",
        alias: cst.BaseExpression | None = None,
    ) -> None:
        self.kind = kind
        self.order = order
        """The statement counter when the binding happens (for builtin shadowing)."""
        self.conditional = conditional
        self.origin = origin
        """``import``: the qualified name imported (``os.path``, ``os.system``)."""
        self.alias = alias
        """``alias``: the expression assigned (``f = os.system``), resolved lazily."""


class Slot:
    """Everything one scope binds to one name, plus what resolving it has found so far.

    The resolver fills the bookkeeping fields; the walker only appends bindings."""

    __slots__ = (
        "bindings",
        "first_unconditional",
        "has_del",
        "index",
        "lowlink",
        "name",
        "scope",
        "value",
    )

    def __init__(self, scope: Scope, name: str) -> None:
        self.scope = scope
        self.name = name
        self.bindings: list[Binding] = []
        self.value: frozenset[str] | None = None
        """Every qualified name the bindings may give the name (None until resolved)."""
        self.index = -1
        self.lowlink = -1
        self.has_del = False
        self.first_unconditional: int | None = None
        """The order of the first unconditional binding (shadows the builtin after it)."""

    def add(self, binding: Binding) -> None:
        self.bindings.append(binding)
        if binding.kind == "del":
            self.has_del = True
        elif not binding.conditional and (
            self.first_unconditional is None or binding.order < self.first_unconditional
        ):
            self.first_unconditional = binding.order


class Scope:
    """A module, class or function (lambdas and comprehensions are functions)."""

    __slots__ = (
        "comprehension",
        "declared_global",
        "declared_nonlocal",
        "family",
        "inherited",
        "kind",
        "owners",
        "parent",
        "root",
        "slots",
    )

    def __init__(self, kind: ScopeKind, parent: Scope | None, comprehension: bool = False) -> None:
        self.kind: ScopeKind = kind
        self.parent = parent
        self.root: Scope = parent.root if parent is not None else self
        self.family: list[Scope] = []
        """The module scope's list of every scope in the module (empty for the others)."""
        self.root.family.append(self)
        self.slots: dict[str, Slot] = {}
        self.declared_global: set[str] = set()
        self.declared_nonlocal: set[str] = set()
        self.comprehension = comprehension
        """Comprehension scopes: a walrus inside binds in the enclosing scope (PEP 572)."""
        self.owners: dict[str, Scope | None] = {}
        """Resolver memo: the scope that owns a name referenced from here."""
        self.inherited: dict[str, Scope | None] = {}
        """Resolver memo: the owner of a name seen from a scope nested in this one."""

    @property
    def bindings(self) -> dict[str, list[Binding]]:
        """Name → every binding of it in this scope."""
        return {name: slot.bindings for name, slot in self.slots.items()}

    def bind(self, name: str, binding: Binding) -> None:
        """Record a binding, following ``global`` and ``nonlocal`` declarations."""
        if name in self.declared_global:
            binding.conditional = True  # the module's own code may run before the function
            self.root.slot(name).add(binding)
            return
        if name in self.declared_nonlocal:
            target = self.parent
            while target is not None and not (target.kind == "function" and name in target.slots):
                target = target.parent
            if target is not None:
                target.slot(name).add(binding)
                return
        self.slot(name).add(binding)

    def slot(self, name: str) -> Slot:
        found = self.slots.get(name)
        if found is None:
            found = self.slots[name] = Slot(self, name)
        return found

    def module(self) -> Scope:
        return self.root

    def release(self) -> None:
        """Drop every scope's slots and memos (of the whole module, from its root): they
        refer to each other, so without this a module's objects wait for the garbage
        collector; with it they go as soon as the last reference does."""
        for scope in self.root.family:
            scope.slots = {}
            scope.owners = {}
            scope.inherited = {}
        self.root.family = []
