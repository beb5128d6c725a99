"""Registers the policy gate, its finding codes and the built-in rules through Kavi's hooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kavi_gates import hookimpl
from kavi_gates.gate import DeferredGate, Gate
from kavi_gates.models import Code

if TYPE_CHECKING:
    from kavi_gates.policy.rule import Rule


BUILTIN_RULE_PLUGIN = __name__
"""The plugin whose rules the built-in policy codes describe (``kavi_gates.codes.policy``)."""

POLICY_GATE = DeferredGate(
    id="policy",
    description="libcst policy scan: imports, calls, process, network, dynamic exec, writes",
    scope="files",
    implementation="kavi_gates.policy.gate:PolicyGate",
)


@hookimpl
def kavi_gates() -> Sequence[Gate]:
    return [POLICY_GATE]


@hookimpl
def kavi_finding_codes() -> Sequence[Code]:
    """The policy codes: plain data, so describing them never imports libcst."""
    from kavi_gates.codes.policy import CODES

    return CODES


@hookimpl
def kavi_policy_rules() -> Sequence[type[Rule]]:
    from kavi_gates.policy.rules import BUILTIN_RULES  # imports libcst: only when needed

    return BUILTIN_RULES
