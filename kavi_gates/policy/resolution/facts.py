"""What one walk over a module records: imports, references, calls, scopes and bindings.

``ModuleFacts`` is what rules read. Its resolved views (``resolved_refs``,
``resolved_calls``, ``qualname_universe``) are computed once, on first use, through one
memoised ``Resolver``: resolving a file costs time proportional to its size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import libcst as cst

from kavi_gates.policy.resolution.resolver import Resolver
from kavi_gates.policy.resolution.scopes import Scope, Slot
from kavi_gates.policy.resolution.syntax import ident


@dataclass(frozen=True, eq=False)
class ImportSite:
    """A static import statement's effect: modules it loads and the node to report at."""

    node: cst.CSTNode
    targets: tuple[str, ...]
    """Qualified names this import reaches: ``import a.b`` → (a.b,); ``from a import b`` →
    (a, a.b); a star import → (a,)."""
    star: bool = False
    order: int = 0
    scope: Scope | None = None
    name: str = ""
    """The local name the import binds (empty for a star import)."""
    bound: str = ""
    """The qualified name bound to ``name`` (``import a.b`` binds ``a``)."""


class Ref:
    """A load of a name or an attribute chain rooted in one (``os.path.join``)."""

    __slots__ = ("attrs", "base", "node", "order", "scope")

    def __init__(
        self,
        node: cst.BaseExpression,
        base: cst.BaseExpression,
        attrs: tuple[str, ...],
        scope: Scope,
        order: int,
    ) -> None:
        self.node = node
        self.base = base
        self.attrs = attrs
        self.scope = scope
        self.order = order


class Region:
    """The body of an ``if`` whose test may be ``typing.TYPE_CHECKING``: the statements
    with ``first <= order <= last`` (decided after the walk, by resolving ``test``)."""

    __slots__ = ("first", "last", "scope", "test")

    def __init__(self, test: cst.BaseExpression, scope: Scope, first: int) -> None:
        self.test = test
        self.scope = scope
        self.first = first
        self.last = first - 1  # until the walk leaves the body


class Site:
    """A node of interest (call, subscript, attribute) with where it sits."""

    __slots__ = ("node", "order", "scope")

    def __init__(self, node: cst.CSTNode, scope: Scope, order: int) -> None:
        self.node = node
        self.scope = scope
        self.order = order


@dataclass(eq=False)
class ModuleFacts:
    module: cst.Module
    root: Scope
    imports: list[ImportSite] = field(default_factory=list)
    refs: list[Ref] = field(default_factory=list)
    calls: list[Site] = field(default_factory=list)
    subscripts: list[Site] = field(default_factory=list)
    attributes: list[tuple[cst.Attribute, str]] = field(default_factory=list)
    assigned_attributes: list[Site] = field(default_factory=list)
    """``x.y = ...`` targets (monkeypatching a module is a finding)."""
    star_modules: list[str] = field(default_factory=list)
    star_set: set[str] = field(default_factory=set)
    tracked_values: set[int] = field(default_factory=set)
    """ids of values the scope model follows (``m = os``): using them is not an escape."""
    star_imports: list[tuple[str, int, bool]] = field(default_factory=list)
    """Each star import: the module, its statement order, whether it is conditional."""
    annotations: list[Site] = field(default_factory=list)
    """Every annotation (parameters, returns, annotated assignments)."""
    type_checking: list[Region] = field(default_factory=list)
    assigned_subscripts: list[Site] = field(default_factory=list)
    """``x[k] = ...`` and ``del x[k]`` targets."""
    compared: set[int] = field(default_factory=set)
    """ids of expressions only compared or tested (``x is m``, ``m in (a, b)``, ``if m:``):
    nothing escapes."""
    key_views: set[int] = field(default_factory=set)
    """ids of expressions only iterated or searched (``for k in d``, ``k in d``): a
    mapping used there gives up its keys, never its values."""
    call_of_arg: dict[int, Site] = field(default_factory=dict)
    """id of each call argument's value → the call it is passed to."""
    subscript_of: dict[int, cst.Subscript] = field(default_factory=dict)
    """id of each subscripted value → its subscript (``d`` in ``d[k]``)."""
    loop_targets: list[tuple[cst.CSTNode, cst.BaseExpression, Scope]] = field(default_factory=list)
    """``for`` and comprehension targets with the iterable they take values from."""
    method_of: dict[int, str] = field(default_factory=dict)
    """id of a call's result → the attribute read on it (``keys`` in ``globals().keys``)."""
    memo: dict[str, object] = field(default_factory=dict)
    """Per-file results rules share (computed once, whichever rule asks first)."""

    def release(self) -> None:
        """Free what the analysis built (scopes, slots, memos) as soon as the caller drops
        the facts, instead of at the next garbage collection: call it when done."""
        self.root.release()
        self.__dict__.pop("resolver", None)
        self.memo.clear()

    @cached_property
    def resolver(self) -> Resolver:
        return Resolver(self.star_modules, self.star_imports)

    # -- resolution ---------------------------------------------------------------------
    def resolve(self, expr: cst.CSTNode, scope: Scope, order: int) -> frozenset[str]:
        """Every qualified name an expression may denote (empty when unknown)."""
        return self.resolver.resolve(expr, scope, order)

    def resolve_name(self, name: str, scope: Scope, order: int) -> frozenset[str]:
        return self.resolver.resolve_name(name, scope, order)

    def owner_of(self, name: str, scope: Scope) -> Scope | None:
        """The scope whose binding of ``name`` a reference in ``scope`` sees (None: none)."""
        return self.resolver.owner_of(ident(name), scope)

    def slot_of(self, name: str, scope: Scope) -> Slot | None:
        """The bindings a reference to ``name`` in ``scope`` sees (None: builtin or star)."""
        name = ident(name)
        owner = self.resolver.owner_of(name, scope)
        return owner.slots[name] if owner is not None else None

    def ref_qualnames(self, ref: Ref) -> frozenset[str]:
        return self.resolver.resolve_chain(ref.base, ref.attrs, ref.scope, ref.order)

    @cached_property
    def resolved_refs(self) -> list[tuple[Ref, frozenset[str]]]:
        """Each reference with every qualified name it may denote."""
        chain = self.resolver.resolve_chain
        return [(ref, chain(ref.base, ref.attrs, ref.scope, ref.order)) for ref in self.refs]

    @cached_property
    def resolved_calls(self) -> list[tuple[Site, frozenset[str], frozenset[str]]]:
        """Each call with what its callee may denote and what it may return."""
        resolver = self.resolver
        out = []
        for site in self.calls:
            call = site.node
            assert isinstance(call, cst.Call)
            funcs = resolver.resolve(call.func, site.scope, site.order)
            returns = resolver.call_value(call, funcs, site.scope, site.order)
            out.append((site, funcs, returns))
        return out

    @cached_property
    def qualname_universe(self) -> frozenset[str]:
        """Every qualified name any reference or call result in the file may denote."""
        seen: set[int] = set()
        universe: set[str] = set()
        groups = [quals for _ref, quals in self.resolved_refs]
        groups += [returns for _site, _funcs, returns in self.resolved_calls]
        for quals in groups:
            if quals and id(quals) not in seen:  # resolutions are shared: union each once
                seen.add(id(quals))
                universe |= quals
        return frozenset(universe)

    @cached_property
    def called_ids(self) -> frozenset[int]:
        """ids of expressions that are called (``f`` in ``f(x)``)."""
        return frozenset(id(site.node.func) for site in self.calls)  # type: ignore[attr-defined]

    def module_constant(self, name: str, scope: Scope | None = None) -> cst.BaseExpression | None:
        """The value of a module-level name bound exactly once, by a plain assignment, when
        ``name`` as seen from ``scope`` really is that module-level name."""
        name = ident(name)
        if scope is not None and self.resolver.owner_of(name, scope) is not self.root:
            return None
        slot = self.root.slots.get(name)
        bindings = slot.bindings if slot is not None else []
        if len(bindings) == 1 and bindings[0].kind == "alias" and not bindings[0].conditional:
            return bindings[0].alias
        return None
