"""``process: deny`` — nothing may start a process."""

from __future__ import annotations

from collections.abc import Iterator

from kavi_gates.codes import policy as codes
from kavi_gates.policy.catalog import (
    PROCESS_FUNCTIONS,
    PROCESS_METHODS,
    PROCESS_MODULES,
    SAFE_SUBMODULES,
)
from kavi_gates.policy.queries import method_hits, module_hits, name_hits
from kavi_gates.policy.resolution import ModuleFacts
from kavi_gates.policy.rule import Rule, Violation


class ProcessModule(Rule):
    """A process-spawning module is imported (KAV201)."""

    code = codes.PROCESS_MODULE

    def enabled(self) -> bool:
        return self.policy.process == "deny"

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for node, hit in module_hits(facts, PROCESS_MODULES, SAFE_SUBMODULES):
            yield Violation(node, f"'{hit}' starts processes (policy.process: deny)")


class ProcessCall(Rule):
    """A process-spawning function is referenced (KAV202)."""

    code = codes.PROCESS_CALL

    def enabled(self) -> bool:
        return self.policy.process == "deny"

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for node, hit in name_hits(facts, PROCESS_FUNCTIONS):
            yield Violation(node, f"'{hit}' starts a process (policy.process: deny)")
        for node, method in method_hits(facts, PROCESS_METHODS):
            yield Violation(node, f"'.{method}()' starts a process (policy.process: deny)")
