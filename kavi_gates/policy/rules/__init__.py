"""The built-in policy rules, in id order."""

from __future__ import annotations

from kavi_gates.policy.rule import Rule
from kavi_gates.policy.rules.allowlist import ImportOutsideAllowlist
from kavi_gates.policy.rules.capabilities import CapabilityPrivate, RuntimeInternals
from kavi_gates.policy.rules.dynamic import (
    Deserializer,
    DynamicExecBuiltin,
    ImportMachinery,
    NativeCode,
)
from kavi_gates.policy.rules.engine import (
    AnalysisLimit,
    ParseFailure,
    SuppressionWithoutReason,
    UnreadableInput,
    UnusedSuppression,
)
from kavi_gates.policy.rules.escapes import IntrospectionEscape
from kavi_gates.policy.rules.imports import ComputedImport, ForbiddenCall, ForbiddenImport
from kavi_gates.policy.rules.network import NetworkCall, NetworkModule
from kavi_gates.policy.rules.process import ProcessCall, ProcessModule
from kavi_gates.policy.rules.secrets import SecretLeak
from kavi_gates.policy.rules.writes import ComputedWritePath, WriteOutsideAllowed

BUILTIN_RULES: tuple[type[Rule], ...] = (
    ParseFailure,
    UnreadableInput,
    SuppressionWithoutReason,
    UnusedSuppression,
    AnalysisLimit,
    ForbiddenImport,
    ComputedImport,
    ImportOutsideAllowlist,
    ForbiddenCall,
    RuntimeInternals,
    CapabilityPrivate,
    SecretLeak,
    ProcessModule,
    ProcessCall,
    NetworkModule,
    NetworkCall,
    DynamicExecBuiltin,
    ImportMachinery,
    IntrospectionEscape,
    Deserializer,
    NativeCode,
    WriteOutsideAllowed,
    ComputedWritePath,
)
