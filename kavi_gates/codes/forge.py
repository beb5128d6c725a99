"""Codes the forge reports about an agent's change (checked by ``kavi_gates.suppressions``)."""

from __future__ import annotations

from kavi_gates.codes import Code, codes_of

GATE = "agent-suppressions"

AGENT_SUPPRESSION = Code(
    id="KAV901",
    gate=GATE,
    category="forge",
    title="the coding agent added a suppression",
    doc="""
        The agent's change adds a `# kavi: allow[...]` comment, or moves an existing one onto
        other code (the forge compares the sandbox copy with its baseline). A suppression
        switches a rule off for a line: an agent that may write its own would be checked by
        nothing it chose to silence. Suppressions are a human's decision, with a reason.
        """,
    fix="""
        Let the agent fix the code instead (the next attempt's packet carries this finding).
        If the finding is a false positive, a human adds the suppression by hand and says
        why; `kavi promote` lists every suppression in the code it pins for the approver.
        """,
    suppressible=False,
)

CODES = codes_of(globals())
