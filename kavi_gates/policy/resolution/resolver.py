"""Name resolution in time proportional to the file: each name's bindings resolve once.

A *slot* is one name in one scope with every binding the scope gives it; its value is the
set of qualified names those bindings may give it (``x = os`` → ``{"os"}``), computed once
over the graph of slots (``slots.SlotSolver``). References then read finished values, and
equal results are shared objects, so ``x.strip`` read a thousand times costs one lookup
each.

Every value is bounded (``MAX_NAMES`` qualified names, ``MAX_STAR_MODULES`` star imports):
past a bound the file is too complex to resolve, and ``ResolutionLimit`` says so, so the
check fails closed instead of slowing down or guessing.
"""

from __future__ import annotations

import libcst as cst

from kavi_gates.policy.catalog import RESOLVERS, STAR_EXPORTS, canonical
from kavi_gates.policy.resolution.scopes import BUILTIN_NAMES, Scope, Slot
from kavi_gates.policy.resolution.slots import EMPTY, MAX_NAMES, ResolutionLimit, SlotSolver
from kavi_gates.policy.resolution.syntax import fold_string, ident, subscript_key

MAX_STAR_MODULES = 64
"""Distinct modules a file may star-import before resolution gives up."""

SKILL_CONTEXT = "<context>"
"""What ``<something unknown>.context`` denotes: a skill's ``self.context``, whose
attributes are the runtime's capabilities (``<context>.files``)."""
UNKNOWN_SELF = "<__self__>"
"""What ``x.__self__`` denotes when ``x`` is unknown: the object a method is bound to, which
for any builtin function is the builtins module. A name read on it is the builtin of that
name (``x.__self__.eval`` is ``eval``), while the value itself is not taken for the
builtins namespace (a bound method's ``__self__`` is usually an object)."""

_BUILTINS_MODULE = frozenset({"builtins"})
_UNKNOWN_SELF = frozenset({UNKNOWN_SELF})
_SKILL_CONTEXT = frozenset({SKILL_CONTEXT})
_IMPORT_FUNCTIONS = frozenset({"builtins.__import__", "importlib.__import__"})
_MODULE_TABLE_GETTERS = frozenset({"sys.modules.get", "sys.modules.pop", "sys.modules.setdefault"})
_GETTERS = frozenset({"builtins.getattr", "inspect.getattr_static"})


class Resolver(SlotSolver):
    """Resolves names and expressions of one module; every result is memoised."""

    def __init__(
        self,
        star_modules: list[str],
        star_imports: list[tuple[str, int, bool]] = (),  # type: ignore[assignment]
    ) -> None:
        super().__init__()
        if len(star_modules) > MAX_STAR_MODULES:
            raise ResolutionLimit(
                f"{len(star_modules)} modules are star-imported (at most {MAX_STAR_MODULES} "
                "can be followed)"
            )
        self._star_modules = tuple(star_modules)
        # Builtins a star import certainly rebinds (``from re import *`` binds compile):
        # name -> the order of the first unconditional such import.
        self._star_binds: dict[str, int] = {}
        for module, order, conditional in star_imports:
            for name in STAR_EXPORTS.get(module, ()) if not conditional else ():
                if order < self._star_binds.get(name, order + 1):
                    self._star_binds[name] = order
        self._free: dict[tuple[str, bool], frozenset[str]] = {}
        self._stars: dict[str, frozenset[str]] = {}
        self._combined: dict[tuple[int, str, bool], tuple[frozenset[str], frozenset[str]]] = {}
        self._suffixed: dict[tuple[int, str], tuple[frozenset[str], frozenset[str]]] = {}
        # What a call or subscript denotes, where it is: ``a()()()…`` and ``x.f().g()…``
        # chains are evaluated once, not once per call in them (that was quadratic).
        self._evaluated: dict[tuple[int, int, int], frozenset[str]] = {}

    # -- owners ---------------------------------------------------------------------------
    def owner_of(self, name: str, scope: Scope) -> Scope | None:
        """The scope whose bindings a reference to ``name`` in ``scope`` sees."""
        owners = scope.owners
        if name in owners:
            return owners[name]
        if name in scope.declared_global:
            found = scope.root if name in scope.root.slots else None
        elif name in scope.slots:
            found = scope
        else:
            found = self._inherited(name, scope.parent)
        owners[name] = found
        return found

    @staticmethod
    def _inherited(name: str, scope: Scope | None) -> Scope | None:
        """The owner seen from inside ``scope``: class bodies do not enclose functions."""
        path: list[Scope] = []
        found: Scope | None = None
        current = scope
        while current is not None:
            memo = current.inherited
            if name in memo:
                found = memo[name]
                break
            path.append(current)
            if current.kind != "class" and name in current.slots:
                found = current
                break
            current = current.parent
        for visited in path:
            visited.inherited[name] = found
        return found

    # -- names ----------------------------------------------------------------------------
    def resolve_name(self, name: str, scope: Scope, order: int) -> frozenset[str]:
        """Every qualified name ``name`` may denote where it is read."""
        return self._name(ident(name), scope, order, True)

    def _name(self, name: str, scope: Scope, order: int, copy: bool) -> frozenset[str]:
        if name == "__builtins__":
            return _BUILTINS_MODULE
        owner = self.owner_of(name, scope)
        if owner is None:
            return self._free_name(name, self._star_bound(name, scope, order))
        slot = owner.slots[name]
        value = self._slot_value(slot, copy)
        if owner.kind == "function":
            return value
        # A star import anywhere in the module may rebind the name, and a builtin stays
        # possible until a binding certainly shadows it.
        builtin = (
            name in BUILTIN_NAMES
            and not self._shadowed(slot, scope, order)
            and (slot.has_del or not self._star_bound(name, scope, order))
        )
        if not builtin and not self._star_modules:
            return value
        return self._with_extras(value, name, builtin)

    def _star_bound(self, name: str, scope: Scope, order: int) -> bool:
        """Has a star import certainly rebound the builtin ``name`` where it is read?"""
        first = self._star_binds.get(name)
        if first is None:
            return False
        if scope.kind == "function":
            return True  # runs after the module's code, like ``_shadowed`` assumes
        return first < order

    @staticmethod
    def _shadowed(slot: Slot, scope: Scope, order: int) -> bool:
        """Is the slot's binding certainly in place when this reference runs?"""
        if slot.has_del or slot.first_unconditional is None:
            return False  # `del name` brings the builtin back
        if slot.scope is scope:
            return slot.first_unconditional < order
        return True  # used from a nested scope: runs after the enclosing code

    def _star_names(self, name: str) -> frozenset[str]:
        found = self._stars.get(name)
        if found is None:
            found = self._stars[name] = frozenset(f"{m}.{name}" for m in self._star_modules)
        return found

    def _free_name(self, name: str, star_bound: bool = False) -> frozenset[str]:
        """A name no scope binds: a builtin, or something a star import provides."""
        key = (name, star_bound)
        found = self._free.get(key)
        if found is None:
            found = self._star_names(name)
            if name in BUILTIN_NAMES and not star_bound:
                found = found | {f"builtins.{name}"}
            self._free[key] = found
        return found

    def _with_extras(self, value: frozenset[str], name: str, builtin: bool) -> frozenset[str]:
        key = (id(value), name, builtin)
        hit = self._combined.get(key)
        if hit is not None:
            return hit[1]
        extra = self._free_name(name) if builtin else self._star_names(name)
        result = value | extra if extra else value
        self._combined[key] = (value, result)  # keeps ``value`` alive: its id stays unique
        return result

    # -- expressions ----------------------------------------------------------------------
    def resolve(self, expr: cst.CSTNode, scope: Scope, order: int) -> frozenset[str]:
        """Every qualified name an expression may denote (empty when unknown)."""
        return self._eval(expr, scope, order, True)

    def resolve_chain(
        self, base: cst.CSTNode, attrs: tuple[str, ...], scope: Scope, order: int
    ) -> frozenset[str]:
        """What ``base.attr1.attr2…`` may denote."""
        value = self._eval(base, scope, order, not attrs)
        if not attrs:
            return value
        return self._attributes(value, attrs, base)

    def _attributes(
        self, value: frozenset[str], attrs: tuple[str, ...], base: cst.CSTNode
    ) -> frozenset[str]:
        """What ``base.attrs…`` denotes, ``value`` being what ``base`` denotes."""
        if not value and attrs[0] == "context" and type(base) is cst.Name:
            value, attrs = _SKILL_CONTEXT, attrs[1:]
            if not attrs:
                return value
        if UNKNOWN_SELF in value:  # a name read on it is the builtin of that name
            value = (value - _UNKNOWN_SELF) | _BUILTINS_MODULE
        if "__self__" in attrs:
            return self._through_self(value, attrs)
        return self._suffix(value, "." + ".".join(attrs)) if value else EMPTY

    def _through_self(self, value: frozenset[str], attrs: tuple[str, ...]) -> frozenset[str]:
        """``f.__self__`` is what ``f`` is bound to: the module of a module-level builtin
        function (``len.__self__`` is builtins), the class of a classmethod; unknown
        ``f``: possibly builtins (``UNKNOWN_SELF``)."""
        index = attrs.index("__self__")
        if index:
            value = self._suffix(value, "." + ".".join(attrs[:index])) if value else EMPTY
        owners = frozenset(q.rpartition(".")[0] for q in value if "." in q) if value else None
        value = _UNKNOWN_SELF if owners is None else owners
        rest = attrs[index + 1 :]
        return self._attributes(value, rest, cst.Ellipsis()) if rest and value else value

    def _suffix(self, value: frozenset[str], suffix: str) -> frozenset[str]:
        key = (id(value), suffix)
        hit = self._suffixed.get(key)
        if hit is None:
            hit = self._suffixed[key] = (value, frozenset(canonical(q + suffix) for q in value))
        return hit[1]

    def _eval(self, expr: cst.CSTNode, scope: Scope, order: int, copy: bool) -> frozenset[str]:
        kind = type(expr)
        attrs: list[str] | None = None
        if kind is cst.Attribute:
            attrs = []
            while type(expr) is cst.Attribute:
                attrs.append(ident(expr.attr.value))
                expr = expr.value
            kind = type(expr)
            copy = False
        if kind is cst.Name:
            value = self._name(ident(expr.value), scope, order, copy)  # type: ignore[attr-defined]
        elif kind is cst.Call or kind is cst.Subscript:
            key = (id(expr), id(scope), order)
            found = self._evaluated.get(key)
            if found is not None:
                value = found
            else:
                if kind is cst.Call:
                    funcs = self._eval(expr.func, scope, order, False)  # type: ignore[attr-defined]
                    value = self.call_value(expr, funcs, scope, order)  # type: ignore[arg-type]
                else:
                    value = self._subscript_value(expr, scope, order)  # type: ignore[arg-type]
                if self._active is None:  # inside a cycle, values are not final yet
                    self._evaluated[key] = value
        elif kind is cst.NamedExpr:
            value = self._eval(expr.value, scope, order, copy)  # type: ignore[attr-defined]
        elif kind is cst.IfExp:
            value = self._union(
                self._eval(expr.body, scope, order, copy),  # type: ignore[attr-defined]
                self._eval(expr.orelse, scope, order, copy),  # type: ignore[attr-defined]
                expr,
            )
        elif kind is cst.BooleanOperation:
            value = self._union(
                self._eval(expr.left, scope, order, copy),  # type: ignore[attr-defined]
                self._eval(expr.right, scope, order, copy),  # type: ignore[attr-defined]
                expr,
            )
        else:
            return EMPTY
        if attrs:
            return self._attributes(value, tuple(reversed(attrs)), expr)
        return value

    @staticmethod
    def _union(left: frozenset[str], right: frozenset[str], node: cst.CSTNode) -> frozenset[str]:
        if not right or right is left:
            return left
        if not left:
            return right
        value = left | right
        if len(value) > MAX_NAMES:
            raise ResolutionLimit(
                f"an expression may denote more than {MAX_NAMES} qualified names", node
            )
        return value

    def call_value(
        self, call: cst.Call, funcs: frozenset[str], scope: Scope, order: int
    ) -> frozenset[str]:
        """What a call returns, when it returns a module or an attribute of one."""
        args = call.args
        out: set[str] = set()
        if funcs and args:
            importer = funcs & _IMPORT_FUNCTIONS
            if importer or "importlib.import_module" in funcs or funcs & _MODULE_TABLE_GETTERS:
                first = self.folded(args[0].value, scope)
                if first:
                    out.add(canonical(first))
                    if importer:
                        out.add(first.split(".")[0])
            if funcs & RESOLVERS:  # pkgutil.resolve_name("os:system") is os.system
                first = self.folded(args[0].value, scope)
                if first:
                    out.add(canonical(first.replace(":", ".")))
            if len(args) >= 2 and funcs & _GETTERS:
                name = self.folded(args[1].value, scope)
                if name:
                    out |= self._member(args[0].value, name, scope, order)
        inner = call.func
        if type(inner) is cst.Call and args and inner.args:
            # operator.attrgetter("system")(os) is os.system; methodcaller("system", ...)(os)
            # calls it: either way the name is reached on the argument.
            getter = self._eval(inner.func, scope, order, False)
            if "operator.attrgetter" in getter or "operator.methodcaller" in getter:
                name = self.folded(inner.args[0].value, scope)
                if name:
                    out |= self._member(args[0].value, name, scope, order)
        return frozenset(out) if out else EMPTY

    def _member(self, receiver: cst.CSTNode, name: str, scope: Scope, order: int) -> frozenset[str]:
        attrs = tuple(ident(part) for part in name.split("."))
        return self._attributes(self._eval(receiver, scope, order, False), attrs, receiver)

    def folded(self, expr: cst.CSTNode, scope: Scope) -> str | None:
        """The string ``expr`` builds from literals and names bound once to such strings."""
        return fold_string(expr, lambda name: self.constant(name, scope))

    def constant(self, name: str, scope: Scope) -> cst.BaseExpression | None:
        """The expression ``name`` is bound to, when it is bound exactly once, by a plain
        unconditional assignment, in the scope a reference from ``scope`` sees."""
        owner = self.owner_of(ident(name), scope)
        if owner is None:
            return None
        bindings = owner.slots[ident(name)].bindings
        if len(bindings) == 1 and bindings[0].kind == "alias" and not bindings[0].conditional:
            return bindings[0].alias
        return None

    def _subscript_value(self, sub: cst.Subscript, scope: Scope, order: int) -> frozenset[str]:
        key = subscript_key(sub)
        if key is None:
            return EMPTY
        owner = self._namespace_of(sub.value, scope, order)
        if owner is not None:  # globals()["os"] is os, vars(m)["f"] is m.f
            return (
                self._name(ident(key), owner, order, False)
                if isinstance(owner, Scope)
                else (self._suffix(owner, "." + key) if owner else EMPTY)
            )
        values = self._eval(sub.value, scope, order, False)
        modules = "sys.modules" in values
        namespace = "builtins" in values or "builtins.__dict__" in values
        if not (modules or namespace):
            return EMPTY
        out = set()
        if modules:
            out.add(key)
        if namespace:
            out.add(f"builtins.{key}")
        return frozenset(out)

    def _namespace_of(
        self, expr: cst.CSTNode, scope: Scope, order: int
    ) -> Scope | frozenset[str] | None:
        """Whose namespace ``expr`` is: a scope (``globals()``, ``locals()``, ``vars()``),
        the names a ``vars(x)`` or ``x.__dict__`` is of, or None when it is no namespace."""
        if isinstance(expr, cst.Call):
            funcs = self._eval(expr.func, scope, order, False)
            args = expr.args
            if "builtins.globals" in funcs and not args:
                return scope.root
            if funcs & {"builtins.locals", "builtins.vars"} and not args:
                return scope
            if "builtins.vars" in funcs and len(args) == 1:
                return self._eval(args[0].value, scope, order, False)
        elif isinstance(expr, cst.Attribute) and expr.attr.value == "__dict__":
            return self._eval(expr.value, scope, order, False)
        return None
