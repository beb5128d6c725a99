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
    tainted = _tainted_slots(facts, origin)
    found: list[Leak] = []
    for site, call in printers:
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value in ("file", "sep", "end", "flush"):
                continue
            read = _taint_of(facts, arg.value, site.scope, origin, tainted)
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


def _taint_of(
    facts: ModuleFacts,
    expr: cst.CSTNode,
    scope: Scope,
    origin: dict[int, cst.CSTNode],
    tainted: dict[int, cst.CSTNode],
) -> cst.CSTNode | None:
    """The secret read ``expr``'s value derives from, if any."""
    for node in _value_parts(expr):
        hit = origin.get(id(node))
        if hit is not None:
            return hit
        if type(node) is cst.Name:
            slot = facts.slot_of(node.value, scope)
            if slot is not None and id(slot) in tainted:
                return tainted[id(slot)]
    return None


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


def _tainted_slots(facts: ModuleFacts, origin: dict[int, cst.CSTNode]) -> dict[int, cst.CSTNode]:
    """Slots (a name in a scope) that may hold a secret: those assigned, or looped over, a
    value that reads one or reads another such slot (one pass over a dependency graph)."""
    sources: list[tuple[Slot, cst.CSTNode, Scope]] = []
    for scope in facts.root.family:
        for slot in scope.slots.values():
            for binding in slot.bindings:
                if binding.kind == "alias" and binding.alias is not None:
                    sources.append((slot, binding.alias, scope))
    for target, iterable, scope in facts.loop_targets:
        for node in subtree(target):
            target_slot = facts.slot_of(node.value, scope) if type(node) is cst.Name else None
            if target_slot is not None:
                sources.append((target_slot, iterable, scope))
    tainted: dict[int, cst.CSTNode] = {}
    readers: dict[int, list[Slot]] = {}
    pending: list[Slot] = []
    for slot, value, scope in sources:
        for node in _value_parts(value):
            read = origin.get(id(node))
            if read is not None and id(slot) not in tainted:
                tainted[id(slot)] = read
                pending.append(slot)
            elif type(node) is cst.Name:
                reads = facts.slot_of(node.value, scope)
                if reads is not None:
                    readers.setdefault(id(reads), []).append(slot)
    while pending:
        slot = pending.pop()
        for reader in readers.get(id(slot), ()):
            if id(reader) not in tainted:
                tainted[id(reader)] = tainted[id(slot)]
                pending.append(reader)
    return tainted
