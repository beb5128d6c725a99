"""Every way code reaches a module: import statements, imports by value, attribute chains."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import libcst as cst

from kavi_gates.policy.catalog import DYNAMIC_IMPORTERS, MODULE_TABLE_GETTERS, matches
from kavi_gates.policy.queries.matching import match_any, matching, ref_hits
from kavi_gates.policy.resolution import ModuleFacts, literal_string, subscript_key

_SYS_MODULES = frozenset({"sys.modules"})


def dynamic_imports(facts: ModuleFacts) -> list[tuple[cst.CSTNode, str | None]]:
    """Imports by value: ``__import__``, importlib, ``sys.modules[...]``. None = computed."""
    cached = facts.memo.get("dynamic_imports")
    if cached is None:
        cached = facts.memo["dynamic_imports"] = list(_dynamic_imports(facts))
    return cached  # type: ignore[return-value]


def _dynamic_imports(facts: ModuleFacts) -> Iterator[tuple[cst.CSTNode, str | None]]:
    for site, funcs, _returns in facts.resolved_calls:
        call = site.node
        assert isinstance(call, cst.Call)
        if funcs & DYNAMIC_IMPORTERS or funcs & MODULE_TABLE_GETTERS:
            target = literal_string(call.args[0].value) if call.args else None
            if target is not None:
                target = target.replace(":", ".")
            yield call, target
    for site in facts.subscripts:
        sub = site.node
        assert isinstance(sub, cst.Subscript)
        if any(
            match_any(q, _SYS_MODULES) for q in facts.resolve(sub.value, site.scope, site.order)
        ):
            yield sub, subscript_key(sub)


def module_hits(facts: ModuleFacts, modules: Iterable[str]) -> Iterator[tuple[cst.CSTNode, str]]:
    """Every way the code reaches one of ``modules``: import statements of every form,
    dynamic imports with literal names, and attribute chains from an allowed import into a
    banned submodule (``import asyncio; asyncio.subprocess``)."""
    modules = frozenset(modules)
    if not modules:
        return
    for imp in facts.imports:
        for target in imp.targets:
            hit = matches(target, modules)
            if hit:
                yield imp.node, hit
                break
    for node, dynamic_target in dynamic_imports(facts):
        if dynamic_target:
            found = matches(dynamic_target, modules)
            if found:
                yield node, found
    matched = matching(facts, modules)
    if not matched:
        return
    for ref, _found in ref_hits(facts, matched):
        if not ref.attrs:
            continue
        suffix = "." + ".".join(ref.attrs)
        for base in facts.resolve(ref.base, ref.scope, ref.order):
            hit = match_any(base + suffix, modules)
            if hit and not match_any(base, modules):
                yield ref.node, hit
                break
