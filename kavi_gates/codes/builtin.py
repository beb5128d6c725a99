"""The built-in codes of every gate except the policy gate (plain data, cheap to import).

The policy gate applies ``# kavi: allow[...]`` comments to its own findings before it
reports; comments naming these codes are applied after the run, in one place
(``kavi_gates.triage``), for whichever gate reported the finding.
"""

from __future__ import annotations

from kavi_gates.codes import diff_allowlist, hash_pin, invariants, targets
from kavi_gates.models import Code

NON_POLICY_CODES: dict[str, Code] = {
    code.id: code
    for module in (targets, invariants, diff_allowlist, hash_pin)
    for code in module.CODES
}

# The policy gate declares these on its rule classes (importing them loads libcst); the
# suppression step reports them for other gates' codes too.
SUPPRESSION_NO_REASON = "KAV003"
SUPPRESSION_UNUSED = "KAV004"
