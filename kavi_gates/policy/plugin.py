"""Registers the policy gate and the built-in rules through Kavi's own hooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kavi_gates import hookimpl
from kavi_gates.gate import Gate
from kavi_gates.models import Code
from kavi_gates.policy.gate import PolicyGate

if TYPE_CHECKING:
    from kavi_gates.policy.rule import Rule


@hookimpl
def kavi_gates() -> Sequence[Gate]:
    return [PolicyGate()]


@hookimpl
def kavi_finding_codes() -> Sequence[Code]:
    """The policy rules' codes, read from the rule classes (their docstring is the doc)."""
    from kavi_gates.policy.rules import BUILTIN_RULES

    return [
        Code(
            id=rule.id,
            gate="policy",
            title=rule.MESSAGE,
            doc=rule.doc(),
            fix="",
            suppressible=not rule.UNSUPPRESSIBLE,
            category=rule.category,
            valid=tuple(rule.VALID),
            invalid=tuple(rule.INVALID),
        )
        for rule in BUILTIN_RULES
    ]


@hookimpl
def kavi_policy_rules() -> Sequence[type[Rule]]:
    from kavi_gates.policy.rules import BUILTIN_RULES  # imports libcst: only when needed

    return BUILTIN_RULES
