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

from bisect import bisect_right
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
    flags = _FlagTests(facts)
    regions = [r for r in facts.type_checking if r.last >= r.first and flags.is_flag(r)]
    if not regions:
        return
    inside = _inside(regions)
    candidates = [i for i in facts.imports if not i.star and i.scope and inside(i.order)]
    dropped = _unused_at_run_time(facts, candidates, inside) if candidates else []
    if dropped:
        _remove(facts, dropped)
        _reset_resolution(facts)


def _inside(regions: list[Region]) -> Callable[[int], bool]:
    """Is a statement order inside one of the regions? The regions merged into disjoint
    spans once, then a binary search per question (not a scan of every region)."""
    spans: list[tuple[int, int]] = []
    for region in sorted(regions, key=lambda r: r.first):
        if spans and region.first <= spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], max(spans[-1][1], region.last))
        else:
            spans.append((region.first, region.last))
    starts = [first for first, _last in spans]

    def inside(order: int) -> bool:
        index = bisect_right(starts, order) - 1
        return index >= 0 and order <= spans[index][1]

    return inside


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


_TYPING_MODULES = frozenset({"typing", "typing_extensions"})
_MAX_DEPTH = 8


class _FlagTests:
    """Decides which ``if`` tests certainly are the flag. Each name's bindings are judged
    once per depth, not once per ``if`` that reads the name: a thousand ``if
    TYPE_CHECKING:`` blocks over a thousand bindings of the flag cost two thousand steps,
    not a million."""

    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts
        self._names: dict[tuple[int, int], bool] = {}
        self._modules: dict[int, bool] = {}

    def is_flag(self, region: Region) -> bool:
        return self._certainly(region.test, region.scope, 0)

    def _certainly(self, expr: cst.CSTNode, scope: Scope, depth: int) -> bool:
        """Is ``expr`` certainly the flag, whatever runs? Every binding of a name must be
        the flag (an import of it, ``False``, or another name that certainly is):
        resolution's "may denote" leaves out what it cannot evaluate (``TYPE_CHECKING =
        not TYPE_CHECKING``), so it cannot say "certainly"."""
        if depth > _MAX_DEPTH:
            return False
        if isinstance(expr, cst.Attribute):  # typing.TYPE_CHECKING, t.TYPE_CHECKING
            return expr.attr.value == _FLAG and self._bound_to_typing(expr.value, scope)
        if not isinstance(expr, cst.Name):
            return False
        if expr.value == "False":
            return True
        facts = self.facts
        slot = facts.slot_of(expr.value, scope)
        if (
            slot is None
            or not slot.bindings
            or (facts.star_modules and slot.scope.kind != "function")
        ):
            return False
        key = (id(slot), depth)
        known = self._names.get(key)
        if known is None:
            known = self._names[key] = all(
                self._flag_binding(b, slot.scope, depth) for b in slot.bindings
            )
        return known

    def _flag_binding(self, binding: Binding, scope: Scope, depth: int) -> bool:
        if binding.kind == "import":
            return binding.origin in TYPE_CHECKING_FLAGS
        if binding.kind != "alias" or binding.alias is None:
            return False
        return self._certainly(binding.alias, scope, depth + 1)

    def _bound_to_typing(self, expr: cst.CSTNode, scope: Scope) -> bool:
        if not isinstance(expr, cst.Name):
            return False
        slot = self.facts.slot_of(expr.value, scope)
        if slot is None or not slot.bindings:
            return False
        known = self._modules.get(id(slot))
        if known is None:
            known = self._modules[id(slot)] = all(
                b.kind == "import" and b.origin in _TYPING_MODULES for b in slot.bindings
            )
        return known


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
    # Grouped by slot, so that each slot's bindings are rebuilt once (a name imported a
    # thousand times in type-only blocks is not filtered a thousand times).
    by_slot: dict[int, tuple[Scope, str, set[tuple[int, str]]]] = {}
    for site in dropped:
        owner = _owner(facts, site)
        if owner is None or site.name not in owner.slots:
            continue
        entry = by_slot.setdefault(id(owner.slots[site.name]), (owner, site.name, set()))
        entry[2].add((site.order, site.bound))
    for owner, name, imports in by_slot.values():
        slot = owner.slots[name]
        kept = [
            b for b in slot.bindings if not (b.kind == "import" and (b.order, b.origin) in imports)
        ]
        if not kept:
            del owner.slots[name]
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
