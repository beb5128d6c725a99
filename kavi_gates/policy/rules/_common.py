"""Shared matchers: the every-form import scan and the every-route reference scan."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import libcst as cst

from kavi_gates.policy.analysis import ModuleFacts, literal_string, subscript_key
from kavi_gates.policy.catalog import matches, reexport_suffixes


def match_any(qualname: str, names: tuple[str, ...]) -> str | None:
    """Match a qualified name, or one of its re-export suffixes (``shutil.os.system``)."""
    hit = matches(qualname, names)
    if hit:
        return hit
    for suffix in reexport_suffixes(qualname):
        hit = matches(suffix, names)
        if hit:
            return hit
    return None


_DYNAMIC_IMPORTERS = frozenset(
    {
        "builtins.__import__",
        "importlib.__import__",
        "importlib.import_module",
        "pkgutil.resolve_name",
        "importlib.util.find_spec",
        "importlib.util.spec_from_file_location",
        "pydoc.locate",
        "logging.config.BaseConfigurator.resolve",
    }
)
_MODULE_TABLE_GETTERS = frozenset(
    {
        "sys.modules.get",
        "sys.modules.pop",
        "sys.modules.setdefault",
        "sys.modules.__getitem__",
    }
)


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
        if any(
            match_any(q, ("sys.modules",)) for q in facts.resolve(sub.value, site.scope, site.order)
        ):
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
    for node, dynamic_target in dynamic_imports(facts):
        if dynamic_target:
            found = matches(dynamic_target, modules)
            if found:
                yield node, found
    for ref, quals in facts.resolved_refs:
        if not ref.attrs or not any(match_any(q, modules) for q in quals):
            continue
        bases = facts.resolve(ref.base, ref.scope, ref.order)
        suffix = "".join("." + a for a in ref.attrs)
        for base in bases:
            hit = match_any(base + suffix, modules)
            if hit and not match_any(base, modules):
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
            hit = match_any(qual, names)
            if hit:
                yield ref.node, hit
                break
    for site, _funcs, returns in facts.resolved_calls:
        for qual in sorted(returns):
            hit = match_any(qual, names)
            if hit:
                yield site.node, hit
                break


def exact_hits(facts: ModuleFacts, names: frozenset[str]) -> Iterator[tuple[cst.CSTNode, str]]:
    for ref, quals in facts.resolved_refs:
        hit = quals & names
        if hit:
            yield ref.node, min(hit)


def method_hits(facts: ModuleFacts, methods: frozenset[str]) -> Iterator[tuple[cst.CSTNode, str]]:
    """Calls of ``x.method(...)`` on objects we cannot type (event loops, sockets)."""
    for site, funcs, _returns in facts.resolved_calls:
        call = site.node
        assert isinstance(call, cst.Call)
        if (
            isinstance(call.func, cst.Attribute)
            and call.func.attr.value in methods
            and not any(q.startswith("builtins.") for q in funcs)
        ):
            yield call, call.func.attr.value
