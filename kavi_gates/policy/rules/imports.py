"""Forbidden imports and calls named in the config (``forbidden_imports``, ``forbidden_calls``)."""

from __future__ import annotations

from collections.abc import Iterator

from kavi_gates.codes import policy as codes
from kavi_gates.policy.catalog import builtin_qualname
from kavi_gates.policy.queries import dynamic_imports, module_hits, name_hits
from kavi_gates.policy.resolution import ModuleFacts
from kavi_gates.policy.rule import Rule, Violation


class ForbiddenImport(Rule):
    """A module in policy.forbidden_imports is imported (KAV101)."""

    code = codes.FORBIDDEN_IMPORT

    def enabled(self) -> bool:
        return bool(self.policy.forbidden_imports)

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for node, hit in module_hits(facts, self.policy.forbidden_imports):
            yield Violation(node, f"import of forbidden module '{hit}' (policy.forbidden_imports)")


class ComputedImport(Rule):
    """A module is imported by a computed name (KAV102)."""

    code = codes.COMPUTED_IMPORT

    def enabled(self) -> bool:
        p = self.policy
        return (
            bool(p.forbidden_imports)
            or p.process == "deny"
            or p.network == "deny"
            or p.imports == "allow"
        )

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for found in dynamic_imports(facts):
            if not found.literal:
                yield Violation(found.node, "module imported by a computed name cannot be checked")


class ForbiddenCall(Rule):
    """A function in policy.forbidden_calls is referenced (KAV111)."""

    code = codes.FORBIDDEN_CALL

    def enabled(self) -> bool:
        return bool(self.policy.forbidden_calls)

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        names = [builtin_qualname(n) for n in self.policy.forbidden_calls]
        for node, hit in name_hits(facts, names):
            yield Violation(
                node, f"reference to forbidden function '{hit}' (policy.forbidden_calls)"
            )
