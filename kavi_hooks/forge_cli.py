"""The forge's commands (`build`, `verify`, `promote`), registered on the kavi app.

Thin: open the project's config and ledger, call ``kavi_forge``, print. A failed
build or verification prints why and exits 1; errors go to the entry point's one boundary
(``kavi_hooks.boundary``): one ``kavi: error:`` line and an exit code.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from kavi_forge import Forge, build_proposal, promote_path, promote_proposal
from kavi_forge import verify_proposal as run_verify
from kavi_forge.signing import keygen as make_key
from kavi_gates.config import load_config
from kavi_gates.errors import EXIT_FINDINGS, UsageError
from kavi_hooks.confirm import confirm_or_refuse
from kavi_ledger.db import open_ledger
from kavi_ledger.paths import resolve_paths
from kavi_ledger.records import approver

KeyOpt = Annotated[
    Path | None,
    typer.Option("--key", help="SSH key to sign with (private, or public with ssh-agent)."),
]
ConfigOpt = Annotated[
    str | None, typer.Option("--config", help="Config file (YAML or TOML); default: discovered.")
]
NoSandboxOpt = Annotated[
    bool,
    typer.Option(
        "--no-sandbox",
        help="Run the agent and its code WITHOUT the OS sandbox (recorded in the ledger).",
    ),
]


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"kavi: error: {' '.join(message.split())}", err=True)
    return typer.Exit(code)


@contextlib.contextmanager
def _forge(
    config: str | None,
    *,
    keep_sandbox: bool = False,
    timeout: float | None = None,
    no_sandbox: bool = False,
) -> Iterator[Forge]:
    """The project's forge with an open ledger."""
    loaded = load_config(config)
    paths = resolve_paths(loaded.config.storage, loaded.root)
    db = open_ledger(paths.ledger)
    try:
        yield Forge(
            loaded=loaded,
            paths=paths,
            db=db,
            keep_sandbox=keep_sandbox,
            timeout=timeout,
            no_sandbox=no_sandbox,
        )
    finally:
        db.close()


_TELLING = re.compile(r"error|FAILED|assert|^[A-Z]+[0-9]+ ", re.IGNORECASE)


def _headline(message: str) -> str:
    """The line of a tool's output that says what is wrong (else the first line)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return next((line for line in lines if _TELLING.search(line)), lines[0] if lines else "")


def _confirm(question: str) -> bool:
    return confirm_or_refuse(question, action="promotion")


def build(
    proposal_id: Annotated[str, typer.Argument(help="The proposal id `kavi propose` printed.")],
    agent: Annotated[
        str | None,
        typer.Option("--agent", help="Coding-agent command (default: forge.agent, Claude Code)."),
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", min=0.1, help="Agent timeout in seconds.")
    ] = None,
    keep_sandbox: Annotated[
        bool, typer.Option("--keep-sandbox", help="Keep the sandbox to inspect it.")
    ] = False,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes", "-y", help="Retry although the previous failure raised an escalation trigger."
        ),
    ] = False,
    no_sandbox: NoSandboxOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Build a proposal in a sandbox with the coding agent; copy back only a green result."""
    with _forge(config, keep_sandbox=keep_sandbox, timeout=timeout, no_sandbox=no_sandbox) as forge:
        outcome = build_proposal(forge, proposal_id, agent=agent, yes=yes)
    if outcome.isolation is not None and not outcome.isolation.sandboxed:
        typer.echo(f"kavi: warning: {outcome.isolation.describe()}", err=True)
    if outcome.sandbox:
        typer.echo(f"sandbox kept: {outcome.sandbox}", err=True)
    if not outcome.succeeded:
        kind = outcome.kind.value if outcome.kind else "UNKNOWN"
        for result in outcome.results:
            for finding in result.findings[:5]:
                typer.echo(
                    f"  {result.gate} {','.join(finding.rules)} {finding.path}: "
                    f"{_headline(finding.message)}",
                    err=True,
                )
        triggers = outcome.research.triggers if outcome.research else ()
        note = outcome.research_note.path if outcome.research_note else "-"
        extra = f"; escalation: {', '.join(triggers)}" if triggers else ""
        raise _fail(
            f"build {outcome.build.id} failed ({kind}): {outcome.reason}; nothing was "
            f"copied back; research note {note}{extra}",
            EXIT_FINDINGS,
        )
    for path in outcome.copied:
        typer.echo(f"copied: {path}")
    typer.echo(f"build {outcome.build.id} succeeded (attempt {outcome.build.attempt_number})")


def verify(
    proposal_id: Annotated[str, typer.Argument(help="The proposal to verify.")],
    no_sandbox: NoSandboxOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Run every gate, then ruff, mypy and pytest on the skill; record one row per check."""
    with _forge(config, no_sandbox=no_sandbox) as forge:
        verified = run_verify(forge, proposal_id)
        vault = forge.paths.vault_dir
        isolation = forge.isolation()
    if not isolation.sandboxed:
        typer.echo(f"kavi: warning: {isolation.describe()}", err=True)
    for row in verified.run.results:
        typer.echo(f"{row.gate:<16} {row.status.value}")
    if not verified.run.passed:
        note = verified.research.path if verified.research else "-"
        raise _fail(
            f"verification {verified.run.run_id} failed; report "
            f"{(vault / verified.report.path).resolve()}; research note {note}",
            EXIT_FINDINGS,
        )
    typer.echo(f"verification {verified.run.run_id} passed")


def promote(
    target: Annotated[
        str,
        typer.Argument(
            help="A proposal id, or the PATH of an existing skill file to verify and adopt."
        ),
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    by: Annotated[
        str | None, typer.Option("--by", help="Approver (default: git user.email).")
    ] = None,
    key: KeyOpt = None,
    no_sandbox: NoSandboxOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Pin the verified bytes in the registry, sign the promotion, mark the skill TRUSTED.

    The signing key is --key, else attestation.signing_key, else git's user.signingkey (when
    gpg.format=ssh), else the key `kavi keygen` made; the project's allowed signers must list
    it for the approver.
    """
    confirm = None if yes else _confirm
    if target.endswith(".py") and not Path(target).is_file():
        raise UsageError(f"path does not exist: {target}")
    with _forge(config, no_sandbox=no_sandbox) as forge:
        if target.endswith(".py") or Path(target).is_file():
            promoted = promote_path(forge, Path(target), by=by, confirm=confirm, key=key)
        else:
            promoted = promote_proposal(forge, target, by=by, confirm=confirm, key=key)
    if promoted.sandboxed is False:
        typer.echo("kavi: warning: its checks ran WITHOUT a sandbox (explicit opt-out)", err=True)
    entry = promoted.entry
    typer.echo(
        f"promoted {promoted.name} ({entry.path}) by {entry.promoted_by}; "
        f"{len(entry.pins)} pin(s) written; attestation {entry.attestation}"
    )
    typer.echo(f"  network hosts: {', '.join(entry.allowed_hosts) or 'none'}")
    for sup in promoted.suppressions:
        typer.echo(
            f"  suppression {sup.path}:{sup.line} allow[{', '.join(sup.rules)}] {sup.reason}"
        )


def keygen(
    by: Annotated[
        str | None,
        typer.Option("--by", help="The principal the key signs as (default: git user.email)."),
    ] = None,
    add: Annotated[
        bool,
        typer.Option("--add", help="Add the key's line to the project's allowed signers file."),
    ] = False,
    key: Annotated[
        Path | None,
        typer.Option(
            "--key", help="Where the key is (default: $XDG_CONFIG_HOME/kavi/signing_key)."
        ),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Create Kavi's SSH signing key (ed25519, mode 0600) and print its allowed-signers line.

    The key lives under $XDG_CONFIG_HOME/kavi/ (never in the project); an existing key is
    reused. With --add the line goes into the project's allowed signers file: commit it.
    """
    try:
        loaded = load_config(config)
        result = make_key(
            approver(by),
            allowed_signers=loaded.allowed_signers() if add else None,
            key=key,
        )
    except OSError as err:
        raise UsageError(
            f"cannot write the key: {err.strerror or err}: {err.filename or ''}"
        ) from None
    typer.echo(f"{'created' if result.created else 'existing'} key: {result.key}", err=True)
    if result.added_to is not None:
        typer.echo(f"allowed signer listed in {result.added_to} (commit it):", err=True)
    typer.echo(result.line)


def register(app: typer.Typer) -> None:
    """Add the forge commands to the ``kavi`` Typer app."""
    app.command("build")(build)
    app.command("verify")(verify)
    app.command("promote")(promote)
    app.command("keygen")(keygen)
