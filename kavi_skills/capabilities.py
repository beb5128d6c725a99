"""Which capabilities each side-effect class gets, and the confirmation before side effects.

==============  =====  ====  =======  ============
class           files  http  secrets  confirmation
==============  =====  ====  =======  ============
READ_ONLY       no     no    no       no
FILE_WRITE      yes    no    no       yes
NETWORK         no     yes   yes      yes
SECRET_READ     no     no    yes      yes
MONEY           no     yes   yes      yes
MESSAGING       no     yes   yes      yes
==============  =====  ====  =======  ============

Every skill gets ``vault_dir`` (a path, for reading notes) and the runtime's own LLM client,
built on first use
(the endpoint is configuration, not the skill's choice). Secrets are only ever the names the
trusted registry entry declares; a class without secrets that declares some is refused.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from kavi_gates.config import LoadedConfig
from kavi_ledger.paths import KaviPaths, resolve_paths
from kavi_skills.base import SkillContext
from kavi_skills.errors import ConfirmationRefused, TrustError
from kavi_skills.guarded_files import GuardedFiles, roots_for
from kavi_skills.guarded_http import GuardedHTTP
from kavi_skills.loader import LoadedSkill
from kavi_skills.secrets import Redactor, resolve_secrets

if TYPE_CHECKING:
    from kavi_skills.llm import LLMClient

FILES_CLASSES = frozenset({"FILE_WRITE"})
HTTP_CLASSES = frozenset({"NETWORK", "MONEY", "MESSAGING"})
SECRET_CLASSES = frozenset({"NETWORK", "SECRET_READ", "MONEY", "MESSAGING"})

Confirm = Callable[[str], bool]
"""Asked before a side effect with a one-line question; True means go ahead."""


@dataclass(frozen=True)
class Prepared:
    """A context to run a skill with, and the redactor for its secrets."""

    context: SkillContext
    redactor: Redactor


def project_paths(loaded: LoadedConfig) -> KaviPaths:
    """The storage locations of a project (XDG, with its ``storage`` overrides)."""
    return resolve_paths(loaded.config.storage, loaded.root)


class LazyLLM:
    """Stands in for ``LLMClient`` and builds it on first use: importing ``openai`` costs
    most of a second, which a skill that never calls the endpoint should not pay."""

    def __init__(self) -> None:
        self._client: object | None = None

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        if self._client is None:
            from kavi_skills.llm import LLMClient

            self._client = LLMClient()
        return getattr(self._client, attribute)


def prepare_context(skill: LoadedSkill, loaded: LoadedConfig, paths: KaviPaths) -> Prepared:
    """Build the capabilities ``skill`` is entitled to, by the table above."""
    cls = skill.entry.side_effect_class
    declared = tuple(skill.entry.required_secrets)
    if declared and cls not in SECRET_CLASSES:
        raise TrustError(
            f"{skill.name}: a {cls} skill may not declare secrets ({', '.join(declared)})"
        )
    secrets = resolve_secrets(declared, paths.config_dir) if declared else {}
    files = None
    if cls in FILES_CLASSES:
        files = GuardedFiles(
            roots_for(loaded.root, loaded.config.policy.allowed_write_paths, paths.vault_dir)
        )
    http = GuardedHTTP(skill.skill_class.allowed_hosts) if cls in HTTP_CLASSES else None
    context = SkillContext(
        vault_dir=paths.vault_dir,
        files=files,
        http=http,
        llm=cast("LLMClient", LazyLLM()),
        secrets=secrets,
    )
    return Prepared(context, Redactor(secrets.values()))


def needs_confirmation(side_effect_class: str) -> bool:
    """Everything but READ_ONLY asks first."""
    return side_effect_class != "READ_ONLY"


def confirm_side_effects(
    names_and_classes: list[tuple[str, str]], yes: bool, confirm: Confirm | None
) -> None:
    """Ask once for every skill with side effects; refuse when nobody can answer."""
    pending = [(n, c) for n, c in names_and_classes if needs_confirmation(c)]
    if not pending or yes:
        return
    what = ", ".join(f"{name} ({cls})" for name, cls in pending)
    if confirm is None:
        raise ConfirmationRefused(f"{what} has side effects; pass --yes to confirm")
    if not confirm(f"Run {what}?"):
        raise ConfirmationRefused(f"not confirmed: {what} did not run")


def terminal_confirm(question: str) -> bool:
    """Ask on the terminal; with no terminal, refuse rather than guess."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise ConfirmationRefused(
            f"{question[:-1]} needs confirmation and there is no terminal; pass --yes"
        )
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")
