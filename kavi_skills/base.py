"""BaseSkill: what a governed skill is. The runtime gives it only the capabilities it declared."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from kavi_skills.guarded_files import GuardedFiles
    from kavi_skills.guarded_http import GuardedHTTP
    from kavi_skills.llm import LLMClient


@dataclass(frozen=True)
class SkillContext:
    """Capabilities handed to a skill at run time, decided by its side-effect class.

    ``files`` exists only for FILE_WRITE skills, ``http`` only for NETWORK skills; ``secrets``
    holds only the names the trusted registry entry declares. ``llm`` is the runtime's own
    client for the configured OpenAI-compatible endpoint (the skill cannot choose the host).
    """

    vault_dir: Path
    files: GuardedFiles | None = None
    http: GuardedHTTP | None = None
    llm: LLMClient | None = None
    secrets: Mapping[str, str] = field(default_factory=dict)


class BaseSkill:
    """Subclass this in ``skills/<name>.py``; every class attribute below must be a literal."""

    name: ClassVar[str]
    description: ClassVar[str]
    side_effect_class: ClassVar[str]
    input_model: ClassVar[type[BaseModel]]
    output_model: ClassVar[type[BaseModel]]
    required_secrets: ClassVar[tuple[str, ...]] = ()
    allowed_hosts: ClassVar[tuple[str, ...]] = ()
    """NETWORK skills: the only hosts the guarded HTTP client will reach."""

    def __init__(self, context: SkillContext) -> None:
        self.context = context

    def execute(self, data: Any) -> Any:
        """Do the work: ``data`` is a validated ``input_model``; return an ``output_model``."""
        raise NotImplementedError
