"""BaseSkill: what a governed skill is. The runtime gives it only the capabilities it declared."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel


class FileAPI(Protocol):
    """The guarded file API (FILE_WRITE): paths relative to a granted root."""

    @property
    def roots(self) -> dict[str, Path]: ...
    def resolve(self, path: str, root: str | None = None) -> Path: ...
    def write(self, path: str, text: str, root: str | None = None) -> Path: ...
    def append(self, path: str, text: str, root: str | None = None) -> Path: ...
    def read(self, path: str, root: str | None = None) -> str: ...
    def exists(self, path: str, root: str | None = None) -> bool: ...
    def mkdir(self, path: str, root: str | None = None) -> Path: ...


class HTTPAPI(Protocol):
    """The guarded HTTP client (NETWORK...): GET JSON from the trusted hosts only."""

    @property
    def allowed_hosts(self) -> tuple[str, ...]: ...
    def check_url(self, url: str) -> None: ...
    def get_json(self, url: str, headers: Mapping[str, str] | None = None) -> Any: ...


class LLMAPI(Protocol):
    """The runtime's client for the configured OpenAI-compatible endpoint."""

    @property
    def model(self) -> str: ...
    @property
    def embed_model(self) -> str: ...
    def is_available(self) -> bool: ...
    def chat_json(self, prompt: str, schema: type[BaseModel]) -> dict[str, Any]: ...
    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


@dataclass(frozen=True)
class SkillContext:
    """Capabilities handed to a skill at run time, decided by its side-effect class.

    ``files`` exists only for FILE_WRITE skills, ``http`` only for NETWORK skills; ``secrets``
    holds only the names the trusted registry entry declares. ``llm`` is the runtime's own
    client for the configured OpenAI-compatible endpoint (the skill cannot choose the host).
    At run time each is a proxy to the trusted parent process (:mod:`kavi_skills.brokered`);
    tests may pass the real ``GuardedFiles``, ``GuardedHTTP`` and ``LLMClient``.
    """

    vault_dir: Path
    files: FileAPI | None = None
    http: HTTPAPI | None = None
    llm: LLMAPI | None = None
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
