"""Every way code reaches a module: import statements, imports by value, attribute chains."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import libcst as cst

from kavi_gates.policy.catalog import (
    ANCHOR_IMPORTERS,
    DYNAMIC_IMPORTERS,
    MODULE_TABLE_GETTERS,
    canonical,
    exempt,
    matches,
)
from kavi_gates.policy.queries.matching import match_any, matching, ref_hits
from kavi_gates.policy.resolution import ModuleFacts, Site, literal_string, subscript_key

_SYS_MODULES = frozenset({"sys.modules"})
# Anchors that name the calling module itself: importing it again imports nothing new.
_SELF_ANCHORS = frozenset({"__name__", "__package__"})


@dataclass(frozen=True)
class DynamicImport:
    """An import by value: ``__import__``, importlib, ``sys.modules[...]``, resolvers."""

    node: cst.CSTNode
    target: str | None
    """The module or object named, when a string built from literals names it."""
    literal: bool
    """The name is a plain literal (a string built at run time, even from literals, is
    not: it hides the name from a reader and from ``grep``)."""


def dynamic_imports(facts: ModuleFacts) -> list[DynamicImport]:
    """Imports by value, in file order (computed once per file)."""
    cached = facts.memo.get("dynamic_imports")
    if cached is None:
        cached = facts.memo["dynamic_imports"] = list(_dynamic_imports(facts))
    return cached  # type: ignore[return-value]


def _dynamic_imports(facts: ModuleFacts) -> Iterator[DynamicImport]:
    for site, funcs, _returns in facts.resolved_calls:
        call = site.node
        assert isinstance(call, cst.Call)
        if funcs & DYNAMIC_IMPORTERS or funcs & MODULE_TABLE_GETTERS:
            first = call.args[0].value if call.args else None
            if funcs <= ANCHOR_IMPORTERS and _imports_nothing_new(first, facts, site):
                continue
            literal = literal_string(first) if first is not None else None
            target = literal if literal is not None else _folded(first, facts, site)
            if target is not None:
                target = canonical(target.replace(":", "."))
            yield DynamicImport(call, target, literal is not None)
    for site in facts.subscripts:
        sub = site.node
        assert isinstance(sub, cst.Subscript)
        if any(
            match_any(q, _SYS_MODULES) for q in facts.resolve(sub.value, site.scope, site.order)
        ):
            key = subscript_key(sub)
            yield DynamicImport(sub, key, key is not None)


def _folded(expr: cst.CSTNode | None, facts: ModuleFacts, site: Site) -> str | None:
    return facts.resolver.folded(expr, site.scope) if expr is not None else None


def _imports_nothing_new(anchor: cst.CSTNode | None, facts: ModuleFacts, site: Site) -> bool:
    """An anchor that is the calling module (``files()``, ``files(__package__)``) or a module
    object (``files(mypkg)``): reading its data imports nothing by name."""
    if anchor is None:
        return True
    if isinstance(anchor, cst.Name) and anchor.value in _SELF_ANCHORS:
        return facts.slot_of(anchor.value, site.scope) is None
    if literal_string(anchor) is not None:
        return False
    return bool(facts.resolve(anchor, site.scope, site.order))


def module_hits(
    facts: ModuleFacts, modules: Iterable[str], safe: frozenset[str] = frozenset()
) -> Iterator[tuple[cst.CSTNode, str]]:
    """Every way the code reaches one of ``modules`` (but not their ``safe`` submodules):
    import statements of every form, dynamic imports with literal names, and attribute
    chains from an allowed import into a banned submodule (``import asyncio;
    asyncio.subprocess``)."""
    modules = frozenset(modules)
    if not modules:
        return
    unreported: set[str] = set()
    """What imports of safe submodules bound (``import multiprocessing.dummy`` binds
    ``multiprocessing``): chains through them are reported, as their imports were not."""
    for imp in facts.imports:
        # ``from a import b`` imports a, then b from it: the full name says what it reaches.
        target = imp.targets[-1]
        hit = matches(target, modules)
        if hit and exempt(target, hit, safe):
            unreported.add(imp.bound)
        elif hit:
            yield imp.node, hit
    for found in dynamic_imports(facts):
        if found.target:
            hit = matches(found.target, modules)
            if hit and not exempt(found.target, hit, safe):
                yield found.node, hit
    matched = matching(facts, modules)
    if not matched:
        return
    for ref, _found in ref_hits(facts, matched):
        if not ref.attrs:
            continue
        suffix = "." + ".".join(ref.attrs)
        for base in facts.resolve(ref.base, ref.scope, ref.order):
            full = base + suffix
            hit = match_any(full, modules)
            if not hit or exempt(full, hit, safe):
                continue
            # A chain from a banned module was reported at its import.
            if not match_any(base, modules) or base in unreported:
                yield ref.node, hit
                break
