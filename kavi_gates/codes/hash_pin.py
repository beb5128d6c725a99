"""The hash-pin gate's codes: what runs is byte-for-byte what was verified and promoted."""

from __future__ import annotations

from kavi_gates.codes import Code, codes_of
from kavi_gates.models import Severity

GATE = "hash-pin"

DRIFTED = Code(
    id="KAV801",
    gate=GATE,
    category="pins",
    title="pinned file drifted",
    doc="""
        A pinned file's bytes differ from its sha256 in the registry: what would run is
        not what was verified and promoted. The runtime refuses to run the skill.
        """,
    fix="""
        Undo the edit, or take the new bytes through the forge again (kavi verify, then
        kavi promote) so that a verification covers them.
        """,
    suppressible=False,
)
PIN_MISSING = Code(
    id="KAV802",
    gate=GATE,
    category="pins",
    title="pinned path does not exist",
    doc="A pinned path is gone, or is a symlink (never followed): the skill cannot run.",
    fix="Restore the file, or promote the skill again without it.",
    suppressible=False,
)
UNPINNED_SKILL = Code(
    id="KAV803",
    gate=GATE,
    category="pins",
    title="governed skill is not pinned",
    doc="""
        A governed skill file is pinned by no registry entry (or an entry does not pin its
        own file). Only promotion makes a skill trusted; an unpinned skill never runs.
        """,
    fix="Promote it: kavi promote skills/<name>.py (after its checks pass).",
)
NO_PINS = Code(
    id="KAV804",
    gate=GATE,
    category="pins",
    title="registry entry has no pins",
    doc="A registry entry pins nothing: 'unpinned' must never read as 'trusted'.",
    fix="Remove the hand-written entry and promote the skill.",
    suppressible=False,
)
POLICY_CHANGED = Code(
    id="KAV805",
    gate=GATE,
    category="policy",
    title="pins predate the current policy",
    doc="""
        The entry was verified under a different policy than the current one (its
        policy_digest differs): the skill has not been checked under today's rules.
        """,
    fix="Verify and promote the skill again under the current policy.",
)
POLICY_UNRECORDED = Code(
    id="KAV806",
    gate=GATE,
    category="policy",
    title="pinned under an unrecorded policy",
    severity=Severity.WARNING,
    doc="The entry records no policy_digest (a hand-written entry); a warning, not a failure.",
    fix="Promote the skill with kavi promote, which records the policy digest.",
)
UNPINNED_IMPORT = Code(
    id="KAV807",
    gate=GATE,
    category="pins",
    title="skill imports a local module its entry does not pin",
    doc="""
        The skill (or a pinned helper) imports a module that resolves inside the project
        but is not among the entry's pins: editing it would change what runs without any
        check noticing. The runtime refuses to run the skill.
        """,
    fix="Promote the skill again: promotion pins the whole local import closure.",
    suppressible=False,
)

CODES = codes_of(globals())
