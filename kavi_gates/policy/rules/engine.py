"""Findings the engine reports itself: input it cannot read and suppressions misused."""

from __future__ import annotations

from kavi_gates.policy.rule import EngineRule


class ParseFailure(EngineRule):
    """The file does not parse, so nothing in it can be proven safe: the gate fails
    (reported at the line the parser stopped), it never passes unparsed code."""

    id = "KAV001"
    category = "input"
    MESSAGE = "file does not parse"
    UNSUPPRESSIBLE = True
    VALID = ["x = 1\n"]
    INVALID = ["def broken(:\n    pass\n", "x = (1,\n"]


class UnreadableInput(EngineRule):
    """The file is binary or not valid text in its declared encoding (a finding, never a
    crash and never a pass)."""

    id = "KAV002"
    category = "input"
    MESSAGE = "file is binary or undecodable"
    UNSUPPRESSIBLE = True
    VALID = ["# -*- coding: latin-1 -*-\ns = 'caf\xe9'\n".encode("latin-1")]
    INVALID = [b"\x00\x01\x02binary\xff", b"s = '\xff\xfe'\n"]


class SuppressionWithoutReason(EngineRule):
    """A ``# kavi: allow[ID]`` comment gives no reason. The reason is mandatory, and the
    suppression does not apply without it."""

    id = "KAV003"
    category = "suppression"
    MESSAGE = "suppression without a reason"
    UNSUPPRESSIBLE = True
    VALID = ["x = eval('1')  # kavi: allow[KAV401] fixture for the evaluator tests\n"]
    INVALID = ["x = eval('1')  # kavi: allow[KAV401]\n"]


class UnusedSuppression(EngineRule):
    """A suppression comment matches no finding on its line (or the line below when it
    stands alone), names an unknown rule, or names a rule that cannot be suppressed."""

    id = "KAV004"
    category = "suppression"
    MESSAGE = "unused suppression"
    UNSUPPRESSIBLE = True
    VALID = ["# kavi: allow[KAV401] the test needs the real builtin\nx = eval('1')\n"]
    INVALID = [
        "x = 1  # kavi: allow[KAV401] nothing to suppress here\n",
        "open('x', 'w')  # kavi: allow[KAV001] parse failures cannot be suppressed\n",
    ]
