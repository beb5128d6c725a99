"""The policy gate: a libcst scan of governed files against the configured policy."""

from __future__ import annotations

from kavi_gates.policy.effects import UnparsableSource, observed_effects
from kavi_gates.policy.rule import Rule, Violation

__all__ = ["Rule", "UnparsableSource", "Violation", "observed_effects"]
