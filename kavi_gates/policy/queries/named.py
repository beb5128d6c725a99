"""Attributes reached by a name given as a string: ``getattr(x, "name")``, ``setattr``,
``delattr``, ``inspect.getattr_static``, ``operator.attrgetter("a.b")`` and
``operator.methodcaller("name")`` (a method called by name is the call by attribute), and
a format field's ``get_field("0.attr")`` (string.Formatter's getattr).

Names are folded from literals (``"__glo" + "bals__"``, ``"".join([...])``, constants):
what a reader cannot see at a glance the analysis still does. Rules read these to treat
``getattr(f, "__globals__")`` like ``f.__globals__`` and ``methodcaller("write_text")(p)``
like ``p.write_text()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import libcst as cst

from kavi_gates.policy.resolution import ModuleFacts, Site

AccessKind = Literal["get", "set", "del", "getter", "caller"]
_KINDS: dict[str, AccessKind] = {
    "builtins.getattr": "get",
    "inspect.getattr_static": "get",
    "builtins.setattr": "set",
    "builtins.delattr": "del",
    "operator.attrgetter": "getter",
    "operator.methodcaller": "caller",
}
NAME_TAKERS = frozenset(_KINDS)


@dataclass(frozen=True, eq=False)
class NamedAccess:
    node: cst.Call
    """The call that names the attribute (``getattr(...)``, ``attrgetter(...)``)."""
    site: Site
    kind: AccessKind
    receiver: cst.BaseExpression | None
    """The object whose attribute is reached; for attrgetter/methodcaller, the argument
    of the call that applies them right away (``attrgetter("x")(obj)``), else None."""
    name: str | None
    """The attribute's name (dotted for attrgetter), or None when computed at run time."""

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.name.split(".")) if self.name else ()


def named_accesses(facts: ModuleFacts) -> list[NamedAccess]:
    """Every attribute reached by name, in file order (computed once per file)."""
    cached = facts.memo.get("named_accesses")
    if cached is None:
        cached = facts.memo["named_accesses"] = _named_accesses(facts)
    return cached  # type: ignore[return-value]


def _named_accesses(facts: ModuleFacts) -> list[NamedAccess]:
    found: list[NamedAccess] = []
    applied: dict[int, cst.Call] = {}
    takers: list[tuple[Site, AccessKind]] = []
    for site, funcs, _returns in facts.resolved_calls:
        call = site.node
        assert isinstance(call, cst.Call)
        if type(call.func) is cst.Call:
            applied[id(call.func)] = call
        if type(call.func) is cst.Attribute and call.func.attr.value == "get_field":
            # Any class may have a get_field method (Django's _meta has one): only a literal
            # field that reads attributes is string.Formatter's reach by name; a computed one
            # is no more than getattr with a computed name on an unknown object.
            field = facts.resolver.folded(call.args[0].value, site.scope) if call.args else None
            path = _field_path(field)
            if path:
                found.append(NamedAccess(call, site, "getter", None, path))
            continue
        kinds = {_KINDS[q] for q in funcs & NAME_TAKERS}
        if len(kinds) == 1:
            takers.append((site, kinds.pop()))
    for site, kind in takers:
        call = site.node
        assert isinstance(call, cst.Call)
        args = [a for a in call.args if a.keyword is None and not a.star]
        fold = facts.resolver.folded
        if kind in ("get", "set", "del"):
            if len(args) >= 2:
                found.append(
                    NamedAccess(call, site, kind, args[0].value, fold(args[1].value, site.scope))
                )
            continue
        outer = applied.get(id(call))
        receiver = outer.args[0].value if outer is not None and outer.args else None
        names = args if kind == "getter" else args[:1]
        for arg in names:
            found.append(NamedAccess(call, site, kind, receiver, fold(arg.value, site.scope)))
    return found


def _field_path(field: str | None) -> str | None:
    """``"0.a[b].c"`` → ``"a.b.c"``: the attributes and keys a format field reads on its
    argument (None: the field is computed)."""
    if field is None:
        return None
    _argument, _dot, attributes = field.replace("[", ".").replace("]", "").partition(".")
    return attributes
