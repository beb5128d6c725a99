"""Resolving slots (one name in one scope, with every binding the scope gives it) over the
graph of what their bindings read: strongly connected components, dependencies first.

Tarjan's algorithm runs iteratively, so an alias chain 4,000 names long does not recurse
4,000 deep. A slot whose dependencies are resolved needs no graph at all (imports, plain
locals: the usual case). Inside a cycle (``x = x.strip()``, or ``a = b`` / ``b = a`` in a
loop) copies are followed to a fixpoint, and an attribute, call or subscript taken around
the cycle is applied once more (``x = os`` then ``x = x.path`` in a loop gives
``{os, os.path}``): repeating it would only add names no module has, without end.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

import libcst as cst

from kavi_gates.policy.resolution.scopes import Scope, Slot
from kavi_gates.policy.resolution.syntax import ident

MAX_NAMES = 128
"""Qualified names one name or expression may denote before resolution gives up."""

MAX_PARTS = 64
"""Parts a qualified name held by a name may have before resolution gives up: a chain of
names each an attribute of the last (``a2 = a1.b``, ``a3 = a2.b``, ...) would otherwise
build names as long as the chain, and strings whose total length grows with its square."""

EMPTY: frozenset[str] = frozenset()


class ResolutionLimit(Exception):
    """The file needs more than the resolution bounds allow: it cannot be checked."""

    def __init__(self, message: str, node: cst.CSTNode | None = None) -> None:
        super().__init__(message)
        self.node = node


def _resolution_names(expr: cst.CSTNode) -> Iterator[cst.Name]:
    """Names whose value resolving ``expr`` may read (a superset of what it reads)."""
    stack = [expr]
    while stack:
        node = stack.pop()
        while type(node) is cst.Attribute:
            node = node.value
        kind = type(node)
        if kind is cst.Name:
            yield node  # type: ignore[misc]
        elif kind is cst.Call:
            stack.append(node.func)  # type: ignore[attr-defined]
            stack.extend(arg.value for arg in node.args)  # type: ignore[attr-defined]
        elif kind is cst.Subscript or kind is cst.NamedExpr:
            stack.append(node.value)  # type: ignore[attr-defined]
        elif kind is cst.IfExp:
            stack.extend((node.body, node.orelse))  # type: ignore[attr-defined]
        elif kind is cst.BooleanOperation:
            stack.extend((node.left, node.right))  # type: ignore[attr-defined]


class SlotSolver(ABC):
    """Slot values, each computed once; subclasses say how an expression evaluates."""

    def __init__(self) -> None:
        # While a cycle of slots is evaluated: the previous pass's values of its members,
        # and the copy edges (source -> slots that copy it) found in the first pass.
        self._active: dict[Slot, frozenset[str]] | None = None
        self._copies: dict[Slot, list[Slot]] | None = None
        self._target: Slot | None = None

    @abstractmethod
    def owner_of(self, name: str, scope: Scope) -> Scope | None:
        """The scope whose bindings a reference to ``name`` in ``scope`` sees."""

    @abstractmethod
    def _eval(self, expr: cst.CSTNode, scope: Scope, order: int, copy: bool) -> frozenset[str]:
        """What ``expr`` may denote; ``copy``: its value would be copied as it is."""

    def _slot_value(self, slot: Slot, copy: bool) -> frozenset[str]:
        value = slot.value
        if value is not None:
            return value
        active = self._active
        if active is not None and slot in active:
            if copy:  # copies inside a cycle are followed by ``_copy_closure``
                if self._copies is not None and self._target is not None:
                    self._copies[slot].append(self._target)
                return EMPTY
            return active[slot]
        return self._solve(slot)

    def _dependencies(self, slot: Slot) -> list[Slot]:
        found: dict[Slot, None] = {}
        for binding in slot.bindings:
            if binding.kind == "alias" and binding.alias is not None:
                for name_node in _resolution_names(binding.alias):
                    name = ident(name_node.value)
                    owner = self.owner_of(name, slot.scope) if name != "__builtins__" else None
                    if owner is not None:
                        found[owner.slots[name]] = None
        return list(found)

    def _solve(self, start: Slot) -> frozenset[str]:
        """Resolve ``start`` and every unresolved slot it depends on (Tarjan's SCCs)."""
        first = self._dependencies(start)
        if start not in first and all(dep.value is not None for dep in first):
            # The common case (imports, plain locals, names over resolved ones): no graph.
            saved_target = self._target
            try:
                start.value = self._checked(start, self._bindings_value(start))
            finally:
                self._target = saved_target
            return start.value
        saved = (self._active, self._copies, self._target)
        self._active = self._copies = self._target = None
        index: dict[Slot, int] = {start: 0}
        low: dict[Slot, int] = {start: 0}
        deps: dict[Slot, list[Slot]] = {start: first}
        stack: list[Slot] = [start]
        on_stack: set[Slot] = {start}
        work: list[tuple[Slot, Iterator[Slot]]] = [(start, iter(deps[start]))]
        try:
            while work:
                slot, pending = work[-1]
                for dep in pending:
                    if dep.value is not None:
                        continue
                    if dep not in index:
                        index[dep] = low[dep] = len(index)
                        deps[dep] = self._dependencies(dep)
                        stack.append(dep)
                        on_stack.add(dep)
                        work.append((dep, iter(deps[dep])))
                        break
                    if dep in on_stack:
                        low[slot] = min(low[slot], index[dep])
                else:
                    work.pop()
                    if work:
                        parent = work[-1][0]
                        low[parent] = min(low[parent], low[slot])
                    if low[slot] == index[slot]:
                        members: list[Slot] = []
                        while True:
                            member = stack.pop()
                            on_stack.discard(member)
                            members.append(member)
                            if member is slot:
                                break
                        if len(members) == 1 and slot not in deps[slot]:
                            slot.value = self._checked(slot, self._bindings_value(slot))
                        else:
                            self._solve_cycle(members)
        finally:
            self._active, self._copies, self._target = saved
        assert start.value is not None
        return start.value

    def _bindings_value(self, slot: Slot) -> frozenset[str]:
        parts: list[frozenset[str]] = []
        for binding in slot.bindings:
            if binding.kind == "import":
                parts.append(frozenset((binding.origin,)))
            elif binding.kind == "alias" and binding.alias is not None:
                self._target = slot
                value = self._eval(binding.alias, slot.scope, binding.order, True)
                if value:
                    parts.append(value)
        if not parts:
            return EMPTY
        if len(parts) == 1:
            return parts[0]
        return frozenset().union(*parts)

    @staticmethod
    def _checked(slot: Slot, value: frozenset[str]) -> frozenset[str]:
        if len(value) > MAX_NAMES:
            node = next((b.alias for b in slot.bindings if b.alias is not None), None)
            raise ResolutionLimit(
                f"'{slot.name}' may denote more than {MAX_NAMES} qualified names", node
            )
        if any(q.count(".") >= MAX_PARTS for q in value):
            node = next((b.alias for b in slot.bindings if b.alias is not None), None)
            raise ResolutionLimit(
                f"'{slot.name}' may denote a qualified name more than {MAX_PARTS} parts long",
                node,
            )
        return value

    def _solve_cycle(self, members: list[Slot]) -> None:
        """Values for slots that depend on each other: copies to a fixpoint, then every
        attribute, call or subscript around the cycle applied once more."""
        previous: dict[Slot, frozenset[str]] = dict.fromkeys(members, EMPTY)
        edges: dict[Slot, list[Slot]] = {member: [] for member in members}
        self._copies = edges  # recorded in the first round: they are the same in every round
        for _round in range(2):
            self._active = previous
            base = {member: self._bindings_value(member) for member in members}
            self._copies = None
            current = self._copy_closure(base, edges)
            if current == previous:
                break
            previous = current
        self._active = None
        for member in members:
            member.value = previous[member]

    def _copy_closure(
        self, base: dict[Slot, frozenset[str]], copies: dict[Slot, list[Slot]]
    ) -> dict[Slot, frozenset[str]]:
        """Each slot's own values plus everything that reaches it through copies; every
        name crosses each copy edge at most once."""
        values = {slot: set(value) for slot, value in base.items()}
        delta = {slot: set(value) for slot, value in base.items()}
        work = [slot for slot, value in base.items() if value]
        while work:
            source = work.pop()
            moving, delta[source] = delta[source], set()
            for target in copies.get(source, ()):
                new = moving - values[target]
                if new:
                    values[target] |= new
                    if not delta[target]:
                        work.append(target)
                    delta[target] |= new
        return {slot: self._checked(slot, frozenset(value)) for slot, value in values.items()}
