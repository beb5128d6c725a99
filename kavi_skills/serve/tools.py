"""A served skill as an MCP tool: its schemas, and annotations from its side-effect class.

Annotations are hints a client may show or act on, so each says only what Kavi's runtime
guarantees for the class (the capabilities table in :mod:`kavi_skills.capabilities`):

==============  ========  ===========  =========
class           readOnly  destructive  openWorld
==============  ========  ===========  =========
READ_ONLY       true      --           false
FILE_WRITE      false     true         false
NETWORK         false     false        true
SECRET_READ     false     false        false
MONEY           false     true         true
MESSAGING       false     true         true
==============  ========  ===========  =========

A FILE_WRITE skill may overwrite a file in its roots (destructive); NETWORK's HTTP client
only GETs from its signed hosts (open world, nothing destroyed); money sent and messages
sent cannot be taken back. ``idempotentHint`` is never set: no class guarantees it (a write
may append), and an unset hint means false. ``destructiveHint`` means nothing for a
read-only tool, so READ_ONLY leaves it unset.
"""

from __future__ import annotations

from typing import Any

import mcp_types as types

from kavi_skills.serve.catalog import ServedSkill

META_PREFIX = "kavi.dev/"

_HINTS: dict[str, tuple[bool, bool | None, bool]] = {
    # class: (readOnlyHint, destructiveHint, openWorldHint)
    "READ_ONLY": (True, None, False),
    "FILE_WRITE": (False, True, False),
    "NETWORK": (False, False, True),
    "SECRET_READ": (False, False, False),
    "MONEY": (False, True, True),
    "MESSAGING": (False, True, True),
}


def annotations_for(side_effect_class: str) -> types.ToolAnnotations:
    """The hints for a class (an unknown class claims nothing: every hint at its default)."""
    hints = _HINTS.get(side_effect_class)
    if hints is None:
        return types.ToolAnnotations()
    read_only, destructive, open_world = hints
    return types.ToolAnnotations(
        read_only_hint=read_only, destructive_hint=destructive, open_world_hint=open_world
    )


def tool_for(skill: ServedSkill) -> types.Tool:
    """The MCP tool for a served skill."""
    output: dict[str, Any] | None = skill.described.output_schema
    if output is not None and output.get("type") != "object":
        output = None  # MCP (through 2025-11-25) wants an object; the text content remains
    return types.Tool(
        name=skill.name,
        description=skill.described.description or None,
        input_schema=skill.described.input_schema,
        output_schema=output,
        annotations=annotations_for(skill.side_effect_class),
        _meta={
            f"{META_PREFIX}side_effect_class": skill.side_effect_class,
            f"{META_PREFIX}source_hash": skill.source_hash,
            f"{META_PREFIX}runs_over_mcp": skill.allowed,
        },
    )
