"""The built-in invariants, diff-allowlist and hash-pin gates as one plugin (the policy
gate has its own, ``kavi_gates.policy.plugin``). Declaring a gate imports nothing of its
implementation: that loads when the gate runs."""

from __future__ import annotations

from collections.abc import Sequence

from kavi_gates import hookimpl
from kavi_gates.gate import DeferredGate, Gate
from kavi_gates.models import Code

GATES = (
    DeferredGate(
        id="invariants",
        description="skill structure, declared side effects, test files and import contracts",
        scope="files",
        implementation="kavi_gates.invariants:InvariantsGate",
    ),
    DeferredGate(
        id="diff-allowlist",
        description=(
            "changed paths stay inside the allowlist; no symlinks, submodules or mode changes"
        ),
        scope="repo",
        implementation="kavi_gates.diff_allowlist:DiffAllowlistGate",
    ),
    DeferredGate(
        id="hash-pin",
        description="pinned sha256 of skills and their local imports match; skills are pinned",
        scope="repo",
        implementation="kavi_gates.hash_pin:HashPinGate",
    ),
)


@hookimpl
def kavi_gates() -> Sequence[Gate]:
    """The built-in invariants, diff-allowlist and hash-pin gates, in the order they run."""
    return list(GATES)


@hookimpl
def kavi_finding_codes() -> Sequence[Code]:
    """The codes these gates report (plain data), and the forge's KAV901 (which
    ``kavi_gates.suppressions`` reports about an agent's change: no gate of its own)."""
    from kavi_gates.codes import diff_allowlist, forge, hash_pin, invariants

    return [*invariants.CODES, *diff_allowlist.CODES, *hash_pin.CODES, *forge.CODES]
