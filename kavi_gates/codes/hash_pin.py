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
    title="skill imports a project file its entry does not pin",
    doc="""
        The skill (or a pinned helper) imports a module that resolves to a file of the
        project (through any import root: the root, a sibling file, src/, an in-project
        sys.path entry such as a .pth line, an editable install) that is not among the
        entry's pins, or that is compiled (an extension module or a sourceless .pyc, which
        cannot be verified as source): editing it would change what runs without any check
        noticing. The runtime refuses to run the skill.
        """,
    fix="""
        Promote the skill again: promotion pins the whole import closure. Replace a
        compiled module with its source.
        """,
    suppressible=False,
)
UNATTESTED = Code(
    id="KAV810",
    gate=GATE,
    category="attestation",
    title="registry entry has no signed promotion",
    doc="""
        The entry names no attestation, or its attestation file does not exist. Every
        trusted entry must be covered by the signed promotion kavi promote writes beside
        the registry; without one, a hand-written or hand-edited entry would read as
        trusted on any clone. The runtime refuses to run the skill.
        """,
    fix="""
        Promote the skill (kavi promote), which signs the entry and writes
        skills/attestations/<skill>.intoto.json; commit both.
        """,
    suppressible=False,
)
ATTESTATION_UNREADABLE = Code(
    id="KAV811",
    gate=GATE,
    category="attestation",
    title="attestation is not a readable promotion",
    doc="""
        The attestation is not a DSSE envelope holding an in-toto Statement v1 with Kavi's
        promotion predicate: not JSON, a duplicate key, bad base64, another payload or
        predicate type, a missing field, or a symlink (never followed).
        """,
    fix="Restore the file kavi promote wrote, or promote the skill again.",
    suppressible=False,
)
BAD_SIGNATURE = Code(
    id="KAV812",
    gate=GATE,
    category="attestation",
    title="promotion is not signed by an allowed signer",
    doc="""
        No signature of the attestation verifies (ssh-keygen -Y verify, namespace
        kavi-promotion) for its approver against the project's allowed signers: the
        envelope changed after signing, the key is not listed (or is listed for someone
        else), or the allowed-signers file is missing.
        """,
    fix="""
        Promote the skill again with a key the allowed signers list for you
        (kavi keygen --add prints and adds your line; commit .kavi/allowed_signers).
        """,
    suppressible=False,
)
OTHER_SKILL = Code(
    id="KAV813",
    gate=GATE,
    category="attestation",
    title="attestation is another skill's",
    doc="""
        The signed statement is the promotion of a different skill than the registry
        entry it covers: a valid attestation swapped in or pointed at from another entry.
        """,
    fix="Point the entry at its own attestation, or promote the skill again.",
    suppressible=False,
)
ATTESTED_PINS_DIFFER = Code(
    id="KAV814",
    gate=GATE,
    category="attestation",
    title="pins differ from the signed promotion",
    doc="""
        The entry's pins (paths or sha256 digests) are not exactly the subjects of its
        signed statement: the registry was edited after the promotion, e.g. a pin replaced
        by the digest of edited bytes. The runtime refuses to run the skill.
        """,
    fix="Undo the registry edit, or verify and promote the new bytes (kavi promote).",
    suppressible=False,
)
ATTESTED_FIELDS_DIFFER = Code(
    id="KAV815",
    gate=GATE,
    category="attestation",
    title="registry entry differs from the signed promotion",
    doc="""
        A field of the entry (path, class, side-effect class, secrets, hosts, policy
        digest, verification, approver, time) is not what the signed statement says: the
        registry was edited after the promotion. The runtime refuses to run the skill.
        """,
    fix="Undo the registry edit, or promote the skill again (kavi promote).",
    suppressible=False,
)

CODES = codes_of(globals())
