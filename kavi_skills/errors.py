"""Errors the skill runtime reports; each maps to an exit code and one line on stderr."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kavi_gates.errors import EXIT_FINDINGS, EXIT_USAGE, KaviError

if TYPE_CHECKING:
    from kavi_skills.records import ExecutionRecord


class TrustError(KaviError):
    """A skill is not trusted as it stands: unpinned, drifted, missing or mis-declared."""

    exit_code = EXIT_FINDINGS


class SkillDidNotLoad(TrustError):
    """The verified module failed to import in its child, or does not match its entry; the
    FAILURE record was logged first and is kept here (``record``)."""

    def __init__(self, message: str, record: ExecutionRecord) -> None:
        super().__init__(message)
        self.record = record


class UnknownSkillError(KaviError):
    """No registry entry has this name (the registry holds trusted skills only)."""

    exit_code = EXIT_USAGE


class SkillInputError(KaviError):
    """The input (JSON, chain spec, execution id...) given on the command line is unusable."""

    exit_code = EXIT_USAGE


class ConfirmationRefused(KaviError):
    """A side effect needed confirmation and the person at the terminal declined (exit 1)."""

    exit_code = EXIT_FINDINGS


class ConfirmationNeeded(ConfirmationRefused):
    """A side effect needs confirmation and nobody can give it: no terminal and no ``--yes``.
    A usage error (exit 2), as for ``kavi promote``, ``reset`` and ``revoke``."""

    exit_code = EXIT_USAGE


class SideEffectRefused(KaviError):
    """A guarded API refused an operation outside what the skill was granted."""

    exit_code = EXIT_FINDINGS


class SecretsError(KaviError):
    """A declared secret is missing, or the secrets file is unsafe or unreadable."""

    exit_code = EXIT_USAGE


class ReplayRefused(KaviError):
    """A recorded execution cannot be replayed (its skill's code changed since)."""

    exit_code = EXIT_FINDINGS


class SandboxRefused(KaviError):
    """No sandbox can start for a skill here (the message names the fix and the opt-out)."""

    exit_code = EXIT_USAGE


class DescribeFailed(KaviError):
    """A trusted skill's child could not say what the skill declares (import or schema
    failure, a protocol breach): ``kavi serve`` cannot offer it as a tool."""

    exit_code = EXIT_FINDINGS
