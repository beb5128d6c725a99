"""Imports that never run: ``if TYPE_CHECKING:`` blocks.

``typing.TYPE_CHECKING`` is False whenever code runs (only type checkers read the block),
so an import inside such a block whose names are used only in annotations, or inside such
blocks, imports nothing at run time. After the walk, each ``if`` whose test *may* be
``TYPE_CHECKING`` is resolved; where it certainly is (``typing``'s or
``typing_extensions``' flag, or a name bound once to ``False``), those imports are dropped
from the facts, with the bindings they make. Everything else in the block is still
analysed, and an import whose names run anywhere stays (it fails at run time, but a check
does not bet on that). Rebinding the flag (``typing.TYPE_CHECKING = True``) is a finding of
its own (KAV403).
"""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from kavi_gates.policy.resolution.facts import ImportSite, ModuleFacts, Region
from kavi_gates.policy.resolution.fields import subtree
from kavi_gates.policy.resolution.scopes import Binding, Scope
from kavi_gates.policy.resolution.syntax import dotted_name, literal_string, subscript_key

_FLAG = "TYPE_CHECKING"
TYPE_CHECKING_FLAGS = frozenset(
    {"typing.TYPE_CHECKING", "typing_extensions.TYPE_CHECKING", "builtins.False"}
)


def drop_type_only_imports(facts: ModuleFacts) -> None:
    """Remove the imports that only type checkers see (see the module docstring)."""
    if _flag_rebound(facts):
        return  # the flag may be true at run time: every block runs (and is a finding)
    regions = [r for r in facts.type_checking if r.last >= r.first and _is_flag(facts, r)]
    if not regions:
        return

    def inside(order: int) -> bool:
        return any(r.first <= order <= r.last for r in regions)

    candidates = [i for i in facts.imports if not i.star and i.scope and inside(i.order)]
    dropped = _unused_at_run_time(facts, candidates, inside) if candidates else []
    if dropped:
        _remove(facts, dropped)
        _reset_resolution(facts)


def _flag_rebound(facts: ModuleFacts) -> bool:
    """Does the file set something called TYPE_CHECKING by name (``typing.TYPE_CHECKING =
    1``, ``setattr(t, "TYPE_CHECKING", 1)``, ``vars(t)["TYPE_CHECKING"] = 1``)?"""
    for site in facts.assigned_attributes:
        if isinstance(site.node, cst.Attribute) and site.node.attr.value == "TYPE_CHECKING":
            return True
    for site in facts.assigned_subscripts:
        if isinstance(site.node, cst.Subscript) and subscript_key(site.node) == _FLAG:
            return True
    for site in facts.calls:
        call = site.node
        assert isinstance(call, cst.Call)
        name = dotted_name(call.func) or ""
        if name.endswith("setattr") and any(literal_string(a.value) == _FLAG for a in call.args):
            return True
    return False


def _is_flag(facts: ModuleFacts, region: Region) -> bool:
    return _certainly(facts, region.test, region.scope, 0)


_TYPING_MODULES = frozenset({"typing", "typing_extensions"})


def _certainly(facts: ModuleFacts, expr: cst.CSTNode, scope: Scope, depth: int) -> bool:
    """Is ``expr`` certainly the flag, whatever runs? Every binding of a name must be the
    flag (an import of it, ``False``, or another name that certainly is): resolution's "may
    denote" leaves out what it cannot evaluate (``TYPE_CHECKING = not TYPE_CHECKING``), so
    it cannot say "certainly"."""
    if depth > 8:
        return False
    if isinstance(expr, cst.Attribute):  # typing.TYPE_CHECKING, t.TYPE_CHECKING
        return expr.attr.value == _FLAG and _bound_only_to(
            facts, expr.value, scope, _TYPING_MODULES
        )
    if not isinstance(expr, cst.Name):
        return False
    if expr.value == "False":
        return True
    slot = facts.slot_of(expr.value, scope)
    if slot is None or not slot.bindings or (facts.star_modules and slot.scope.kind != "function"):
        return False
    return all(_flag_binding(facts, b, slot.scope, depth) for b in slot.bindings)


def _flag_binding(facts: ModuleFacts, binding: Binding, scope: Scope, depth: int) -> bool:
    if binding.kind == "import":
        return binding.origin in TYPE_CHECKING_FLAGS
    if binding.kind != "alias" or binding.alias is None:
        return False
    return _certainly(facts, binding.alias, scope, depth + 1)


def _bound_only_to(
    facts: ModuleFacts, expr: cst.CSTNode, scope: Scope, modules: frozenset[str]
) -> bool:
    if not isinstance(expr, cst.Name):
        return False
    slot = facts.slot_of(expr.value, scope)
    return (
        slot is not None
        and bool(slot.bindings)
        and all(b.kind == "import" and b.origin in modules for b in slot.bindings)
    )


def _annotation_names(facts: ModuleFacts) -> set[int]:
    """ids of every name read inside an annotation."""
    return {
        id(node)
        for site in facts.annotations
        for node in subtree(site.node)
        if type(node) is cst.Name
    }


def _unused_at_run_time(
    facts: ModuleFacts, candidates: list[ImportSite], in_region: Callable[[int], bool]
) -> list[ImportSite]:
    """The candidates none of whose bound names is read by code that runs."""
    annotations = _annotation_names(facts)
    wanted = {(id(_owner(facts, i)), i.name) for i in candidates}
    used: set[tuple[int, str]] = set()
    for ref in facts.refs:
        base = ref.base
        if type(base) is not cst.Name or id(base) in annotations or in_region(ref.order):
            continue
        owner = facts.owner_of(base.value, ref.scope)
        key = (id(owner), base.value)
        if key in wanted:
            used.add(key)
    return [i for i in candidates if (id(_owner(facts, i)), i.name) not in used]


def _owner(facts: ModuleFacts, site: ImportSite) -> Scope | None:
    assert site.scope is not None
    return facts.owner_of(site.name, site.scope)


def _remove(facts: ModuleFacts, dropped: list[ImportSite]) -> None:
    gone = {id(site) for site in dropped}
    facts.imports = [site for site in facts.imports if id(site) not in gone]
    for site in dropped:
        owner = _owner(facts, site)
        if owner is None or site.name not in owner.slots:
            continue
        slot = owner.slots[site.name]
        kept = [
            b
            for b in slot.bindings
            if not (b.kind == "import" and b.order == site.order and b.origin == site.bound)
        ]
        if not kept:
            del owner.slots[site.name]
            continue
        slot.bindings = []
        slot.has_del = False
        slot.first_unconditional = None
        for binding in kept:
            slot.add(binding)


def _reset_resolution(facts: ModuleFacts) -> None:
    """Deciding the regions looked names up; the bindings changed, so start over."""
    for scope in facts.root.family:
        scope.owners = {}
        scope.inherited = {}
        for slot in scope.slots.values():
            slot.value = None
    facts.__dict__.pop("resolver", None)
