"""Namespaces and modules handed around as values: when they let names the analysis cannot
see reach a capability, and when they cannot.

A *namespace view* (``globals()``, ``locals()``, ``vars()``, ``vars(m)``, ``m.__dict__``) is
harmless where only its keys are used (``k in globals()``, ``for k in vars(m)``,
``sorted(globals())``, ``.keys()``) or one literal, ordinary key is read (that is a plain
reference, which the other rules resolve). Its values escaping (``.items()``, passed on,
a computed key) or the namespace changing (``globals()[k] = v``) is an escape.

A *module used as a value* (``[os]``, ``{sys: 1}``, ``f(m=os)``) is an escape when it leaves
the file (handed to a function defined elsewhere) or when the file reaches attributes on
objects the analysis cannot follow, by a name that module's capabilities go by
(``x.system``, ``getattr(x, name)``): that is how a module smuggled through a value is used.
Comparing it (``m is sys``) or describing it (``print(sys)``, ``isinstance(m, ...)``) is not.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import libcst as cst

from kavi_gates.policy.catalog import (
    DESERIALIZER_FUNCTIONS,
    DYNAMIC_BUILTINS,
    ESCAPE_ATTRIBUTES,
    IMPORT_MACHINERY_NAMES,
    INTROSPECTION_NAMES,
    MODULE_HOSTS,
    NETWORK_FUNCTIONS,
    NETWORK_MODULES,
    PROCESS_FUNCTIONS,
    PROCESS_MODULES,
)
from kavi_gates.policy.catalog.writes import OPENERS, PATH_CTORS, WRITERS
from kavi_gates.policy.queries.named import named_accesses
from kavi_gates.policy.resolution import ModuleFacts, Ref, Site, literal_string, subscript_key

SCOPE = "<scope>"
"""What ``globals()``, ``locals()`` and ``vars()`` are the namespace of."""
_SCOPE_GETTERS = frozenset({"builtins.globals", "builtins.locals"})
# Builtins that read only a mapping's keys, or only describe a value (neither hands on an
# object nor reaches an attribute by name).
KEY_READERS = frozenset(
    f"builtins.{n}"
    for n in ("len", "sorted", "list", "set", "tuple", "frozenset", "any", "all", "bool")
)
DESCRIBERS = frozenset(
    f"builtins.{n}"
    for n in (
        "print",
        "repr",
        "str",
        "ascii",
        "format",
        "id",
        "hash",
        "type",
        "isinstance",
        "issubclass",
        "callable",
        "bool",
        "hasattr",
        "dir",
        "len",
    )
)
_KEY_METHODS = frozenset({"keys", "__contains__", "__len__"})
_READ_METHODS = frozenset({"get"})
_ALL_BY_NAME = frozenset(
    {"builtins.getattr", "builtins.setattr", "builtins.delattr", "builtins.vars"}
)


@dataclass(frozen=True, eq=False)
class NamespaceView:
    node: cst.CSTNode
    site: Site
    of: str
    """Whose namespace: ``SCOPE`` or the qualified name of a module or class."""
    host: bool
    """The namespace of a module that hosts capabilities (os, builtins, ...)."""
    method: str | None = None
    """The attribute read on the view (``keys`` in ``globals().keys()``), if any."""


def namespace_views(facts: ModuleFacts) -> list[NamespaceView]:
    """Every namespace the file takes as a value (computed once per file)."""
    cached = facts.memo.get("namespace_views")
    if cached is None:
        cached = facts.memo["namespace_views"] = list(_namespace_views(facts))
    return cached  # type: ignore[return-value]


def _hosted(quals: frozenset[str]) -> bool:
    return bool(quals & MODULE_HOSTS) or any(q.endswith(".builtins") for q in quals)


def _namespace_views(facts: ModuleFacts) -> Iterator[NamespaceView]:
    for site, funcs, _returns in facts.resolved_calls:
        call = site.node
        assert isinstance(call, cst.Call)
        method = facts.method_of.get(id(call))
        if funcs & _SCOPE_GETTERS and not call.args:
            yield NamespaceView(call, site, SCOPE, False, method)
        elif "builtins.vars" in funcs:
            if not call.args:
                yield NamespaceView(call, site, SCOPE, False, method)
                continue
            target = facts.resolve(call.args[0].value, site.scope, site.order)
            if target:
                yield NamespaceView(call, site, min(target), _hosted(target), method)
    for access in named_accesses(facts):
        if access.kind == "get" and access.name == "__dict__" and access.receiver is not None:
            target = facts.resolve(access.receiver, access.site.scope, access.site.order)
            if target:
                method = facts.method_of.get(id(access.node))
                yield NamespaceView(access.node, access.site, min(target), _hosted(target), method)
    for ref in facts.refs:
        if "__dict__" not in ref.attrs:
            continue
        index = ref.attrs.index("__dict__")
        owner = facts.resolver.resolve_chain(ref.base, ref.attrs[:index], ref.scope, ref.order)
        if owner:
            node: cst.CSTNode = ref.node
            for _ in range(len(ref.attrs) - index - 1):
                assert isinstance(node, cst.Attribute)
                node = node.value
            method = ref.attrs[index + 1] if index + 1 < len(ref.attrs) else None
            site = Site(node, ref.scope, ref.order)
            yield NamespaceView(node, site, min(owner), _hosted(owner), method)


def view_escape(facts: ModuleFacts, view: NamespaceView) -> str | None:
    """How the view lets names the analysis cannot see out (None: it does not)."""
    if view.host:
        return "the namespace of a module that hosts capabilities is read"
    vid = id(view.node)
    if vid in facts.key_views:
        return None
    call = facts.call_of_arg.get(vid)
    if call is not None:
        assert isinstance(call.node, cst.Call)
        funcs = facts.resolve(call.node.func, call.scope, call.order)
        if funcs and funcs <= KEY_READERS | DESCRIBERS and len(call.node.args) == 1:
            return None
    method = view.method
    if method in _KEY_METHODS:
        return None
    if method in ("update", "setdefault", "pop", "popitem", "clear", "__setitem__"):
        return "a namespace is changed"
    if method in _READ_METHODS:
        read = _method_call(facts, view)
        key = literal_string(read.args[0].value) if read is not None and read.args else None
        if key is not None and _escape_name(key) and id(read) not in facts.compared:
            return f"'{key}' is read by name from a namespace"
        return None if key is not None else "a namespace is read by a computed name"
    sub = facts.subscript_of.get(vid)
    if sub is not None:
        if id(sub) in _assigned_subscripts(facts):
            return "a namespace is changed"
        key = subscript_key(sub)
        if key is not None and _escape_name(key) and id(sub) not in facts.compared:
            return f"'{key}' is read by name from a namespace"
        if key is not None:
            return None  # a plain reference by its literal name
        return "a namespace is read by a computed name"
    return "a namespace is used as a value"


def _escape_name(key: str) -> bool:
    return key in ESCAPE_ATTRIBUTES or key in ("__dict__", "__builtins__", "__import__")


def _assigned_subscripts(facts: ModuleFacts) -> frozenset[int]:
    """ids of the subscripts assigned or deleted (once per file, not once per view)."""
    found = facts.memo.get("assigned_subscript_ids")
    if found is None:
        found = facts.memo["assigned_subscript_ids"] = frozenset(
            id(site.node) for site in facts.assigned_subscripts
        )
    return found  # type: ignore[return-value]


def _method_call(facts: ModuleFacts, view: NamespaceView) -> cst.Call | None:
    """The first call of a method on the view (``globals().get(...)``)."""
    by_receiver: dict[int, cst.Call] | None = facts.memo.get("method_calls")  # type: ignore[assignment]
    if by_receiver is None:  # one pass over the calls per file, not one per view
        by_receiver = {}
        facts.memo["method_calls"] = by_receiver
        for site in facts.calls:
            call = site.node
            assert isinstance(call, cst.Call)
            if isinstance(call.func, cst.Attribute):
                by_receiver.setdefault(id(call.func.value), call)
    return by_receiver.get(id(view.node))


@lru_cache(maxsize=64)
def member_names(module: str) -> frozenset[str]:
    """Names a capability of ``module`` goes by (``system`` for os): reading one of them on
    an object the analysis cannot follow may be reading it on that module."""
    tables = (
        PROCESS_FUNCTIONS,
        NETWORK_FUNCTIONS,
        DYNAMIC_BUILTINS,
        IMPORT_MACHINERY_NAMES,
        INTROSPECTION_NAMES,
        DESERIALIZER_FUNCTIONS,
        PROCESS_MODULES,
        NETWORK_MODULES,
        frozenset(WRITERS),
        frozenset(OPENERS),
        PATH_CTORS,
        frozenset({"os.open", "os.environ", "os.getenv", "os.environb", "os.getenvb"}),
        frozenset({"operator.attrgetter", "operator.methodcaller", "functools.reduce"}),
        frozenset(f"builtins.{n}" for n in ("getattr", "setattr", "delattr", "vars", "open")),
    )
    prefix = module + "."
    found = {
        name[len(prefix) :].split(".")[0]
        for table in tables
        for name in table
        if name.startswith(prefix)
    }
    return frozenset(found) | ESCAPE_ATTRIBUTES | {"__dict__"}


@dataclass(frozen=True)
class ModuleEscape:
    ref: Ref
    module: str
    callee: str | None
    """The function defined elsewhere the module is handed to (None: it stays here)."""


def module_escapes(facts: ModuleFacts) -> list[ModuleEscape]:
    """Modules that host capabilities, used as values the analysis does not follow."""
    found: list[ModuleEscape] = []
    for ref, quals in facts.resolved_refs:
        if ref.attrs or not quals:
            continue
        hosts = quals & MODULE_HOSTS
        rid = id(ref.node)
        if not hosts or rid in facts.tracked_values or rid in facts.compared:
            continue
        callee: str | None = None
        call = facts.call_of_arg.get(rid)
        if call is not None:
            assert isinstance(call.node, cst.Call)
            funcs = facts.resolve(call.node.func, call.scope, call.order)
            if funcs and funcs <= DESCRIBERS:
                continue
            if funcs & _ALL_BY_NAME and call.node.args and call.node.args[0].value is ref.node:
                continue  # getattr(os, ...) and vars(os) are judged as what they are
            if funcs and not funcs & _ALL_BY_NAME:
                callee = min(funcs)
        found.append(ModuleEscape(ref, min(hosts), callee))
    return found


def reaches_by_name(facts: ModuleFacts, modules: frozenset[str]) -> bool:
    """Does the file read, on objects it cannot follow, a name one of ``modules``'
    capabilities goes by, or any name it cannot see?"""
    names: frozenset[str] = frozenset().union(*(member_names(m) for m in modules))
    chain = facts.resolver.resolve_chain
    for ref in facts.refs:
        attrs = ref.attrs
        # Once a prefix of the chain is known, a longer one is known too (an attribute of a
        # known name is a known name) until a ``__self__`` in it maps names to their owners:
        # so each chain is resolved again only after a ``__self__``, not at every name.
        known = False
        for index, attr in enumerate(attrs):
            if index and attrs[index - 1] == "__self__":
                known = False
            if attr in names and not known:
                if not chain(ref.base, attrs[:index], ref.scope, ref.order):
                    return True
                known = True
    for access in named_accesses(facts):
        if access.name is None or names.intersection(access.parts):
            receiver = access.receiver
            if receiver is None or not facts.resolve(
                receiver, access.site.scope, access.site.order
            ):
                return True
    for site, funcs, _returns in facts.resolved_calls:
        call = site.node
        assert isinstance(call, cst.Call)
        if (
            "builtins.vars" in funcs
            and call.args
            and not facts.resolve(call.args[0].value, site.scope, site.order)
        ):
            return True
    return False
