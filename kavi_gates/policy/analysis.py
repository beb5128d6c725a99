"""One iterative walk over a libcst module that records what the rules need.

No ``CSTVisitor`` and no metadata providers (DESIGN.md: both are slow and recurse): a
stack over the node fields, a light scope model (``scopes.py``) and facts the rules read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

import libcst as cst

from kavi_gates.policy.scopes import BUILTIN_NAMES, Binding, Scope, ScopeKind, ident

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
_FIELDS: dict[type, tuple[str, ...]] = {}
_COMPOUND = (cst.If, cst.Try, cst.TryStar, cst.For, cst.While, cst.With, cst.Match)
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)


_LEAF, _GENERIC, _GENERIC_STATEMENT, _SPECIAL, _STATEMENT = range(5)
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
_SPECIAL_TYPES = (
    cst.Name,
    cst.Attribute,
    cst.Call,
    cst.Subscript,
    cst.Import,
    cst.ImportFrom,
    cst.FunctionDef,
    cst.ClassDef,
    cst.Lambda,
    *_COMPREHENSIONS,
    cst.Assign,
    cst.AnnAssign,
    cst.AugAssign,
    cst.NamedExpr,
    cst.For,
    cst.AsName,
    cst.Del,
    cst.Global,
    cst.Nonlocal,
    cst.Arg,
    cst.MatchAs,
    cst.MatchStar,
    cst.MatchMapping,
    cst.TypeVar,
    cst.TypeVarTuple,
    cst.ParamSpec,
    *_COMPOUND,
)
_KINDS: dict[type, int] = {}


def _kind(node_type: type) -> int:
    """How the walker treats a node type (cached: an isinstance chain per node is slow)."""
    kind = _KINDS.get(node_type)
    if kind is None:
        statement = issubclass(node_type, cst.BaseStatement | cst.BaseSmallStatement)
        if issubclass(node_type, _LEAF_TYPES):
            kind = _LEAF
        elif issubclass(node_type, _SPECIAL_TYPES):
            kind = _STATEMENT if statement else _SPECIAL
        else:
            kind = _GENERIC_STATEMENT if statement else _GENERIC
        _KINDS[node_type] = kind
    return kind


_NODE_TYPES: dict[type, bool] = {}


def _is_node(value_type: type) -> bool:
    """``isinstance(x, CSTNode)`` goes through ABCMeta; a per-type cache is much cheaper."""
    known = _NODE_TYPES.get(value_type)
    if known is None:
        known = _NODE_TYPES[value_type] = issubclass(value_type, cst.CSTNode)
    return known


def _fields(node_type: type) -> tuple[str, ...]:
    names = _FIELDS.get(node_type)
    if names is None:
        names = tuple(
            f.name
            for f in dataclasses.fields(node_type)
            if not f.name.startswith(_SKIP_FIELD_PREFIXES)
        )
        _FIELDS[node_type] = names
    return names


def dotted_name(node: cst.CSTNode | None) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(ident(node.attr.value))
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(ident(node.value))
    return ".".join(reversed(parts))


def literal_string(node: cst.CSTNode | None) -> str | None:
    """The value of a string literal without interpolation (also implicit concatenation)."""
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.FormattedString) and all(
        isinstance(p, cst.FormattedStringText) for p in node.parts
    ):
        return "".join(p.value for p in node.parts if isinstance(p, cst.FormattedStringText))
    return None


@dataclass(frozen=True, eq=False)
class ImportSite:
    """A static import statement's effect: modules it loads and the node to report at."""

    node: cst.CSTNode
    targets: tuple[str, ...]
    """Qualified names this import reaches: ``import a.b`` → (a.b,); ``from a import b`` →
    (a, a.b); a star import → (a,)."""
    star: bool = False


@dataclass(frozen=True, eq=False)
class Ref:
    """A load of a name or an attribute chain rooted in one (``os.path.join``)."""

    node: cst.BaseExpression
    base: cst.BaseExpression
    attrs: tuple[str, ...]
    scope: Scope
    order: int


@dataclass(frozen=True, eq=False)
class Site:
    """A node of interest (call, subscript, attribute) with where it sits."""

    node: cst.CSTNode
    scope: Scope
    order: int


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
    tracked_values: set[int] = field(default_factory=set)
    _star_cache: dict[str, frozenset[str]] = field(default_factory=dict)
    memo: dict[str, object] = field(default_factory=dict)
    """Per-file results rules share (computed once, whichever rule asks first)."""
    """Bare names whose use the scope model follows (``m = os``): not escapes."""

    # -- resolution ---------------------------------------------------------------------
    def resolve_name(self, name: str, scope: Scope, order: int) -> frozenset[str]:
        return frozenset(self._resolve_name(name, scope, order, set()))

    def _star_names(self, name: str) -> frozenset[str]:
        """What ``name`` may be if a star import provides it (cached per name)."""
        if not self.star_modules:
            return frozenset()
        cached = self._star_cache.get(name)
        if cached is None:
            cached = self._star_cache[name] = frozenset(f"{m}.{name}" for m in self.star_modules)
        return cached

    def _resolve_name(self, name: str, scope: Scope, order: int, seen: set[int]) -> set[str]:
        if name == "__builtins__":
            return {"builtins"}
        owner = self._owner(name, scope)
        if owner is None:
            found = set(self._star_names(name))
            if name in BUILTIN_NAMES:
                found.add(f"builtins.{name}")
            return found
        out: set[str] = set()
        for binding in owner.bindings[name]:
            out |= self._resolve_binding(binding, owner, seen)
        if owner.kind != "function":
            # A star import anywhere in the module may rebind the name.
            out |= self._star_names(name)
            if name in BUILTIN_NAMES and not self._shadowed(owner, name, scope, order):
                out.add(f"builtins.{name}")
        return out

    @staticmethod
    def _owner(name: str, scope: Scope) -> Scope | None:
        if name in scope.declared_global:
            module = scope.module()
            return module if name in module.bindings else None
        current: Scope | None = scope
        first = True
        while current is not None:
            # Class bodies are not enclosing scopes for the functions inside them.
            if (first or current.kind != "class") and name in current.bindings:
                return current
            first = False
            current = current.parent
        return None

    @staticmethod
    def _shadowed(owner: Scope, name: str, scope: Scope, order: int) -> bool:
        """Is the owner's binding certainly in place when this reference runs?"""
        bindings = owner.bindings[name]
        if any(b.kind == "del" for b in bindings):
            return False  # `del name` brings the builtin back
        unconditional = [b for b in bindings if not b.conditional]
        if owner is scope:
            return any(b.order < order for b in unconditional)
        return bool(unconditional)  # used from a nested function: runs after module load

    def _resolve_binding(self, binding: Binding, owner: Scope, seen: set[int]) -> set[str]:
        if binding.kind == "import":
            return {binding.origin}
        if binding.kind == "alias" and binding.alias is not None:
            if id(binding) in seen:
                return set()
            seen.add(id(binding))
            return self._resolve_expr(binding.alias, owner, binding.order, seen)
        return set()

    def resolve(self, expr: cst.CSTNode, scope: Scope, order: int) -> frozenset[str]:
        """Every qualified name an expression may denote (empty when unknown)."""
        return frozenset(self._resolve_expr(expr, scope, order, set()))

    def _resolve_expr(
        self, expr: cst.CSTNode, scope: Scope, order: int, seen: set[int]
    ) -> set[str]:
        attrs: list[str] = []
        while type(expr) is cst.Attribute:
            attrs.append(ident(expr.attr.value))
            expr = expr.value
        suffix = "." + ".".join(reversed(attrs)) if attrs else ""
        if type(expr) is cst.Name:
            bases = self._resolve_name(ident(expr.value), scope, order, seen)
        elif type(expr) is cst.Call:
            bases = self._resolve_call_value(expr, scope, order, seen)
        elif type(expr) is cst.Subscript:
            bases = self._resolve_subscript_value(expr, scope, order, seen)
        elif type(expr) is cst.NamedExpr:
            bases = self._resolve_expr(expr.value, scope, order, seen)
        elif type(expr) is cst.IfExp:
            bases = self._resolve_expr(expr.body, scope, order, seen) | self._resolve_expr(
                expr.orelse, scope, order, seen
            )
        elif type(expr) is cst.BooleanOperation:
            bases = self._resolve_expr(expr.left, scope, order, seen) | self._resolve_expr(
                expr.right, scope, order, seen
            )
        else:
            return set()
        return {b + suffix for b in bases}

    def _resolve_call_value(
        self, call: cst.Call, scope: Scope, order: int, seen: set[int]
    ) -> set[str]:
        """What a call returns, when it returns a module or an attribute of one."""
        funcs = self._resolve_expr(call.func, scope, order, seen)
        args = call.args
        first = literal_string(args[0].value) if args else None
        out: set[str] = set()
        if first and funcs & {"builtins.__import__", "importlib.__import__"}:
            out |= {first.split(".")[0], first}
        if first and "importlib.import_module" in funcs:
            out.add(first)
        if first and funcs & {"sys.modules.get", "sys.modules.pop", "sys.modules.setdefault"}:
            out.add(first)
        if len(args) >= 2 and "builtins.getattr" in funcs:
            name = literal_string(args[1].value)
            if name is not None:
                out |= {
                    q + "." + name for q in self._resolve_expr(args[0].value, scope, order, seen)
                }
        # operator.attrgetter("system")(os)
        if isinstance(call.func, cst.Call) and args:
            inner = self._resolve_expr(call.func.func, scope, order, seen)
            name = literal_string(call.func.args[0].value) if call.func.args else None
            if name and "operator.attrgetter" in inner:
                out |= {
                    q + "." + name for q in self._resolve_expr(args[0].value, scope, order, seen)
                }
        return out

    def _resolve_subscript_value(
        self, sub: cst.Subscript, scope: Scope, order: int, seen: set[int]
    ) -> set[str]:
        key = subscript_key(sub)
        if key is None:
            return set()
        values = self._resolve_expr(sub.value, scope, order, seen)
        out: set[str] = set()
        if "sys.modules" in values:
            out.add(key)
        if "builtins" in values or "builtins.__dict__" in values:
            out.add(f"builtins.{key}")
        return out

    def ref_qualnames(self, ref: Ref) -> frozenset[str]:
        suffix = "." + ".".join(ref.attrs) if ref.attrs else ""
        return frozenset(
            b + suffix for b in self._resolve_expr(ref.base, ref.scope, ref.order, set())
        )

    @cached_property
    def resolved_calls(self) -> list[tuple[Site, frozenset[str], frozenset[str]]]:
        """Each call with what its callee may denote and what it may return."""
        out = []
        for site in self.calls:
            call = site.node
            assert isinstance(call, cst.Call)
            funcs = self.resolve(call.func, site.scope, site.order)
            returns = frozenset(self._resolve_call_value(call, site.scope, site.order, set()))
            out.append((site, funcs, returns))
        return out

    @cached_property
    def qualname_universe(self) -> frozenset[str]:
        """Every qualified name any reference or call result in the file may denote."""
        universe: set[str] = set()
        for _ref, quals in self.resolved_refs:
            universe |= quals
        for _site, _funcs, returns in self.resolved_calls:
            universe |= returns
        return frozenset(universe)

    @cached_property
    def called_ids(self) -> frozenset[int]:
        """ids of expressions that are called (``f`` in ``f(x)``)."""
        return frozenset(id(site.node.func) for site in self.calls)  # type: ignore[attr-defined]

    @cached_property
    def resolved_refs(self) -> list[tuple[Ref, frozenset[str]]]:
        return [(ref, self.ref_qualnames(ref)) for ref in self.refs]

    def module_constant(self, name: str, scope: Scope | None = None) -> cst.BaseExpression | None:
        """The value of a module-level name bound exactly once, by a plain assignment, when
        ``name`` as seen from ``scope`` really is that module-level name."""
        name = ident(name)
        if scope is not None and self._owner(name, scope) is not self.root:
            return None
        bindings = self.root.bindings.get(name, [])
        if len(bindings) == 1 and bindings[0].kind == "alias" and not bindings[0].conditional:
            return bindings[0].alias
        return None


def subscript_key(sub: cst.Subscript) -> str | None:
    if len(sub.slice) != 1 or not isinstance(sub.slice[0].slice, cst.Index):
        return None
    return literal_string(sub.slice[0].slice.value)


class _Walker:
    """Builds ``ModuleFacts`` with an explicit stack (deep nesting cannot overflow it)."""

    def __init__(self, module: cst.Module) -> None:
        self.root = Scope("module", None)
        self.facts = ModuleFacts(module=module, root=self.root)
        self.order = 0

    def run(self) -> ModuleFacts:
        # Stack items: (node, scope, conditional-at-this-scope-level)
        stack: list[tuple[cst.CSTNode, Scope, bool]] = [
            (stmt, self.root, False) for stmt in reversed(self.facts.module.body)
        ]
        while stack:
            node, scope, cond = stack.pop()
            self._visit(node, scope, cond, stack)
        return self.facts

    # -- binding helpers -----------------------------------------------------------------
    def _bind(
        self,
        scope: Scope,
        name: str,
        cond: bool,
        kind: str = "local",
        *,
        origin: str = "",
        alias: cst.BaseExpression | None = None,
        node: cst.CSTNode | None = None,
    ) -> None:
        scope.bind(ident(name), Binding(kind, self.order, cond, origin, alias, node))  # type: ignore[arg-type]

    def _bind_target(
        self,
        target: cst.CSTNode,
        scope: Scope,
        cond: bool,
        stack: list[tuple[cst.CSTNode, Scope, bool]],
        value: cst.BaseExpression | None = None,
    ) -> None:
        if isinstance(target, cst.Name):
            if value is not None:
                self._bind(scope, target.value, cond, "alias", alias=value)
            else:
                self._bind(scope, target.value, cond)
        elif isinstance(target, cst.Tuple | cst.List):
            for element in target.elements:
                self._bind_target(element.value, scope, cond, stack)
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value, scope, cond, stack)
        else:  # attribute or subscript targets are loads of their base
            if isinstance(target, cst.Attribute):
                self.facts.assigned_attributes.append(Site(target, scope, self.order))
            stack.append((target, scope, cond))

    def _new_scope(self, kind: ScopeKind, parent: Scope) -> Scope:
        return Scope(kind, parent)

    def _bind_params(self, params: cst.Parameters, scope: Scope) -> None:
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        if isinstance(params.star_arg, cst.Param):
            every.append(params.star_arg)
        if params.star_kwarg is not None:
            every.append(params.star_kwarg)
        for param in every:
            self._bind(scope, param.name.value, False)

    def _param_loads(self, params: cst.Parameters) -> list[cst.CSTNode]:
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        if isinstance(params.star_arg, cst.Param):
            every.append(params.star_arg)
        if params.star_kwarg is not None:
            every.append(params.star_kwarg)
        loads: list[cst.CSTNode] = []
        for param in every:
            if param.default is not None:
                loads.append(param.default)
            if param.annotation is not None:
                loads.append(param.annotation)
        return loads

    # -- the dispatcher --------------------------------------------------------------------
    def _visit(
        self,
        node: cst.CSTNode,
        scope: Scope,
        cond: bool,
        stack: list[tuple[cst.CSTNode, Scope, bool]],
    ) -> None:
        facts = self.facts
        node_type = type(node)
        kind = _kind(node_type)
        if kind is _LEAF:
            return
        if kind is _GENERIC_STATEMENT:
            self.order += 1
        if kind is _GENERIC or kind is _GENERIC_STATEMENT:
            self._push_children(node, scope, cond, stack)
            return
        if kind is _STATEMENT:
            self.order += 1
        if type(node) is cst.Name:
            facts.refs.append(Ref(node, node, (), scope, self.order))
            return
        if type(node) is cst.Attribute:
            attrs: list[str] = []
            base: cst.BaseExpression = node
            while isinstance(base, cst.Attribute):
                attrs.append(ident(base.attr.value))
                facts.attributes.append((base, attrs[-1]))
                base = base.value
            if isinstance(base, cst.Name):
                facts.refs.append(Ref(node, base, tuple(reversed(attrs)), scope, self.order))
            else:
                if isinstance(
                    base,
                    cst.Call | cst.Subscript | cst.NamedExpr | cst.IfExp | cst.BooleanOperation,
                ):
                    facts.refs.append(Ref(node, base, tuple(reversed(attrs)), scope, self.order))
                stack.append((base, scope, cond))
            return
        if type(node) is cst.Call:
            facts.calls.append(Site(node, scope, self.order))
            if (
                isinstance(node.func, cst.Name)
                and node.func.value in ("getattr", "hasattr")
                and len(node.args) >= 2
                and literal_string(node.args[1].value) is not None
            ):
                facts.tracked_values.add(id(node.args[0].value))
            for arg in reversed(node.args):
                stack.append((arg.value, scope, cond))
            stack.append((node.func, scope, cond))
            return
        if type(node) is cst.Subscript:
            facts.subscripts.append(Site(node, scope, self.order))
        elif type(node) is cst.Import:
            for alias in node.names:
                name = dotted_name(alias.name) or ""
                facts.imports.append(ImportSite(alias, (name,)))
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self._bind(
                        scope, alias.asname.name.value, cond, "import", origin=name, node=alias
                    )
                else:
                    top = name.split(".")[0]
                    self._bind(scope, top, cond, "import", origin=top, node=alias)
            return
        elif type(node) is cst.ImportFrom:
            self._visit_import_from(node, scope, cond)
            return
        elif type(node) is cst.FunctionDef or type(node) is cst.ClassDef:
            self._visit_definition(node, scope, cond, stack)
            return
        elif type(node) is cst.Lambda:
            inner = self._new_scope("function", scope)
            self._bind_params(node.params, inner)
            stack.append((node.body, inner, False))
            for load in self._param_loads(node.params):
                stack.append((load, scope, cond))
            return
        elif node_type in _COMPREHENSIONS:
            self._visit_comprehension(node, scope, cond, stack)
            return
        elif type(node) is cst.Assign:
            value = node.value
            simple = all(isinstance(t.target, cst.Name) for t in node.targets)
            for target in node.targets:
                self._bind_target(target.target, scope, cond, stack, value if simple else None)
            if simple and scope.kind != "class":  # K.o = os is not followed through K
                facts.tracked_values.add(id(value))
            stack.append((value, scope, cond))
            return
        elif type(node) is cst.AnnAssign:
            if isinstance(node.target, cst.Name):
                self._bind(
                    scope,
                    node.target.value,
                    cond,
                    "alias" if node.value else "local",
                    alias=node.value,
                )
            else:
                stack.append((node.target, scope, cond))
            stack.append((node.annotation, scope, cond))
            if node.value is not None:
                stack.append((node.value, scope, cond))
            return
        elif type(node) is cst.AugAssign:
            if isinstance(node.target, cst.Name):
                self._bind(scope, node.target.value, cond)
            stack.append((node.target, scope, cond))
            stack.append((node.value, scope, cond))
            return
        elif type(node) is cst.NamedExpr:
            target_scope = scope
            while target_scope.comprehension and target_scope.parent is not None:
                target_scope = target_scope.parent
            self._bind_target(node.target, target_scope, cond, stack, node.value)
            stack.append((node.value, scope, cond))
            return
        elif type(node) is cst.For:
            self._bind_target(node.target, scope, True, stack)
            self._push_children(node, scope, True, stack, skip=("target",))
            return
        elif type(node) is cst.AsName:
            self._bind_target(node.name, scope, True, stack)
            return
        elif type(node) is cst.Del:
            deleted: list[cst.CSTNode] = [node.target]
            while deleted:
                item = deleted.pop()
                if isinstance(item, cst.Name):
                    self._bind(scope, item.value, True, "del")
                elif isinstance(item, cst.Tuple | cst.List):
                    deleted.extend(e.value for e in item.elements)
                else:
                    stack.append((item, scope, cond))
            return
        elif type(node) is cst.Global:
            scope.declared_global.update(ident(item.name.value) for item in node.names)
            return
        elif type(node) is cst.Nonlocal:
            scope.declared_nonlocal.update(ident(item.name.value) for item in node.names)
            return
        elif type(node) is cst.Arg:
            stack.append((node.value, scope, cond))
            return
        elif type(node) is cst.MatchAs or type(node) is cst.MatchStar:
            if node.name is not None:
                self._bind(scope, node.name.value, True)
            if type(node) is cst.MatchAs and node.pattern is not None:
                stack.append((node.pattern, scope, True))
            return
        elif type(node) is cst.MatchMapping and node.rest is not None:
            self._bind(scope, node.rest.value, True)
        elif (
            type(node) is cst.TypeVar
            or type(node) is cst.TypeVarTuple
            or type(node) is cst.ParamSpec
        ):
            return
        if node_type in _COMPOUND and scope.kind != "function":
            cond = True
        self._push_children(node, scope, cond, stack)

    def _push_children(
        self,
        node: cst.CSTNode,
        scope: Scope,
        cond: bool,
        stack: list[tuple[cst.CSTNode, Scope, bool]],
        skip: tuple[str, ...] = (),
    ) -> None:
        children: list[cst.CSTNode] = []
        for name in _fields(type(node)):
            if name in skip:
                continue
            value = getattr(node, name)
            value_type = type(value)
            if value_type is tuple or value_type is list:
                children.extend(v for v in value if _is_node(type(v)))
            elif _is_node(value_type):
                children.append(value)
        for child in reversed(children):
            stack.append((child, scope, cond))

    def _visit_import_from(self, node: cst.ImportFrom, scope: Scope, cond: bool) -> None:
        if node.relative:  # local package modules; the import-graph checks govern those
            return
        module = dotted_name(node.module) or ""
        if isinstance(node.names, cst.ImportStar):
            self.facts.imports.append(ImportSite(node, (module,), star=True))
            if module not in self.facts.star_modules:
                self.facts.star_modules.append(module)
            return
        for alias in node.names:
            name = dotted_name(alias.name) or ""
            self.facts.imports.append(ImportSite(alias, (module, f"{module}.{name}")))
            bound = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                bound = alias.asname.name.value
            self._bind(scope, bound, cond, "import", origin=f"{module}.{name}", node=alias)

    def _visit_definition(
        self,
        node: cst.FunctionDef | cst.ClassDef,
        scope: Scope,
        cond: bool,
        stack: list[tuple[cst.CSTNode, Scope, bool]],
    ) -> None:
        self._bind(
            scope, node.name.value, cond, "class" if isinstance(node, cst.ClassDef) else "local"
        )
        if isinstance(node, cst.FunctionDef):
            inner = self._new_scope("function", scope)
            self._bind_params(node.params, inner)
            stack.append((node.body, inner, False))
            for load in self._param_loads(node.params):
                stack.append((load, scope, cond))
            if node.returns is not None:
                stack.append((node.returns, scope, cond))
        else:
            inner = self._new_scope("class", scope)
            stack.append((node.body, inner, False))
            for arg in (*node.bases, *node.keywords):
                stack.append((arg.value, scope, cond))
        for decorator in node.decorators:
            stack.append((decorator.decorator, scope, cond))

    def _visit_comprehension(
        self,
        node: cst.CSTNode,
        scope: Scope,
        cond: bool,
        stack: list[tuple[cst.CSTNode, Scope, bool]],
    ) -> None:
        assert isinstance(node, _COMPREHENSIONS)
        inner = self._new_scope("function", scope)
        inner.comprehension = True
        for_in: cst.CompFor | None = node.for_in
        first = True
        while for_in is not None:
            # The first iterable is evaluated in the enclosing scope.
            stack.append((for_in.iter, scope if first else inner, cond))
            self._bind_target(for_in.target, inner, False, stack)
            for comp_if in for_in.ifs:
                stack.append((comp_if.test, inner, False))
            first = False
            for_in = for_in.inner_for_in
        if isinstance(node, cst.DictComp):
            stack.append((node.key, inner, False))
            stack.append((node.value, inner, False))
        else:
            stack.append((node.elt, inner, False))


def analyze(module: cst.Module) -> ModuleFacts:
    """Walk a parsed module once and return its facts."""
    return _Walker(module).run()


def iter_string_args(call: cst.Call) -> Iterator[str | None]:
    for arg in call.args:
        yield literal_string(arg.value)
