"""The hooks Kavi calls. Plugins implement them with ``kavi_gates.hookimpl``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from kavi_gates.codes import Code
    from kavi_gates.gate import Gate, GateContext
    from kavi_gates.models import GateResult
    from kavi_gates.policy.rule import Rule

hookspec = pluggy.HookspecMarker("kavi")


@hookspec
def kavi_gates() -> Sequence[Gate]:
    """Contribute gates (objects following the ``kavi_gates.gate.Gate`` protocol)."""
    raise NotImplementedError


@hookspec
def kavi_finding_codes() -> Sequence[Code]:
    """Declare the finding codes a plugin's gates or rules report (``kavi_gates.codes``).

    A finding whose code nobody declares is still reported, but ``kavi rules`` and SARIF
    can only describe declared codes; built-in gates declare every code they use.
    """
    raise NotImplementedError


@hookspec
def kavi_policy_rules() -> Sequence[type[Rule]]:
    """Contribute policy rule classes (subclasses of ``kavi_gates.policy.Rule``)."""
    raise NotImplementedError


@hookspec
def kavi_gate_started(gate: str, context: GateContext) -> None:
    """Observe a gate starting (progress display, ledger)."""


@hookspec
def kavi_gate_finished(result: GateResult, context: GateContext) -> None:
    """Observe a gate's result (progress display, ledger)."""
