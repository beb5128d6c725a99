"""The BUILD_PACKET: everything the agent is told, frozen per attempt."""

from __future__ import annotations

import json
from collections.abc import Sequence

from kavi_gates.config import KaviConfig
from kavi_ledger.models import Proposal


def _policy_summary(config: KaviConfig) -> str:
    policy = config.policy
    return (
        f"- forbidden imports: {', '.join(policy.forbidden_imports) or 'none'}\n"
        f"- forbidden calls: {', '.join(policy.forbidden_calls) or 'none'}\n"
        f"- dynamic exec (eval, exec, compile, __import__, pickle...): "
        f"{'forbidden' if policy.forbid_dynamic_exec else 'allowed'}\n"
        f"- network: {policy.network}; processes: {policy.process}\n"
        f"- file writes only through `self.context.files` (guarded API); literal write paths "
        f"allowed: {', '.join(policy.allowed_write_paths) or 'none'}\n"
    )


def render_packet(
    proposal: Proposal,
    config: KaviConfig,
    *,
    attempt: int,
    allowed: Sequence[str],
    required: Sequence[str],
    research: str | None,
) -> str:
    """The markdown packet given to the agent on stdin (and stored as an artifact)."""
    schema = json.dumps(proposal.io_schema, indent=2, sort_keys=True)
    secrets = ", ".join(proposal.required_secrets) or "none"
    text = (
        f"# Build packet: skill `{proposal.name}` (attempt {attempt})\n\n"
        f"## Spec\n\n- name: `{proposal.name}`\n- description: {proposal.description}\n"
        f"- side_effect_class: `{proposal.side_effect_class}`\n- required secrets: {secrets}\n\n"
        f"IO schema:\n\n```json\n{schema}\n```\n\n"
        "## Structure\n\nOne module defining exactly one subclass of "
        f'`{config.invariants.base_class}` with literal `name = "{proposal.name}"`, '
        f'`description`, `side_effect_class = "{proposal.side_effect_class}"`, and '
        "`input_model` / `output_model` naming pydantic models; `execute(self, data)` returns "
        "an output model. Code must pass ruff, mypy and pytest.\n\n"
        f"## Policy\n\n{_policy_summary(config)}\n"
        "## Files\n\nYou may create or edit ONLY these paths (anything else fails the build):\n"
        + "".join(f"- `{p}`\n" for p in allowed)
        + "\nYou MUST change:\n"
        + "".join(f"- `{p}`\n" for p in required)
    )
    if research:
        text += (
            "\n## Previous failure analysis\n\nThe previous attempt failed. Its research "
            f"note follows; fix what it describes.\n\n{research}\n"
        )
    return text
