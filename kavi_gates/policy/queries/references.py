"""References to functions and methods, however they are reached."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import libcst as cst

from kavi_gates.policy.catalog import matches
from kavi_gates.policy.queries.matching import matching, ref_hits, return_hits
from kavi_gates.policy.queries.named import named_accesses
from kavi_gates.policy.resolution import ModuleFacts


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
    matched = matching(facts, names)
    if not matched:
        return
    for ref, found in ref_hits(facts, matched):
        yield ref.node, matched[min(found)]
    for site, found in return_hits(facts, matched):
        yield site.node, matched[min(found)]


def method_hits(facts: ModuleFacts, methods: frozenset[str]) -> Iterator[tuple[cst.CSTNode, str]]:
    """Calls of ``x.method(...)`` on objects we cannot type (event loops, sockets), also by
    name (``getattr(loop, "subprocess_exec")``, ``methodcaller("subprocess_exec")``)."""
    for access in named_accesses(facts):
        if access.kind in ("set", "del") or not access.parts or access.parts[-1] not in methods:
            continue
        receiver = access.receiver
        if receiver is None or not facts.resolve(receiver, access.site.scope, access.site.order):
            yield access.node, access.parts[-1]
    for site, funcs, _returns in facts.resolved_calls:
        call = site.node
        assert isinstance(call, cst.Call)
        if (
            isinstance(call.func, cst.Attribute)
            and call.func.attr.value in methods
            and not any(q.startswith("builtins.") for q in funcs)
        ):
            yield call, call.func.attr.value
