"""Registers the policy gate and the built-in rules through Kavi's own hooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kavi_gates import hookimpl
from kavi_gates.gate import Gate
from kavi_gates.policy.gate import PolicyGate

if TYPE_CHECKING:
    from kavi_gates.policy.rule import Rule


@hookimpl
def kavi_gates() -> Sequence[Gate]:
    return [PolicyGate()]


@hookimpl
def kavi_policy_rules() -> Sequence[type[Rule]]:
    from kavi_gates.policy.rules import BUILTIN_RULES  # imports libcst: only when needed

    return BUILTIN_RULES
