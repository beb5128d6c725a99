"""Keeping secret values out of everything the forge stores.

The agent never receives a declared secret (its environment is an allowlist), but a value
can still reach its output or a tool's (a secret committed to a file the agent read, a test
that prints one). Before any note, finding or summary is written, every known secret value
is replaced: the secrets every registry entry and every proposal declares (any status, any
name), resolved from the environment and the secrets file; every value in the secrets file;
and the values of the agent's own secret-looking variables (its API key).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from kavi_forge.agent import looks_secret
from kavi_forge.errors import SecretsUnreadable
from kavi_gates.models import GateResult
from kavi_skills.errors import SecretsError
from kavi_skills.secrets import SECRETS_FILE, Redactor, read_secrets_file


def secret_values(
    names: Iterable[str],
    environ: Mapping[str, str],
    config_dir: Path,
    agent_env: Iterable[str] = (),
) -> list[str]:
    """Every value the forge must never store (see the module docstring)."""
    try:
        from_file = read_secrets_file(config_dir / SECRETS_FILE)
    except SecretsError as err:
        raise SecretsUnreadable(
            f"{err}; the forge reads it to keep its values out of every note it writes"
        ) from None
    wanted = set(names) | {n for n in agent_env if looks_secret(n)}
    values = [environ[n] for n in wanted if environ.get(n)]
    values += [value for value in from_file.values() if value]
    return values


def redact_results(redactor: Redactor, results: Sequence[GateResult]) -> list[GateResult]:
    """``results`` with every secret value replaced in finding messages and errors."""
    cleaned = []
    for result in results:
        findings = tuple(replace(f, message=redactor.text(f.message)) for f in result.findings)
        error = redactor.text(result.error) if result.error is not None else None
        notes = tuple(redactor.text(n) for n in result.notes)
        cleaned.append(replace(result, findings=findings, error=error, notes=notes))
    return cleaned
