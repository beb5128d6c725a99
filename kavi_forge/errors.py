"""The forge's errors: each is a ``KaviError`` with the exit code the CLI reports."""

from __future__ import annotations

from kavi_gates.errors import EXIT_FINDINGS, EXIT_USAGE, KaviError


class ForgeError(KaviError):
    """A forge step failed or refused (exit 1): a red build, a refused copy-back or promotion."""

    exit_code = EXIT_FINDINGS


class AgentNotInstalled(KaviError):
    """The coding-agent command is not on PATH (exit 2)."""

    exit_code = EXIT_USAGE


class EscalationRequired(ForgeError):
    """The previous failure raised an escalation trigger: a retry needs ``--yes``."""


class PromotionRefused(ForgeError):
    """Promotion would pin bytes that the latest passing verification did not cover."""


class SandboxRefused(KaviError):
    """No sandbox can start and nobody opted out: nothing untrusted runs (exit 2)."""

    exit_code = EXIT_USAGE


class AgentConfigError(KaviError):
    """The agent's sandbox cannot be set up as configured (exit 2): a path that would expose
    the repository, Kavi's storage or the home directory, a program inside them."""

    exit_code = EXIT_USAGE


class SecretsUnreadable(KaviError):
    """The secrets file exists but cannot be read safely, so its values could not be kept
    out of the forge's notes (exit 2)."""

    exit_code = EXIT_USAGE
