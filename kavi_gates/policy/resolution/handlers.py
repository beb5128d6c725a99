"""The walker's handlers, one per node type: what each kind of node binds, reads and
records, and which of its children the walk goes on to (pushed so that they come off the
stack in source order). Node types without a handler of their own are walked through their
fields; leaves (literals, ``pass``) are never pushed at all."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import libcst as cst

from kavi_gates.policy.catalog import canonical
from kavi_gates.policy.resolution.facts import ImportSite, Ref, Region, Site
from kavi_gates.policy.resolution.fields import LEAF_TYPES, push
from kavi_gates.policy.resolution.scopes import BindingKind, Scope
from kavi_gates.policy.resolution.syntax import dotted_name, ident, literal_string

if TYPE_CHECKING:
    from kavi_gates.policy.resolution.walker import Walker

Handler = Callable[["Walker", cst.CSTNode, Scope, bool], None]

_COMPOUND = (cst.Try, cst.TryStar, cst.While, cst.With, cst.Match)
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)


def _skip(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    return


def _children(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    push(walker, node, scope, cond)


def _statement_children(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    walker.order += 1
    push(walker, node, scope, cond)


def _compound(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    walker.order += 1
    push(walker, node, scope, cond or scope.kind != "function")


class _RegionEnd:
    """A frame pushed after an ``if TYPE_CHECKING:`` body: popped when the body is done."""

    __slots__ = ("region",)

    def __init__(self, region: Region) -> None:
        self.region = region


def _region_end(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    node.region.last = walker.order  # type: ignore[attr-defined]


def _if(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    walker.order += 1
    assert isinstance(node, cst.If)
    cond = cond or scope.kind != "function"
    test = node.test
    walker.facts.compared.add(id(test))  # ``if x:`` only tests it
    if not (
        (type(test) is cst.Name and test.value == "TYPE_CHECKING")
        or (type(test) is cst.Attribute and test.attr.value == "TYPE_CHECKING")
    ):
        push(walker, node, scope, cond)
        return
    # Which statements are in the body is known only here; whether the test really is
    # typing.TYPE_CHECKING is decided after the walk (``regions``).
    region = Region(test, scope, walker.order + 1)
    walker.facts.type_checking.append(region)
    stack = walker.stack
    if node.orelse is not None:
        stack.append((node.orelse, scope, cond))
    stack.append((_RegionEnd(region), scope, cond))  # type: ignore[arg-type]
    stack.append((node.body, scope, cond))
    stack.append((test, scope, cond))


_EQUALITY = (cst.Is, cst.IsNot, cst.Equal, cst.NotEqual)
_MEMBERSHIP = (cst.In, cst.NotIn)
_LITERAL_CONTAINERS = (cst.Tuple, cst.List, cst.Set)


def _comparison(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    """Operands only compared, and containers only searched, let nothing escape."""
    assert isinstance(node, cst.Comparison)
    facts = walker.facts
    if all(isinstance(t.operator, _EQUALITY + _MEMBERSHIP) for t in node.comparisons):
        facts.compared.add(id(node.left))
        for target in node.comparisons:
            comparator = target.comparator
            if isinstance(target.operator, _MEMBERSHIP):
                facts.key_views.add(id(comparator))
                if isinstance(comparator, _LITERAL_CONTAINERS):
                    facts.compared.update(id(e.value) for e in comparator.elements)
            else:
                facts.compared.add(id(comparator))
    push(walker, node, scope, cond)


def _name(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    walker.facts.refs.append(Ref(node, node, (), scope, walker.order))  # type: ignore[arg-type]


_REF_BASES = (cst.Call, cst.Subscript, cst.NamedExpr, cst.IfExp, cst.BooleanOperation)


def _attribute(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    facts = walker.facts
    attrs: list[str] = []
    base: cst.CSTNode = node
    while type(base) is cst.Attribute:
        attrs.append(ident(base.attr.value))
        facts.attributes.append((base, attrs[-1]))
        base = base.value
    attrs.reverse()
    if type(base) is cst.Call:
        facts.method_of[id(base)] = attrs[0]
    if type(base) is cst.Name:
        facts.refs.append(Ref(node, base, tuple(attrs), scope, walker.order))  # type: ignore[arg-type]
        return
    if isinstance(base, _REF_BASES):
        facts.refs.append(Ref(node, base, tuple(attrs), scope, walker.order))  # type: ignore[arg-type]
    walker.stack.append((base, scope, cond))


def _call(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    assert isinstance(node, cst.Call)
    facts = walker.facts
    site = Site(node, scope, walker.order)
    facts.calls.append(site)
    func = node.func
    if (
        type(func) is cst.Name
        and func.value in ("getattr", "hasattr")
        and len(node.args) >= 2
        and literal_string(node.args[1].value) is not None
    ):
        facts.tracked_values.add(id(node.args[0].value))
    stack = walker.stack
    call_of_arg = facts.call_of_arg
    for arg in reversed(node.args):
        value = arg.value
        call_of_arg[id(value)] = site
        if type(value) is cst.Tuple:  # isinstance(x, (a, b)): each is an argument too
            for element in value.elements:
                call_of_arg[id(element.value)] = site
        stack.append((value, scope, cond))
    stack.append((func, scope, cond))


def _subscript(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    facts = walker.facts
    facts.subscripts.append(Site(node, scope, walker.order))
    assert isinstance(node, cst.Subscript)
    facts.subscript_of[id(node.value)] = node
    walker.push_children(node, scope, cond)


def _arg(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    walker.stack.append((node.value, scope, cond))  # type: ignore[attr-defined]


def _import(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    walker.order += 1  # a statement
    assert isinstance(node, cst.Import)
    for alias in node.names:
        name = canonical(dotted_name(alias.name) or "")
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            local, bound = alias.asname.name.value, name
        else:
            local = bound = (dotted_name(alias.name) or "").split(".")[0]
        walker.facts.imports.append(
            ImportSite(alias, (name,), False, walker.order, scope, ident(local), bound)
        )
        walker.bind(scope, local, cond, "import", origin=bound)


def _import_from(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    walker.order += 1  # a statement
    assert isinstance(node, cst.ImportFrom)
    if node.relative:  # local package modules; the import-graph checks govern those
        return
    facts = walker.facts
    module = canonical(dotted_name(node.module) or "")
    if isinstance(node.names, cst.ImportStar):
        facts.imports.append(ImportSite(node, (module,), True, walker.order, scope))
        facts.star_imports.append((module, walker.order, cond))
        if module not in facts.star_set:  # a set: thousands of star imports stay linear
            facts.star_set.add(module)
            facts.star_modules.append(module)
        return
    for alias in node.names:
        name = dotted_name(alias.name) or ""
        full = canonical(f"{module}.{name}")
        local = name
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            local = alias.asname.name.value
        facts.imports.append(
            ImportSite(alias, (module, full), False, walker.order, scope, ident(local), full)
        )
        walker.bind(scope, local, cond, "import", origin=full)


def _function_def(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    walker.order += 1  # a statement
    assert isinstance(node, cst.FunctionDef)
    walker.bind(scope, node.name.value, cond)
    inner = Scope("function", scope)
    walker.bind_params(node.params, inner)
    walker.stack.append((node.body, inner, False))
    walker.push_param_loads(node.params, scope, cond)
    if node.returns is not None:
        walker.stack.append((node.returns, scope, cond))
    for decorator in node.decorators:
        walker.stack.append((decorator.decorator, scope, cond))
    if node.returns is not None:
        walker.facts.annotations.append(Site(node.returns.annotation, scope, walker.order))


def _class_def(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    walker.order += 1  # a statement
    assert isinstance(node, cst.ClassDef)
    walker.bind(scope, node.name.value, cond, "class")
    stack = walker.stack
    stack.append((node.body, Scope("class", scope), False))
    for arg in (*node.bases, *node.keywords):
        stack.append((arg.value, scope, cond))
    for decorator in node.decorators:
        stack.append((decorator.decorator, scope, cond))


def _lambda(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    assert isinstance(node, cst.Lambda)
    inner = Scope("function", scope)
    walker.bind_params(node.params, inner)
    walker.stack.append((node.body, inner, False))
    walker.push_param_loads(node.params, scope, cond)


def _comprehension(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    assert isinstance(node, _COMPREHENSIONS)
    inner = Scope("function", scope, comprehension=True)
    stack = walker.stack
    for_in: cst.CompFor | None = node.for_in
    first = True
    while for_in is not None:
        # The first iterable is evaluated in the enclosing scope.
        stack.append((for_in.iter, scope if first else inner, cond))
        walker.facts.key_views.add(id(for_in.iter))
        walker.facts.loop_targets.append((for_in.target, for_in.iter, inner))
        walker.bind_target(for_in.target, inner, False)
        for comp_if in for_in.ifs:
            stack.append((comp_if.test, inner, False))
        first = False
        for_in = for_in.inner_for_in
    if isinstance(node, cst.DictComp):
        stack.append((node.key, inner, False))
        stack.append((node.value, inner, False))
    else:
        stack.append((node.elt, inner, False))


def _assign(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    walker.order += 1  # a statement
    assert isinstance(node, cst.Assign)
    value = node.value
    simple = all(type(t.target) is cst.Name for t in node.targets)
    for target in node.targets:
        walker.bind_target(target.target, scope, cond, value if simple else None)
    if simple and scope.kind != "class":  # K.o = os is not followed through K
        walker.facts.tracked_values.add(id(value))
    walker.stack.append((value, scope, cond))


def _ann_assign(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    walker.order += 1  # a statement
    assert isinstance(node, cst.AnnAssign)
    stack = walker.stack
    if isinstance(node.target, cst.Name):
        kind: BindingKind = "alias" if node.value else "local"
        walker.bind(scope, node.target.value, cond, kind, alias=node.value)
    else:
        stack.append((node.target, scope, cond))
    stack.append((node.annotation, scope, cond))
    walker.facts.annotations.append(Site(node.annotation.annotation, scope, walker.order))
    if node.value is not None:
        stack.append((node.value, scope, cond))


def _aug_assign(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    walker.order += 1  # a statement
    assert isinstance(node, cst.AugAssign)
    if isinstance(node.target, cst.Name):
        walker.bind(scope, node.target.value, cond)
    elif isinstance(node.target, cst.Subscript):
        walker.facts.assigned_subscripts.append(Site(node.target, scope, walker.order))
    walker.stack.append((node.target, scope, cond))
    walker.stack.append((node.value, scope, cond))


def _named_expr(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    assert isinstance(node, cst.NamedExpr)
    target_scope = scope
    while target_scope.comprehension and target_scope.parent is not None:
        target_scope = target_scope.parent
    walker.bind_target(node.target, target_scope, cond, node.value)
    walker.stack.append((node.value, scope, cond))


def _for(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    walker.order += 1  # a statement
    assert isinstance(node, cst.For)
    walker.facts.key_views.add(id(node.iter))
    walker.facts.loop_targets.append((node.target, node.iter, scope))
    walker.bind_target(node.target, scope, True)
    walker.push_children(node, scope, True, skip="target")


def _as_name(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    walker.bind_target(node.name, scope, True)  # type: ignore[attr-defined]


def _del(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    walker.order += 1  # a statement
    assert isinstance(node, cst.Del)
    deleted: list[cst.CSTNode] = [node.target]
    while deleted:
        item = deleted.pop()
        if isinstance(item, cst.Name):
            walker.bind(scope, item.value, True, "del")
        elif isinstance(item, cst.Tuple | cst.List):
            deleted.extend(e.value for e in item.elements)
        else:
            if isinstance(item, cst.Subscript):
                walker.facts.assigned_subscripts.append(Site(item, scope, walker.order))
            walker.stack.append((item, scope, cond))


def _global(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    walker.order += 1  # a statement
    scope.declared_global.update(ident(item.name.value) for item in node.names)  # type: ignore[attr-defined]


def _nonlocal(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    walker.order += 1  # a statement
    scope.declared_nonlocal.update(ident(item.name.value) for item in node.names)  # type: ignore[attr-defined]


def _match_capture(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    assert isinstance(node, cst.MatchAs | cst.MatchStar)
    if node.name is not None:
        walker.bind(scope, node.name.value, True)
    if isinstance(node, cst.MatchAs) and node.pattern is not None:
        walker.stack.append((node.pattern, scope, True))


def _match_mapping(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    assert isinstance(node, cst.MatchMapping)
    if node.rest is not None:
        walker.bind(scope, node.rest.value, True)
    walker.push_children(node, scope, cond)


HANDLERS: dict[type, Handler] = {
    cst.Name: _name,
    cst.Attribute: _attribute,
    cst.Call: _call,
    cst.Subscript: _subscript,
    cst.Arg: _arg,
    cst.Import: _import,
    cst.ImportFrom: _import_from,
    cst.FunctionDef: _function_def,
    cst.ClassDef: _class_def,
    cst.Lambda: _lambda,
    **dict.fromkeys(_COMPREHENSIONS, _comprehension),
    cst.Assign: _assign,
    cst.AnnAssign: _ann_assign,
    cst.AugAssign: _aug_assign,
    cst.NamedExpr: _named_expr,
    cst.For: _for,
    cst.AsName: _as_name,
    cst.Del: _del,
    cst.Global: _global,
    cst.Nonlocal: _nonlocal,
    cst.MatchAs: _match_capture,
    cst.MatchStar: _match_capture,
    cst.MatchMapping: _match_mapping,
    cst.If: _if,
    _RegionEnd: _region_end,
    cst.Comparison: _comparison,
    cst.TypeVar: _skip,  # PEP 695 type parameters bind nothing the rules follow
    cst.TypeVarTuple: _skip,
    cst.ParamSpec: _skip,
    **dict.fromkeys(_COMPOUND, _compound),
}


def handler_for(node_type: type) -> Handler:
    """Leaves are skipped; other nodes are walked through their fields."""
    if issubclass(node_type, LEAF_TYPES):
        handler: Handler = _skip
    elif issubclass(node_type, cst.BaseStatement | cst.BaseSmallStatement):
        handler = _statement_children
    else:
        handler = _children
    HANDLERS[node_type] = handler
    return handler
