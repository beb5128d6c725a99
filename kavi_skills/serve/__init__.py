"""``kavi serve``: the project's trusted skills as MCP tools (needs the ``mcp`` SDK).

:mod:`~kavi_skills.serve.catalog` decides what is on offer (verified and described now),
:mod:`~kavi_skills.serve.calls` runs or refuses one call through the runtime,
:mod:`~kavi_skills.serve.tools` maps a skill to an MCP tool, :mod:`~kavi_skills.serve.server`
wires the SDK's server, and :mod:`~kavi_skills.serve.transport` serves stdio or HTTP.
"""
