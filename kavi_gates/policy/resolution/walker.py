"""One iterative walk over a libcst module that records what the rules need.

No ``CSTVisitor`` and no metadata providers (DESIGN.md: both are slow and recurse): a
stack over the node fields, a light scope model (``scopes.py``) and a handler per node
type (``handlers.py``), looked up in a table once per node.
"""

from __future__ import annotations

import libcst as cst

from kavi_gates.policy.resolution.facts import ModuleFacts, Site
from kavi_gates.policy.resolution.fields import push
from kavi_gates.policy.resolution.handlers import HANDLERS, handler_for
from kavi_gates.policy.resolution.regions import drop_type_only_imports
from kavi_gates.policy.resolution.scopes import Binding, BindingKind, Scope
from kavi_gates.policy.resolution.syntax import ident

Frame = tuple[cst.CSTNode, Scope, bool]
"""A node to visit, the scope it runs in, and whether it is conditional at that level."""


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
        handlers = HANDLERS
        pop = stack.pop
        while stack:
            node, scope, cond = pop()
            handler = handlers.get(type(node)) or handler_for(type(node))
            handler(self, node, scope, cond)
        return self.facts

    # -- helpers --------------------------------------------------------------------------
    def push_children(
        self, node: cst.CSTNode, scope: Scope, cond: bool, skip: str | None = None
    ) -> None:
        push(self, node, scope, cond, skip)

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
            elif isinstance(target, cst.Subscript):
                self.facts.assigned_subscripts.append(Site(target, scope, self.order))
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
                self.facts.annotations.append(Site(param.annotation.annotation, scope, self.order))


def _every_param(params: cst.Parameters) -> list[cst.Param]:
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    if isinstance(params.star_arg, cst.Param):
        every.append(params.star_arg)
    if params.star_kwarg is not None:
        every.append(params.star_kwarg)
    return every


def analyze(module: cst.Module) -> ModuleFacts:
    """Walk a parsed module once and return its facts."""
    facts = Walker(module).run()
    if facts.type_checking:
        drop_type_only_imports(facts)
    return facts
