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

from kavi_gates.policy.resolution.scopes import BUILTIN_NAMES, Scope, Slot
from kavi_gates.policy.resolution.slots import EMPTY, MAX_NAMES, ResolutionLimit, SlotSolver
from kavi_gates.policy.resolution.syntax import ident, literal_string, subscript_key

MAX_STAR_MODULES = 64
"""Distinct modules a file may star-import before resolution gives up."""

_BUILTINS_MODULE = frozenset({"builtins"})
_IMPORT_FUNCTIONS = frozenset({"builtins.__import__", "importlib.__import__"})
_MODULE_TABLE_GETTERS = frozenset({"sys.modules.get", "sys.modules.pop", "sys.modules.setdefault"})


class Resolver(SlotSolver):
    """Resolves names and expressions of one module; every result is memoised."""

    def __init__(self, star_modules: list[str]) -> None:
        super().__init__()
        if len(star_modules) > MAX_STAR_MODULES:
            raise ResolutionLimit(
                f"{len(star_modules)} modules are star-imported (at most {MAX_STAR_MODULES} "
                "can be followed)"
            )
        self._star_modules = tuple(star_modules)
        self._free: dict[str, frozenset[str]] = {}
        self._stars: dict[str, frozenset[str]] = {}
        self._combined: dict[tuple[int, str, bool], tuple[frozenset[str], frozenset[str]]] = {}
        self._suffixed: dict[tuple[int, str], tuple[frozenset[str], frozenset[str]]] = {}

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
            return self._free_name(name)
        slot = owner.slots[name]
        value = self._slot_value(slot, copy)
        if owner.kind == "function":
            return value
        # A star import anywhere in the module may rebind the name, and a builtin stays
        # possible until a binding certainly shadows it.
        builtin = name in BUILTIN_NAMES and not self._shadowed(slot, scope, order)
        if not builtin and not self._star_modules:
            return value
        return self._with_extras(value, name, builtin)

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

    def _free_name(self, name: str) -> frozenset[str]:
        """A name no scope binds: a builtin, or something a star import provides."""
        found = self._free.get(name)
        if found is None:
            found = self._star_names(name)
            if name in BUILTIN_NAMES:
                found = found | {f"builtins.{name}"}
            self._free[name] = found
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
        if not attrs or not value:
            return value
        return self._suffix(value, "." + ".".join(attrs))

    def _suffix(self, value: frozenset[str], suffix: str) -> frozenset[str]:
        key = (id(value), suffix)
        hit = self._suffixed.get(key)
        if hit is None:
            hit = self._suffixed[key] = (value, frozenset(q + suffix for q in value))
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
        elif kind is cst.Call:
            funcs = self._eval(expr.func, scope, order, False)  # type: ignore[attr-defined]
            value = self.call_value(expr, funcs, scope, order)  # type: ignore[arg-type]
        elif kind is cst.Subscript:
            value = self._subscript_value(expr, scope, order)  # type: ignore[arg-type]
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
        if attrs and value:
            return self._suffix(value, "." + ".".join(reversed(attrs)))
        return EMPTY if attrs else value

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
                first = literal_string(args[0].value)
                if first:
                    out.add(first)
                    if importer:
                        out.add(first.split(".")[0])
            if len(args) >= 2 and "builtins.getattr" in funcs:
                name = literal_string(args[1].value)
                if name is not None:
                    out |= self._suffix(self._eval(args[0].value, scope, order, False), "." + name)
        inner = call.func
        if type(inner) is cst.Call and args:  # operator.attrgetter("system")(os)
            getter = self._eval(inner.func, scope, order, False)
            if "operator.attrgetter" in getter:
                name = literal_string(inner.args[0].value) if inner.args else None
                if name:
                    out |= self._suffix(self._eval(args[0].value, scope, order, False), "." + name)
        return frozenset(out) if out else EMPTY

    def _subscript_value(self, sub: cst.Subscript, scope: Scope, order: int) -> frozenset[str]:
        values = self._eval(sub.value, scope, order, False)
        modules = "sys.modules" in values
        namespace = "builtins" in values or "builtins.__dict__" in values
        if not (modules or namespace):
            return EMPTY
        key = subscript_key(sub)
        if key is None:
            return EMPTY
        out = set()
        if modules:
            out.add(key)
        if namespace:
            out.add(f"builtins.{key}")
        return frozenset(out)
