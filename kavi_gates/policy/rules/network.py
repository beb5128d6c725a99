"""``network: deny`` — no sockets, no HTTP clients."""

from __future__ import annotations

from collections.abc import Iterator

from kavi_gates.codes import policy as codes
from kavi_gates.policy.catalog import (
    NETWORK_FUNCTIONS,
    NETWORK_METHODS,
    NETWORK_MODULES,
    SAFE_SUBMODULES,
)
from kavi_gates.policy.queries import method_hits, module_hits, name_hits
from kavi_gates.policy.resolution import ModuleFacts
from kavi_gates.policy.rule import Rule, Violation


class NetworkModule(Rule):
    """A networking module is imported (KAV301)."""

    code = codes.NETWORK_MODULE

    def enabled(self) -> bool:
        return self.policy.network == "deny"

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for node, hit in module_hits(facts, NETWORK_MODULES, SAFE_SUBMODULES):
            yield Violation(node, f"'{hit}' reaches the network (policy.network: deny)")


class NetworkCall(Rule):
    """A network function is referenced (KAV302)."""

    code = codes.NETWORK_CALL

    def enabled(self) -> bool:
        return self.policy.network == "deny"

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for node, hit in name_hits(facts, NETWORK_FUNCTIONS):
            yield Violation(node, f"'{hit}' opens a network connection (policy.network: deny)")
        for node, method in method_hits(facts, NETWORK_METHODS):
            yield Violation(
                node, f"'.{method}()' opens a network connection (policy.network: deny)"
            )
