"""``forbid_dynamic_exec``: namespaces, frames and dunders that reach code without naming
it (KAV403). The attribute forms (``f.__globals__``) and the by-name forms
(``getattr(f, "__glo" + "bals__")``, ``attrgetter``, ``vars(m)["..."]``) are one finding."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from kavi_gates.codes import policy as codes
from kavi_gates.policy.catalog import (
    DYNAMIC_BUILTINS,
    ESCAPE_ATTRIBUTES,
    INTROSPECTION_NAMES,
    MODULE_HOSTS,
    NETWORK_FUNCTIONS,
    NETWORK_METHODS,
    PROCESS_FUNCTIONS,
    PROCESS_METHODS,
)
from kavi_gates.policy.queries import name_hits
from kavi_gates.policy.queries.escapes import (
    DESCRIBERS,
    SCOPE,
    module_escapes,
    namespace_views,
    reaches_by_name,
    view_escape,
)
from kavi_gates.policy.queries.named import named_accesses
from kavi_gates.policy.resolution import ModuleFacts, Site, literal_string
from kavi_gates.policy.rule import Rule, Violation

_WHY = "(policy.forbid_dynamic_exec)"
# Attribute names whose use in attrgetter/methodcaller reaches a banned function without
# naming it in an attribute chain.
DANGEROUS_ATTRS = (
    frozenset(
        q.rsplit(".", 1)[-1] for q in (*PROCESS_FUNCTIONS, *NETWORK_FUNCTIONS, *DYNAMIC_BUILTINS)
    )
    | PROCESS_METHODS
    | NETWORK_METHODS
    | {"system", "popen", "modules", "__dict__"}
)
# What code may change on sys without fooling the analysis or running code: the streams.
_SYS_STREAMS = frozenset({"stdout", "stderr", "stdin"})
_ATTRIBUTE_FUNCTIONS = frozenset(
    {"builtins.vars", "builtins.getattr", "builtins.setattr", "builtins.delattr"}
)
_SCOPE_FUNCTIONS = frozenset({"builtins.globals", "builtins.locals"})
_NAMES = INTROSPECTION_NAMES - {"builtins", "builtins.vars"} - _SCOPE_FUNCTIONS
_REAL_ESCAPES = ESCAPE_ATTRIBUTES - {"__self__"}


def _is_module(qualname: str) -> bool:
    return "." not in qualname or qualname in MODULE_HOSTS


class IntrospectionEscape(Rule):
    """A namespace or frame is reached by value (KAV403)."""

    code = codes.INTROSPECTION_ESCAPE

    def enabled(self) -> bool:
        return self.policy.forbid_dynamic_exec

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for node, hit in name_hits(facts, _NAMES):
            if _described(facts, node):
                continue  # isinstance(f, types.FunctionType) builds nothing
            name = hit.removeprefix("builtins.")
            yield Violation(node, f"'{name}' exposes a namespace {_WHY}")
        yield from _namespaces(facts)
        yield from _builtins_values(facts)
        for imp in facts.imports:
            if imp.star and imp.targets == ("builtins",):
                yield Violation(imp.node, f"star import of builtins rebinds every builtin {_WHY}")
        yield from _monkeypatching(facts)
        for node, attr in facts.attributes:
            if attr in _REAL_ESCAPES:
                yield Violation(node, f"'{attr}' reaches code or frames {_WHY}")
        yield from _bound_self(facts)
        yield from _by_name(facts)
        yield from _escape_keys(facts)
        yield from _values(facts)


def _described(facts: ModuleFacts, node: cst.CSTNode) -> bool:
    """Is ``node`` only compared or described (``isinstance(x, types.FunctionType)``)?"""
    if id(node) in facts.compared:
        return True
    call = facts.call_of_arg.get(id(node))
    if call is None or not isinstance(call.node, cst.Call):
        return False
    funcs = facts.resolve(call.node.func, call.scope, call.order)
    return bool(funcs) and funcs <= DESCRIBERS


def _namespaces(facts: ModuleFacts) -> Iterator[Violation]:
    for view in namespace_views(facts):
        reason = view_escape(facts, view)
        if reason is None:
            continue
        if view.of == SCOPE:
            call = view.node
            name = (
                call.func.value
                if isinstance(call, cst.Call) and isinstance(call.func, cst.Name)
                else "globals"
            )
            what = f"{name}()"
        else:
            what = f"the namespace of '{view.of}'"
        yield Violation(view.node, f"{reason}: {what} {_WHY}")


def _builtins_values(facts: ModuleFacts) -> Iterator[Violation]:
    for ref, quals in facts.resolved_refs:
        if "builtins" not in quals or ref.attrs or id(ref.node) in facts.compared:
            continue
        call = facts.call_of_arg.get(id(ref.node))
        if call is not None:
            assert isinstance(call.node, cst.Call)
            funcs = facts.resolve(call.node.func, call.scope, call.order)
            if funcs and funcs <= DESCRIBERS:
                continue
        yield Violation(ref.node, f"the builtins namespace is used as a value {_WHY}")


def _monkeypatching(facts: ModuleFacts) -> Iterator[Violation]:
    for site in facts.assigned_attributes:
        target = site.node
        assert isinstance(target, cst.Attribute)
        attr = target.attr.value
        if attr == "TYPE_CHECKING":
            yield Violation(
                target, f"'TYPE_CHECKING' is assigned: typed-only code would run {_WHY}"
            )
            continue
        owners = facts.resolve(target.value, site.scope, site.order)
        if owners == {"sys"} and attr in _SYS_STREAMS:
            continue  # redirecting output runs nothing and hides nothing from the analysis
        if owners and any(_is_module(q) for q in owners):
            yield Violation(target, f"assignment to an attribute of module '{min(owners)}' {_WHY}")
    for access in named_accesses(facts):
        if access.kind not in ("set", "del") or access.name is None or access.receiver is None:
            continue
        owners = facts.resolve(access.receiver, access.site.scope, access.site.order)
        if access.name == "TYPE_CHECKING" or (owners and any(_is_module(q) for q in owners)):
            what = f"module '{min(owners)}'" if owners else "an object"
            yield Violation(access.node, f"'{access.name}' of {what} is changed by name {_WHY}")


def _bound_self(facts: ModuleFacts) -> Iterator[Violation]:
    """``len.__self__`` is the builtins module, ``os.system.__self__`` is posix: ``__self__``
    of a function the analysis knows is that function's module. A bound method's
    ``__self__`` (an object) is not a finding."""
    chain = facts.resolver.resolve_chain
    for ref in facts.refs:
        if "__self__" not in ref.attrs:
            continue
        index = ref.attrs.index("__self__")
        known = [q for q in chain(ref.base, ref.attrs[:index], ref.scope, ref.order) if q[0] != "<"]
        if known:
            yield Violation(
                ref.node, f"'__self__' of '{min(known)}' is the module that defines it {_WHY}"
            )


def _by_name(facts: ModuleFacts) -> Iterator[Violation]:
    for access in named_accesses(facts):
        site = access.site
        receiver = (
            facts.resolve(access.receiver, site.scope, site.order)
            if access.receiver is not None
            else frozenset()
        )
        escapes = set(_REAL_ESCAPES.intersection(access.parts))
        if "__self__" in access.parts and any(q[0] != "<" for q in receiver):
            escapes.add("__self__")
        if escapes:
            yield Violation(
                access.node, f"'{min(escapes)}' reached by name reaches code or frames {_WHY}"
            )
        elif access.kind in ("getter", "caller"):
            if access.name is None or DANGEROUS_ATTRS.intersection(access.parts):
                yield Violation(
                    access.node,
                    f"attrgetter/methodcaller on a computed or dangerous name {_WHY}",
                )
        elif receiver and literal_string(access.node.args[1].value) is None:
            what = "built" if access.name is not None else "computed"
            yield Violation(access.node, f"getattr with a {what} name on '{min(receiver)}' {_WHY}")
    for site, funcs, _returns in facts.resolved_calls:
        call = site.node
        assert isinstance(call, cst.Call)
        if funcs & _ATTRIBUTE_FUNCTIONS - {"builtins.vars"} and any(a.star for a in call.args):
            yield Violation(call, f"getattr with unpacked arguments {_WHY}")


_ESCAPE_KEYS = _REAL_ESCAPES | {"__builtins__", "__import__"}
_NAMESPACE_CALLS = frozenset({"builtins.vars", "builtins.globals", "builtins.locals"})


def _escape_keys(facts: ModuleFacts) -> Iterator[Violation]:
    """``type(f).__dict__["__globals__"]``: an escape name read from any object's
    namespace, known or not (a class's ``__dict__`` holds the descriptors that reach it)."""
    pairs: list[tuple[cst.CSTNode, cst.BaseExpression, cst.BaseExpression, Site]] = []
    for site in facts.subscripts:
        sub = site.node
        assert isinstance(sub, cst.Subscript)
        index = sub.slice[0].slice if len(sub.slice) == 1 else None
        if isinstance(index, cst.Index):
            pairs.append((sub, sub.value, index.value, site))
    for site in facts.calls:
        call = site.node
        assert isinstance(call, cst.Call)
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("get", "pop") and call.args:
            pairs.append((call, func.value, call.args[0].value, site))
    for node, mapping, key, site in pairs:
        if id(node) in facts.compared or not _is_namespace(facts, mapping, site):
            continue  # ``globals().get("__spec__") is None`` only tests
        name = facts.resolver.folded(key, site.scope)
        if name in _ESCAPE_KEYS:
            yield Violation(node, f"'{name}' read by name from a namespace {_WHY}")


def _is_namespace(facts: ModuleFacts, expr: cst.BaseExpression, site: Site) -> bool:
    if isinstance(expr, cst.Attribute):
        return expr.attr.value == "__dict__"
    if isinstance(expr, cst.Call):
        return bool(facts.resolve(expr.func, site.scope, site.order) & _NAMESPACE_CALLS)
    return False


def _values(facts: ModuleFacts) -> Iterator[Violation]:
    called = facts.called_ids
    passable = _ATTRIBUTE_FUNCTIONS | _SCOPE_FUNCTIONS
    for ref, quals in facts.resolved_refs:
        if id(ref.node) in called:
            continue
        passed = quals & passable
        if passed:
            name = min(passed).removeprefix("builtins.")
            yield Violation(ref.node, f"'{name}' passed as a value {_WHY}")
    escapes = [e for e in module_escapes(facts) if e.module != "builtins"]
    staying = frozenset(e.module for e in escapes if e.callee is None)
    reached = bool(staying) and reaches_by_name(facts, staying)
    for escape in escapes:
        if escape.callee is not None:
            yield Violation(
                escape.ref.node,
                f"module '{escape.module}' handed to '{escape.callee}' leaves the analysis {_WHY}",
            )
        elif reached:
            yield Violation(
                escape.ref.node,
                f"module '{escape.module}' used as a value cannot be followed (this file "
                f"reaches attributes of objects it cannot follow by name) {_WHY}",
            )
