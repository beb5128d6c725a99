"""Shared matchers: the every-form import scan and the every-route reference scan."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import libcst as cst

from kavi_gates.policy.analysis import ModuleFacts, literal_string, subscript_key
from kavi_gates.policy.catalog import matches

_DYNAMIC_IMPORTERS = frozenset({
    "builtins.__import__", "importlib.__import__", "importlib.import_module",
    "pkgutil.resolve_name", "importlib.util.find_spec", "importlib.util.spec_from_file_location",
})
_MODULE_TABLE_GETTERS = frozenset({
    "sys.modules.get", "sys.modules.pop", "sys.modules.setdefault", "sys.modules.__getitem__",
})


def dynamic_imports(facts: ModuleFacts) -> Iterator[tuple[cst.CSTNode, str | None]]:
    """Imports by value: ``__import__``, importlib, ``sys.modules[...]``. None = computed."""
    for site, funcs, _returns in facts.resolved_calls:
        call = site.node
        assert isinstance(call, cst.Call)
        if funcs & _DYNAMIC_IMPORTERS or funcs & _MODULE_TABLE_GETTERS:
            target = literal_string(call.args[0].value) if call.args else None
            if target is not None:
                target = target.replace(":", ".")
            yield call, target
    for site in facts.subscripts:
        sub = site.node
        assert isinstance(sub, cst.Subscript)
        if "sys.modules" in facts.resolve(sub.value, site.scope, site.order):
            yield sub, subscript_key(sub)


def module_hits(facts: ModuleFacts, modules: Iterable[str]) -> Iterator[tuple[cst.CSTNode, str]]:
    """Every way the code reaches one of ``modules``: import statements of every form,
    dynamic imports with literal names, and attribute chains from an allowed import into a
    banned submodule (``import asyncio; asyncio.subprocess``)."""
    modules = tuple(modules)
    if not modules:
        return
    for imp in facts.imports:
        for target in imp.targets:
            hit = matches(target, modules)
            if hit:
                yield imp.node, hit
                break
    for node, target in dynamic_imports(facts):
        if target:
            hit = matches(target, modules)
            if hit:
                yield node, hit
    for ref, quals in facts.resolved_refs:
        if not ref.attrs or not any(matches(q, modules) for q in quals):
            continue
        bases = facts.resolve(ref.base, ref.scope, ref.order)
        suffix = "".join("." + a for a in ref.attrs)
        for base in bases:
            hit = matches(base + suffix, modules)
            if hit and not matches(base, modules):
                yield ref.node, hit
                break


def name_hits(facts: ModuleFacts, names: Iterable[str]) -> Iterator[tuple[cst.CSTNode, str]]:
    """Every reference (not only calls) that may denote one of ``names``, however reached:
    aliases, module aliases, ``f = os.system``, star imports, ``getattr(os, "system")``,
    ``operator.attrgetter("system")(os)``, ``__import__("os").system``."""
    names = tuple(names)
    if not names:
        return
    for imp in facts.imports:
        if not imp.star and len(imp.targets) == 2:  # from a import b: b may be the function
            hit = matches(imp.targets[1], names)
            if hit:
                yield imp.node, hit
    for ref, quals in facts.resolved_refs:
        for qual in sorted(quals):
            hit = matches(qual, names)
            if hit:
                yield ref.node, hit
                break
    for site, _funcs, returns in facts.resolved_calls:
        for qual in sorted(returns):
            hit = matches(qual, names)
            if hit:
                yield site.node, hit
                break


def exact_hits(facts: ModuleFacts, names: frozenset[str]) -> Iterator[tuple[cst.CSTNode, str]]:
    for ref, quals in facts.resolved_refs:
        hit = quals & names
        if hit:
            yield ref.node, min(hit)
