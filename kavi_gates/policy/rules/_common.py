"""Shared matchers: the every-form import scan and the every-route reference scan."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import libcst as cst

from kavi_gates.policy.analysis import ModuleFacts, literal_string, subscript_key
from kavi_gates.policy.catalog import matches, reexport_suffixes


def match_any(qualname: str, names: frozenset[str]) -> str | None:
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
        if funcs & _DYNAMIC_IMPORTERS or funcs & _MODULE_TABLE_GETTERS:
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
    matched = _matching(facts, modules)
    if not matched:
        return
    for ref, quals in facts.resolved_refs:
        if not ref.attrs or not quals & matched.keys():
            continue
        bases = facts.resolve(ref.base, ref.scope, ref.order)
        suffix = "." + ".".join(ref.attrs) if ref.attrs else ""
        for base in bases:
            hit = match_any(base + suffix, modules)
            if hit and not match_any(base, modules):
                yield ref.node, hit
                break


def name_hits(facts: ModuleFacts, names: Iterable[str]) -> Iterator[tuple[cst.CSTNode, str]]:
    """Every reference (not only calls) that may denote one of ``names``, however reached:
    aliases, module aliases, ``f = os.system``, star imports, ``getattr(os, "system")``,
    ``operator.attrgetter("system")(os)``, ``__import__("os").system``."""
    names = frozenset(names)
    if not names:
        return
    for imp in facts.imports:
        if not imp.star and len(imp.targets) == 2:  # from a import b: b may be the function
            hit = matches(imp.targets[1], names)
            if hit:
                yield imp.node, hit
    matched = _matching(facts, names)
    if not matched:
        return
    for ref, quals in facts.resolved_refs:
        found = quals & matched.keys()
        if found:
            yield ref.node, matched[min(found)]
    for site, _funcs, returns in facts.resolved_calls:
        found = returns & matched.keys()
        if found:
            yield site.node, matched[min(found)]


def _matching(facts: ModuleFacts, names: frozenset[str]) -> dict[str, str]:
    """Qualified names in this file that match ``names`` → the entry they match.

    Each distinct name is matched once per rule, not once per reference."""
    out: dict[str, str] = {}
    for qual in facts.qualname_universe:
        hit = match_any(qual, names)
        if hit:
            out[qual] = hit
    return out


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
