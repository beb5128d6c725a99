"""Secrets in code: reads of the environment (and other secret stores), and values derived
from them reaching print or a logger.

A read names its variable when it is a literal (``os.environ["API_KEY"]``,
``os.getenv("API_KEY")``, ``os.environ.get("API_KEY")``); anything else (the whole
mapping, a computed key, ``expandvars``) may read every variable. Variables every shell
sets (``HOME``, ``PATH``, ``LANG``, ...) hold no secret. Values flow through assignments,
loops and comprehensions, f-strings and expressions; a function's parameters are not
followed (pass a secret to your own function that prints it and the print is not seen).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from kavi_gates.policy.catalog.secrets import (
    CONTEXT_SECRETS,
    ENV_SOURCES,
    LOG_METHODS,
    PRINTERS,
    SECRET_STORES,
    STANDARD_ENV,
)
from kavi_gates.policy.queries.imports import module_hits
from kavi_gates.policy.queries.matching import matching, ref_hits, return_hits
from kavi_gates.policy.resolution import (
    ModuleFacts,
    Scope,
    Slot,
    children_of,
    literal_string,
    subscript_key,
    subtree,
)

_EVERY_SOURCE = ENV_SOURCES | SECRET_STORES | {CONTEXT_SECRETS}
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


@dataclass(frozen=True, eq=False)
class SecretRead:
    node: cst.CSTNode
    """The expression whose value is the secret (a subscript, a call, the mapping)."""
    source: str
    """The qualified name read (``os.environ``, ``<context>.secrets``, ``keyring``)."""
    key: str | None
    """The variable, when a literal names exactly one; None: any may be read."""

    @property
    def secret(self) -> bool:
        return self.key is None or self.key not in STANDARD_ENV

    @property
    def environment(self) -> bool:
        return self.source in ENV_SOURCES


def secret_reads(facts: ModuleFacts) -> list[SecretRead]:
    """Every read of the environment, of declared secrets or of a secret store."""
    cached = facts.memo.get("secret_reads")
    if cached is None:
        cached = facts.memo["secret_reads"] = list(_secret_reads(facts))
    return cached  # type: ignore[return-value]


def _secret_reads(facts: ModuleFacts) -> Iterator[SecretRead]:
    for node, store in module_hits(facts, SECRET_STORES):
        yield SecretRead(node, store, None)
    matched = matching(facts, _EVERY_SOURCE)
    if not matched:
        return
    calls_by_func: dict[int, cst.Call] = {}
    for site in facts.calls:
        assert isinstance(site.node, cst.Call)
        calls_by_func[id(site.node.func)] = site.node
    values: list[tuple[cst.CSTNode, frozenset[str]]] = [
        (ref.node, found) for ref, found in ref_hits(facts, matched)
    ]
    values += [(site.node, found) for site, found in return_hits(facts, matched)]
    for node, found in values:
        hit = min(found)
        source = matched[hit]
        # The name after the source (``get`` in ``os.environ.get``; a re-export such as
        # ``shutil.os.environ`` has more before it).
        rest = hit.rpartition(source)[2].lstrip(".")
        key: str | None = None
        sub = facts.subscript_of.get(id(node))
        call = calls_by_func.get(id(node))
        if source in SECRET_STORES:
            node = call if call is not None else node
        elif rest in ("", "get", "setdefault", "pop") and call is not None:  # a getter's call
            node = call
            key = _first_literal(call)
            if source.endswith("expandvars"):
                key = _expanded_variable(call)
        elif rest == "" and sub is not None:
            node, key = sub, subscript_key(sub)
        yield SecretRead(node, source, key)


def _first_literal(call: cst.Call) -> str | None:
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return literal_string(positional[0].value) if positional else None


def _expanded_variable(call: cst.Call) -> str | None:
    """The one variable ``expandvars("$NAME/...")`` reads (None: several, or computed)."""
    text = _first_literal(call)
    names = {str(a or b) for a, b in _VARIABLE.findall(text)} if text is not None else None
    if names is not None and len(names) == 1:
        return names.pop()
    return "HOME" if names is not None and not names else None  # no variable: reads none


@dataclass(frozen=True, eq=False)
class Leak:
    sink: cst.Call
    read: cst.CSTNode
    """Where the printed value was read."""


def leaks(facts: ModuleFacts) -> list[Leak]:
    """Calls that print or log a value derived from a secret read."""
    reads = [r for r in secret_reads(facts) if r.secret]
    if not reads:
        return []
    printers = [
        (site, site.node)
        for site, funcs, _returns in facts.resolved_calls
        if isinstance(site.node, cst.Call) and _is_printer(site.node, funcs)
    ]
    if not printers:
        return []
    origin = {id(r.node): r.node for r in reads}
    taint = _Taint(facts, origin)
    found: list[Leak] = []
    for site, call in printers:
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value in ("file", "sep", "end", "flush"):
                continue
            read = taint.of(arg.value, site.scope)
            if read is not None:
                found.append(Leak(call, read))
                break
    return found


def _is_printer(call: cst.Call, funcs: frozenset[str]) -> bool:
    if funcs & PRINTERS:
        return True
    func = call.func
    if isinstance(func, cst.Attribute) and not funcs:
        return func.attr.value in LOG_METHODS or func.attr.value == "print"
    return False


# What only tells about a value (whether it is set, its length) does not carry it.
_PREDICATES = frozenset({"bool", "len", "isinstance", "callable", "type"})


def _value_parts(expr: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The nodes of ``expr`` its value may carry: not conditions (``x if key else y``),
    comparisons, ``not`` or predicates (``bool(key)``, ``len(key)``)."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Comparison) or (
            isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not)
        ):
            continue
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Name)
            and node.func.value in _PREDICATES
        ):
            continue
        yield node
        if isinstance(node, cst.IfExp):
            stack.extend((node.body, node.orelse))
        else:
            stack.extend(children_of(node))


class _Taint:
    """Which values derive from a secret read: searched backwards from what is printed,
    through the assignments and loops that give names their values (only the names that
    reach a printer are ever looked at)."""

    def __init__(self, facts: ModuleFacts, origin: dict[int, cst.CSTNode]) -> None:
        self.facts = facts
        self.origin = origin
        self.known: dict[int, cst.CSTNode | None] = {}
        self.loops: dict[int, list[tuple[cst.CSTNode, Scope]]] = {}
        for target, iterable, scope in facts.loop_targets:
            for node in subtree(target):
                slot = facts.slot_of(node.value, scope) if type(node) is cst.Name else None
                if slot is not None:
                    self.loops.setdefault(id(slot), []).append((iterable, scope))

    def of(self, expr: cst.CSTNode, scope: Scope) -> cst.CSTNode | None:
        """The secret read ``expr``'s value derives from, if any."""
        slots: list[Slot] = []
        read = self._parts(expr, scope, slots)
        if read is not None:
            return read
        for slot in slots:
            read = self._slot(slot)
            if read is not None:
                return read
        return None

    def _parts(self, expr: cst.CSTNode, scope: Scope, slots: list[Slot]) -> cst.CSTNode | None:
        for node in _value_parts(expr):
            read = self.origin.get(id(node))
            if read is not None:
                return read
            if type(node) is cst.Name:
                slot = self.facts.slot_of(node.value, scope)
                if slot is not None:
                    slots.append(slot)
        return None

    def _sources(self, slot: Slot) -> list[tuple[cst.CSTNode, Scope]]:
        found: list[tuple[cst.CSTNode, Scope]] = [
            (b.alias, slot.scope) for b in slot.bindings if b.kind == "alias" and b.alias
        ]
        return found + self.loops.get(id(slot), [])

    def _edges(self, slot: Slot) -> tuple[cst.CSTNode | None, list[Slot]]:
        """A read the slot's values carry directly, else the slots they read."""
        deps: list[Slot] = []
        for value, scope in self._sources(slot):
            read = self._parts(value, scope, deps)
            if read is not None:
                return read, []
        return None, deps

    def _slot(self, start: Slot) -> cst.CSTNode | None:
        """The read a slot's value derives from, if any. Every slot reachable from here is
        decided in one pass (Tarjan's strongly connected components, iteratively: slots
        that read each other share one answer), so each slot's values are looked at once
        per file, however many printers reach it and in whatever order."""
        known = self.known
        if id(start) in known:
            return known[id(start)]
        index: dict[int, int] = {}
        low: dict[int, int] = {}
        found: dict[int, cst.CSTNode | None] = {}
        stack: list[Slot] = []
        on_stack: set[int] = set()
        work: list[tuple[Slot, Iterator[Slot]]] = []

        def enter(slot: Slot) -> None:
            key = id(slot)
            index[key] = low[key] = len(index)
            stack.append(slot)
            on_stack.add(key)
            found[key], deps = self._edges(slot)
            work.append((slot, iter(deps)))

        enter(start)
        while work:
            slot, pending = work[-1]
            key = id(slot)
            for dep in pending:
                dkey = id(dep)
                if dkey in known:  # decided earlier (now or by another printer)
                    if found[key] is None:
                        found[key] = known[dkey]
                elif dkey not in index:
                    enter(dep)
                    break
                elif dkey in on_stack:
                    low[key] = min(low[key], index[dkey])
                    if found[key] is None:
                        found[key] = found[dkey]
            else:
                work.pop()
                if low[key] == index[key]:  # a component is complete: one answer for it
                    members: list[Slot] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(id(member))
                        members.append(member)
                        if member is slot:
                            break
                    read = next((found[id(m)] for m in members if found[id(m)] is not None), None)
                    for member in members:
                        known[id(member)] = read
                if work:
                    parent = id(work[-1][0])
                    low[parent] = min(low[parent], low[key])
                    if found[parent] is None:
                        found[parent] = known[key] if key in known else found[key]
        return known[id(start)]
