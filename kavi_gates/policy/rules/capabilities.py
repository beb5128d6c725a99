"""Capabilities come from the runtime only: a skill that builds its own (``GuardedFiles``,
``GuardedHTTP``, an ``LLMClient`` with its own endpoint), reaches the runtime's internals
(the ledger, the broker, the loader) or the private parts of what it was handed
(``self.context.files._roots``) goes around every grant (KAV121, KAV122)."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from kavi_gates.codes import policy as codes
from kavi_gates.policy.catalog.secrets import RUNTIME_PACKAGES, SKILL_API, SKILL_API_MODULES
from kavi_gates.policy.queries import dynamic_imports, matching, ref_hits, return_hits
from kavi_gates.policy.resolution import SKILL_CONTEXT, ModuleFacts
from kavi_gates.policy.rule import Rule, Violation

# Packages and modules on the way to a skill API name (``kavi_skills.llm`` for LLMError).
_API_PATHS = frozenset(
    name.rsplit(".", i)[0] for name in SKILL_API for i in range(1, name.count(".") + 1)
)


def _runtime_internal(qualname: str) -> bool:
    """Is ``qualname`` part of the runtime that skills may not use?"""
    top = qualname.split(".", 1)[0]
    if top not in RUNTIME_PACKAGES:
        return False
    if qualname in SKILL_API or qualname in _API_PATHS:
        return False
    return not any(qualname.startswith(m + ".") or qualname == m for m in SKILL_API_MODULES)


class RuntimeInternals(Rule):
    """A skill reaches the runtime's internals or builds a capability itself (KAV121)."""

    code = codes.RUNTIME_INTERNALS

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        seen: set[int] = set()
        for imp in facts.imports:
            target = imp.targets[-1]
            if _runtime_internal(target):
                seen.add(id(imp.node))
                yield Violation(imp.node, _message(target))
        for found in dynamic_imports(facts):
            if found.target and _runtime_internal(found.target):
                yield Violation(found.node, _message(found.target))
        matched = {q: hit for q, hit in matching(facts, RUNTIME_PACKAGES).items()}
        internal = {q: hit for q, hit in matched.items() if _runtime_internal(q)}
        if not internal:
            return
        for ref, quals in ref_hits(facts, internal):
            yield Violation(ref.node, _message(min(quals)))
        for site, quals in return_hits(facts, internal):
            yield Violation(site.node, _message(min(quals)))


def _message(qualname: str) -> str:
    return (
        f"'{qualname}' is the runtime's own: skills get capabilities from self.context "
        "and use only kavi_skills' skill API"
    )


class CapabilityPrivate(Rule):
    """A private attribute of a capability the runtime handed over is reached (KAV122)."""

    code = codes.CAPABILITY_PRIVATE

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        prefix = SKILL_CONTEXT + "."
        for ref, quals in facts.resolved_refs:
            private = _private(quals, prefix)
            if private:
                yield Violation(ref.node, _private_message(private))
        for site, funcs, returns in facts.resolved_calls:
            private = _private(returns, prefix)
            if private:
                yield Violation(site.node, _private_message(private))
            call = site.node
            assert isinstance(call, cst.Call)
            if "builtins.type" in funcs and call.args:
                of = facts.resolve(call.args[0].value, site.scope, site.order)
                if any(q == SKILL_CONTEXT or q.startswith(prefix) for q in of):
                    yield Violation(
                        call, "the class of a capability is taken: skills use what they are given"
                    )


def _private(quals: frozenset[str], prefix: str) -> str | None:
    for qual in sorted(quals):  # the first in order: the same message whatever the hash seed
        if qual.startswith(prefix):
            parts = qual[len(prefix) :].split(".")
            if any(part.startswith("_") for part in parts):
                return qual
    return None


def _private_message(qual: str) -> str:
    shown = qual.replace(SKILL_CONTEXT, "self.context")
    return (
        f"'{shown}' is private to the runtime: a skill uses only the public methods of "
        "what self.context hands it"
    )
