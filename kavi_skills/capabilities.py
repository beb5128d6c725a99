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

Every skill gets ``vault_dir`` (a read-only path, for reading notes) and the runtime's LLM
client (the endpoint is configuration, not the skill's choice). Secrets are only ever the
names the trusted registry entry declares; a class without secrets that declares some is
refused. The parent holds every guarded object; the skill's sandboxed child gets proxies
that ask the parent over a pipe (:mod:`kavi_skills.broker`), so no skill can reach, patch
or rebuild them.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kavi_gates.config import LoadedConfig
from kavi_ledger.paths import KaviPaths, resolve_paths
from kavi_skills.errors import ConfirmationNeeded, ConfirmationRefused, TrustError
from kavi_skills.guarded_files import GuardedFiles, roots_for
from kavi_skills.guarded_http import GuardedHTTP
from kavi_skills.loader import TrustedSkill
from kavi_skills.secrets import Redactor, resolve_secrets

FILES_CLASSES = frozenset({"FILE_WRITE"})
HTTP_CLASSES = frozenset({"NETWORK", "MONEY", "MESSAGING"})
SECRET_CLASSES = frozenset({"NETWORK", "SECRET_READ", "MONEY", "MESSAGING"})

Confirm = Callable[[str], bool]
"""Asked before a side effect with a one-line question; True means go ahead."""


@dataclass(frozen=True)
class Grant:
    """What the parent will do for one skill run: the guarded objects it holds (the child gets
    only proxies), the declared secrets, and the redactor for their values."""

    files: GuardedFiles | None
    http: GuardedHTTP | None
    secrets: dict[str, str]
    redactor: Redactor


def project_paths(loaded: LoadedConfig) -> KaviPaths:
    """The storage locations of a project (XDG, with its ``storage`` overrides)."""
    return resolve_paths(loaded.config.storage, loaded.root)


class LazyLLM:
    """Stands in for ``LLMClient`` and builds it on first use: importing ``openai`` costs
    most of a second, which a run whose skill never calls the endpoint should not pay.
    Only the parent holds one; a skill reaches it through the broker."""

    def __init__(self) -> None:
        self._client: object | None = None
        self._lock = threading.Lock()

    def _build(self) -> object:
        with self._lock:
            if self._client is None:
                from kavi_skills.llm import LLMClient

                self._client = LLMClient()
            return self._client

    def warm_up(self) -> None:
        """Build the client in the background (while a skill's child starts), so a skill
        that will call the endpoint does not wait for the import. Failures surface on use."""

        def build() -> None:
            with contextlib.suppress(Exception):
                self._build()

        threading.Thread(target=build, name="kavi-llm-warm-up", daemon=True).start()

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        return getattr(self._build(), attribute)


def uses_llm(skill: TrustedSkill) -> bool:
    """A hint (for warming up only, never for granting): does the skill's code mention it?"""
    return any(b"llm" in data for data in skill.verified.values())


def prepare_capabilities(skill: TrustedSkill, loaded: LoadedConfig, paths: KaviPaths) -> Grant:
    """Build what ``skill`` is entitled to, by the table above, from its trusted entry."""
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
    http = GuardedHTTP(skill.allowed_hosts) if cls in HTTP_CLASSES else None
    return Grant(files=files, http=http, secrets=secrets, redactor=Redactor(secrets.values()))


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
        raise ConfirmationNeeded(f"{what} has side effects; pass --yes to confirm")
    if not confirm(f"Run {what}?"):
        raise ConfirmationRefused(f"not confirmed: {what} did not run")


def terminal_confirm(question: str) -> bool:
    """Ask on the terminal; with no terminal, refuse rather than guess."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise ConfirmationNeeded(
            f"{question[:-1]} needs confirmation and there is no terminal; pass --yes"
        )
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")
