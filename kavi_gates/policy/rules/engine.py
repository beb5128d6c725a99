"""Findings the engine reports itself: input it cannot read or analyse, suppressions misused.

These rules check nothing in ``ModuleFacts``; they exist so that their codes are known to
suppressions, ``kavi rules`` and the example tests like every other rule's."""

from __future__ import annotations

from kavi_gates.codes import policy as codes
from kavi_gates.policy.rule import EngineRule


class ParseFailure(EngineRule):
    """The file does not parse (KAV001)."""

    code = codes.PARSE_FAILURE


class UnreadableInput(EngineRule):
    """The file is binary or undecodable (KAV002)."""

    code = codes.UNREADABLE_INPUT


class SuppressionWithoutReason(EngineRule):
    """A suppression gives no reason (KAV003)."""

    code = codes.SUPPRESSION_WITHOUT_REASON


class UnusedSuppression(EngineRule):
    """A suppression matches no finding (KAV004)."""

    code = codes.UNUSED_SUPPRESSION


class AnalysisLimit(EngineRule):
    """The file is too slow or too complex to analyse (KAV005)."""

    code = codes.ANALYSIS_LIMIT
