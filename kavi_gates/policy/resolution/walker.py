"""One iterative walk over a libcst module that records what the rules need.

No ``CSTVisitor`` and no metadata providers (DESIGN.md: both are slow and recurse): a
stack over the node fields, a light scope model (``scopes.py``) and a handler per node
type, looked up in a table once per node. Node types without a handler of their own are
walked through their fields; leaves (literals, ``pass``) are never pushed at all.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from typing import Any

import libcst as cst

from kavi_gates.policy.resolution.facts import ImportSite, ModuleFacts, Ref, Site
from kavi_gates.policy.resolution.scopes import Binding, BindingKind, Scope
from kavi_gates.policy.resolution.syntax import dotted_name, ident, literal_string

Frame = tuple[cst.CSTNode, Scope, bool]
"""A node to visit, the scope it runs in, and whether it is conditional at that level."""
Handler = Callable[["Walker", cst.CSTNode, Scope, bool], None]

# Fields that never hold code worth walking (whitespace, punctuation, comments).
_SKIP_FIELD_PREFIXES = (
    "whitespace",
    "lpar",
    "rpar",
    "comma",
    "semicolon",
    "leading_lines",
    "lines_after_decorators",
    "header",
    "footer",
    "equal",
    "colon",
    "dot",
    "lbracket",
    "rbracket",
    "lbrace",
    "rbrace",
    "operator",
    "indent",
    "newline",
    "trailing_whitespace",
    "asynchronous",
    "star",
    "default_indent",
)
_LEAF_TYPES = (
    cst.SimpleString,
    cst.Integer,
    cst.Float,
    cst.Imaginary,
    cst.Ellipsis,
    cst.FormattedStringText,
    cst.Pass,
    cst.Break,
    cst.Continue,
)
_COMPOUND = (cst.If, cst.Try, cst.TryStar, cst.While, cst.With, cst.Match)
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)
_PUSHABLE: dict[type, bool] = {}
# Per node type: a getter of the fields worth walking, last field first (children go on the
# stack in reverse, so that they come off it in source order), and how many there are.
_CHILD_FIELDS: dict[type, tuple[Callable[[cst.CSTNode], Any], int]] = {}


def _fields(node_type: type) -> tuple[str, ...]:
    return tuple(
        f.name for f in dataclasses.fields(node_type) if not f.name.startswith(_SKIP_FIELD_PREFIXES)
    )


def _child_fields(node_type: type) -> tuple[Callable[[cst.CSTNode], Any], int]:
    names = tuple(reversed(_fields(node_type)))
    getter: Callable[[cst.CSTNode], Any] = (
        operator.attrgetter(*names) if names else (lambda node: ())
    )
    found = _CHILD_FIELDS[node_type] = (getter, len(names))
    return found


def _pushable(value_type: type) -> bool:
    """A node worth a visit (``isinstance`` on libcst's ABCs is slow: cache per type)."""
    known = _PUSHABLE.get(value_type)
    if known is None:
        known = _PUSHABLE[value_type] = issubclass(value_type, cst.CSTNode) and not issubclass(
            value_type, _LEAF_TYPES
        )
    return known


class Walker:
    """Builds ``ModuleFacts`` with an explicit stack (deep nesting cannot overflow it)."""

    def __init__(self, module: cst.Module) -> None:
        self.root = Scope("module", None)
        self.facts = ModuleFacts(module=module, root=self.root)
        self.order = 0
        """Statements visited so far: orders bindings against references."""
        self.stack: list[Frame] = []

    def run(self) -> ModuleFacts:
        stack = self.stack
        stack.extend((stmt, self.root, False) for stmt in reversed(self.facts.module.body))
        handlers = _HANDLERS
        pop = stack.pop
        while stack:
            node, scope, cond = pop()
            handler = handlers.get(type(node)) or _handler_for(type(node))
            handler(self, node, scope, cond)
        return self.facts

    # -- helpers --------------------------------------------------------------------------
    def push_children(
        self, node: cst.CSTNode, scope: Scope, cond: bool, skip: str | None = None
    ) -> None:
        _push(self, node, scope, cond, skip)

    def bind(
        self,
        scope: Scope,
        name: str,
        cond: bool,
        kind: BindingKind = "local",
        *,
        origin: str = "",
        alias: cst.BaseExpression | None = None,
    ) -> None:
        scope.bind(ident(name), Binding(kind, self.order, cond, origin, alias))

    def bind_target(
        self,
        target: cst.CSTNode,
        scope: Scope,
        cond: bool,
        value: cst.BaseExpression | None = None,
    ) -> None:
        if isinstance(target, cst.Name):
            if value is not None:
                self.bind(scope, target.value, cond, "alias", alias=value)
            else:
                self.bind(scope, target.value, cond)
        elif isinstance(target, cst.Tuple | cst.List):
            for element in target.elements:
                self.bind_target(element.value, scope, cond)
        elif isinstance(target, cst.StarredElement):
            self.bind_target(target.value, scope, cond)
        else:  # attribute or subscript targets are loads of their base
            if isinstance(target, cst.Attribute):
                self.facts.assigned_attributes.append(Site(target, scope, self.order))
            self.stack.append((target, scope, cond))

    def bind_params(self, params: cst.Parameters, scope: Scope) -> None:
        for param in _every_param(params):
            self.bind(scope, param.name.value, False)

    def push_param_loads(self, params: cst.Parameters, scope: Scope, cond: bool) -> None:
        """Defaults and annotations run in the enclosing scope."""
        for param in _every_param(params):
            if param.default is not None:
                self.stack.append((param.default, scope, cond))
            if param.annotation is not None:
                self.stack.append((param.annotation, scope, cond))


def _push(
    walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool, skip: str | None = None
) -> None:
    """Push the node's code children, so that they come off the stack in source order
    (the hottest loop of the walk: one getter call per node, no intermediate list)."""
    node_type = type(node)
    spec = _CHILD_FIELDS.get(node_type) or _child_fields(node_type)
    values = spec[0](node)
    if spec[1] == 1:
        values = (values,)
    elif skip is not None:
        names = reversed(_fields(node_type))
        values = tuple(v for name, v in zip(names, values, strict=True) if name != skip)
    stack = walker.stack
    pushable = _PUSHABLE
    for value in values:
        value_type = type(value)
        if value_type is tuple or value_type is list:
            for child in reversed(value):
                known = pushable.get(type(child))
                if known is None:
                    known = _pushable(type(child))
                if known:
                    stack.append((child, scope, cond))
        else:
            known = pushable.get(value_type)
            if known is None:
                known = _pushable(value_type)
            if known:
                stack.append((value, scope, cond))


def _every_param(params: cst.Parameters) -> list[cst.Param]:
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    if isinstance(params.star_arg, cst.Param):
        every.append(params.star_arg)
    if params.star_kwarg is not None:
        every.append(params.star_kwarg)
    return every


def analyze(module: cst.Module) -> ModuleFacts:
    """Walk a parsed module once and return its facts."""
    return Walker(module).run()


# -- handlers, one per node type ----------------------------------------------------------
def _skip(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    return


def _children(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    _push(walker, node, scope, cond)


def _statement_children(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    walker.order += 1
    _push(walker, node, scope, cond)


def _compound(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    walker.order += 1
    _push(walker, node, scope, cond or scope.kind != "function")


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
    if type(base) is cst.Name:
        facts.refs.append(Ref(node, base, tuple(attrs), scope, walker.order))  # type: ignore[arg-type]
        return
    if isinstance(base, _REF_BASES):
        facts.refs.append(Ref(node, base, tuple(attrs), scope, walker.order))  # type: ignore[arg-type]
    walker.stack.append((base, scope, cond))


def _call(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    assert isinstance(node, cst.Call)
    facts = walker.facts
    facts.calls.append(Site(node, scope, walker.order))
    func = node.func
    if (
        type(func) is cst.Name
        and func.value in ("getattr", "hasattr")
        and len(node.args) >= 2
        and literal_string(node.args[1].value) is not None
    ):
        facts.tracked_values.add(id(node.args[0].value))
    stack = walker.stack
    for arg in reversed(node.args):
        stack.append((arg.value, scope, cond))
    stack.append((func, scope, cond))


def _subscript(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    walker.facts.subscripts.append(Site(node, scope, walker.order))
    walker.push_children(node, scope, cond)


def _arg(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    walker.stack.append((node.value, scope, cond))  # type: ignore[attr-defined]


def _import(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    walker.order += 1  # a statement
    assert isinstance(node, cst.Import)
    for alias in node.names:
        name = dotted_name(alias.name) or ""
        walker.facts.imports.append(ImportSite(alias, (name,)))
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            walker.bind(scope, alias.asname.name.value, cond, "import", origin=name)
        else:
            top = name.split(".")[0]
            walker.bind(scope, top, cond, "import", origin=top)


def _import_from(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    walker.order += 1  # a statement
    assert isinstance(node, cst.ImportFrom)
    if node.relative:  # local package modules; the import-graph checks govern those
        return
    facts = walker.facts
    module = dotted_name(node.module) or ""
    if isinstance(node.names, cst.ImportStar):
        facts.imports.append(ImportSite(node, (module,), star=True))
        if module not in facts.star_modules:
            facts.star_modules.append(module)
        return
    for alias in node.names:
        name = dotted_name(alias.name) or ""
        facts.imports.append(ImportSite(alias, (module, f"{module}.{name}")))
        bound = name
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            bound = alias.asname.name.value
        walker.bind(scope, bound, cond, "import", origin=f"{module}.{name}")


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
    if node.value is not None:
        stack.append((node.value, scope, cond))


def _aug_assign(walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool) -> None:
    walker.order += 1  # a statement
    assert isinstance(node, cst.AugAssign)
    if isinstance(node.target, cst.Name):
        walker.bind(scope, node.target.value, cond)
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


_HANDLERS: dict[type, Handler] = {
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
    cst.TypeVar: _skip,  # PEP 695 type parameters bind nothing the rules follow
    cst.TypeVarTuple: _skip,
    cst.ParamSpec: _skip,
    **dict.fromkeys(_COMPOUND, _compound),
}


def _handler_for(node_type: type) -> Handler:
    """Leaves are skipped; other nodes are walked through their fields."""
    if issubclass(node_type, _LEAF_TYPES):
        handler: Handler = _skip
    elif issubclass(node_type, cst.BaseStatement | cst.BaseSmallStatement):
        handler = _statement_children
    else:
        handler = _children
    _HANDLERS[node_type] = handler
    return handler
