"""The policy gate's codes: one per rule, plus what the engine reports itself.

Each declaration carries the rule's documentation, how to fix its findings, the examples
the test suite runs, and its trigger words (the pre-filter: a file without one of them
cannot draw the finding, so it needs no full analysis). Reading them never imports libcst:
``kavi rules``, SARIF and the pre-filter work from these alone. The rule classes in
``kavi_gates.policy.rules`` point at their declaration (``code = FORBIDDEN_IMPORT``).
"""

from __future__ import annotations

from kavi_gates.codes import codes_of
from kavi_gates.codes.policy.allowlist import IMPORT_NOT_ALLOWED
from kavi_gates.codes.policy.capabilities import (
    CAPABILITY_PRIVATE,
    RUNTIME_INTERNALS,
    SECRET_LEAK,
)
from kavi_gates.codes.policy.dynamic import (
    DESERIALIZER,
    DYNAMIC_EXEC_BUILTIN,
    IMPORT_MACHINERY,
    INTROSPECTION_ESCAPE,
    NATIVE_CODE,
)
from kavi_gates.codes.policy.engine import (
    ANALYSIS_LIMIT,
    PARSE_FAILURE,
    RULE_ERROR,
    SUPPRESSION_WITHOUT_REASON,
    UNREADABLE_INPUT,
    UNUSED_SUPPRESSION,
)
from kavi_gates.codes.policy.imports import COMPUTED_IMPORT, FORBIDDEN_CALL, FORBIDDEN_IMPORT
from kavi_gates.codes.policy.process_network import (
    NETWORK_CALL,
    NETWORK_MODULE,
    PROCESS_CALL,
    PROCESS_MODULE,
)
from kavi_gates.codes.policy.writes import COMPUTED_WRITE_PATH, WRITE_OUTSIDE_ALLOWED

GATE = "policy"
CODES = codes_of(globals())

__all__ = [
    "ANALYSIS_LIMIT",
    "CAPABILITY_PRIVATE",
    "CODES",
    "COMPUTED_IMPORT",
    "COMPUTED_WRITE_PATH",
    "DESERIALIZER",
    "DYNAMIC_EXEC_BUILTIN",
    "FORBIDDEN_CALL",
    "FORBIDDEN_IMPORT",
    "GATE",
    "IMPORT_MACHINERY",
    "IMPORT_NOT_ALLOWED",
    "INTROSPECTION_ESCAPE",
    "NATIVE_CODE",
    "NETWORK_CALL",
    "NETWORK_MODULE",
    "PARSE_FAILURE",
    "PROCESS_CALL",
    "PROCESS_MODULE",
    "RULE_ERROR",
    "RUNTIME_INTERNALS",
    "SECRET_LEAK",
    "SUPPRESSION_WITHOUT_REASON",
    "UNREADABLE_INPUT",
    "UNUSED_SUPPRESSION",
    "WRITE_OUTSIDE_ALLOWED",
]
