"""The policy gate: a libcst scan of governed files against the configured policy.

Importing this package is cheap; libcst loads only when something is analysed.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ModuleFacts", "Rule", "UnparsableSource", "Violation", "observed_effects"]


def __getattr__(name: str) -> Any:
    if name in ("observed_effects", "UnparsableSource"):
        from kavi_gates.policy import effects

        return getattr(effects, name)
    if name in ("Rule", "Violation"):
        from kavi_gates.policy import rule

        return getattr(rule, name)
    if name == "ModuleFacts":  # what a rule's check() reads
        from kavi_gates.policy.resolution import ModuleFacts

        return ModuleFacts
    raise AttributeError(name)
