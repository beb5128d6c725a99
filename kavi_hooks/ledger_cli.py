"""The ledger's commands (`propose`, `status`, `doctor`, `reset`, `backup`, `restore`), on
the kavi app.

The commands are thin: they parse options, call ``kavi_ledger`` and print. Errors go to
the entry point's one boundary (``kavi_hooks.boundary``): one ``kavi: error: ...`` line and
an exit code, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from kavi_gates.config import LoadedConfig, load_config
from kavi_gates.errors import EXIT_FINDINGS, UsageError
from kavi_hooks.confirm import confirm_or_refuse
from kavi_ledger.artifacts import write_skill_spec
from kavi_ledger.backup import backup_ledger, restore_ledger
from kavi_ledger.db import open_ledger
from kavi_ledger.doctor import DoctorReport, run_doctor
from kavi_ledger.paths import KaviPaths, resolve_paths
from kavi_ledger.reset import plan_reset, refuse_unsafe, reset
from kavi_ledger.states import create_proposal, list_proposals
from kavi_ledger.validation import (
    parse_io_schema,
    parse_required_secrets,
    validate_side_effect,
    validate_skill_name,
)

ConfigOption = Annotated[
    str | None, typer.Option("--config", help="Config file (YAML or TOML); default: discovered.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
WaitOption = Annotated[
    float,
    typer.Option(
        "--wait",
        min=0,
        help="Seconds to wait for other processes to release the ledger before refusing.",
    ),
]


def _setup(config: str | None) -> tuple[LoadedConfig, KaviPaths]:
    loaded = load_config(config)
    return loaded, resolve_paths(loaded.config.storage, loaded.root)


def propose(
    name: Annotated[str, typer.Option("--name", help="Skill name: a Python identifier.")],
    desc: Annotated[str, typer.Option("--desc", help="What the skill does, in a sentence.")],
    side_effect: Annotated[
        str,
        typer.Option(
            "--side-effect",
            help="READ_ONLY, FILE_WRITE, NETWORK, SECRET_READ, MONEY or MESSAGING.",
        ),
    ],
    io_schema_json: Annotated[
        str, typer.Option("--io-schema-json", help="The skill's IO as a JSON Schema (JSON text).")
    ],
    required_secrets: Annotated[
        str | None,
        typer.Option("--required-secrets", help='JSON list of env var names, e.g. ["API_KEY"].'),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Record a new skill proposal and its SKILL_SPEC note; print only its id."""
    # Validate every field before touching the ledger: bad input leaves no trace.
    validate_skill_name(name)
    validate_side_effect(side_effect)
    schema = parse_io_schema(io_schema_json)
    secrets = parse_required_secrets(required_secrets)
    _, paths = _setup(config)
    db = open_ledger(paths.ledger)
    try:
        proposal = create_proposal(
            db,
            name=name,
            description=desc,
            io_schema=schema,
            side_effect_class=side_effect,
            required_secrets=secrets,
        )
        write_skill_spec(db, paths.vault_dir, proposal)
    finally:
        db.close()
    typer.echo(proposal.id)


def status(json_output: JsonOption = False, config: ConfigOption = None) -> None:
    """List skill proposals with their state (PROPOSED, BUILT, VERIFIED, TRUSTED, REJECTED)."""
    _, paths = _setup(config)
    db = open_ledger(paths.ledger)
    try:
        proposals = list_proposals(db)
    finally:
        db.close()
    if json_output:
        rows = [p.model_dump(mode="json") for p in proposals]
        typer.echo(json.dumps({"proposals": rows}, indent=2))
        return
    if not proposals:
        typer.echo("no proposals yet (kavi propose --help)")
    for p in proposals:
        typer.echo(f"{p.id}  {p.status.value:<9}  {p.side_effect_class:<11}  {p.name}")


def _print_report(report: DoctorReport) -> None:
    for check in report.checks:
        typer.echo(f"[{check.status}] {check.name}: {check.message}")
        if check.fix_hint and check.status != "pass":
            typer.echo(f"       fix: {check.fix_hint}")
    typer.echo("healthy" if report.healthy else "unhealthy")


def doctor(
    json_output: JsonOption = False,
    fix: Annotated[
        bool, typer.Option("--fix", help="Create missing directories, create/migrate the ledger.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Check storage, ledger, registry pins, executions log and toolchain (exit 1 on fail)."""
    loaded, paths = _setup(config)
    report = run_doctor(paths, loaded, fix=fix)
    if json_output:
        typer.echo(report.to_json())
    else:
        _print_report(report)
    if not report.healthy:
        raise typer.Exit(EXIT_FINDINGS)


def reset_command(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be deleted; change nothing.")
    ] = False,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes", "-y", "--force", help="Do not ask for confirmation (needed without a tty)."
        ),
    ] = False,
    backup: Annotated[
        bool, typer.Option("--backup", help="Back up the ledger to <data>/backups first.")
    ] = False,
    wait: WaitOption = 0.0,
    config: ConfigOption = None,
) -> None:
    """Wipe what Kavi created, then scaffold directories, migrate a fresh ledger, run doctor.

    Refuses (exit 2, nothing deleted) while another process holds the ledger, and for any
    storage directory Kavi did not create.
    """
    if dry_run and yes:
        raise UsageError("--dry-run and --yes/--force cannot be used together")
    loaded, paths = _setup(config)
    refuse_unsafe(paths, loaded)
    plan = plan_reset(paths)
    if dry_run:
        for target in plan.targets:
            typer.echo(f"would delete: {target}")
        if backup:
            typer.echo(f"would back up: {paths.ledger} -> {paths.backups_dir}")
        typer.echo(f"dry run: {len(plan.targets)} path(s) would be deleted; nothing changed")
        return
    if not yes:
        confirm_or_refuse(
            f"Delete {len(plan.targets)} path(s) under {paths.data_dir} and start over?",
            action="kavi reset",
        )
    result = reset(paths, loaded, backup=backup, wait=wait)
    if result.backup is not None:
        typer.echo(f"backup: {result.backup}")
    if result.log_backup is not None:
        typer.echo(f"backup: {result.log_backup}")
    typer.echo(f"deleted {len(result.deleted)} path(s); ledger at {paths.ledger}")
    _print_report(result.report)
    if not result.report.healthy:
        raise typer.Exit(EXIT_FINDINGS)


def backup_command(config: ConfigOption = None) -> None:
    """Copy the ledger into <data>/backups (mode 0600, consistent even while others write)."""
    _, paths = _setup(config)
    typer.echo(str(backup_ledger(paths)))


def restore_command(
    file: Annotated[str, typer.Argument(help="A Kavi ledger file, e.g. from <data>/backups.")],
    wait: WaitOption = 0.0,
    config: ConfigOption = None,
) -> None:
    """Replace the ledger with FILE after checking it is a Kavi ledger of a known schema.

    The current ledger is kept as a backup first; refuses (exit 2) while another process
    holds the ledger.
    """
    _, paths = _setup(config)
    result = restore_ledger(paths, Path(file), wait=wait)
    if result.previous is not None:
        typer.echo(f"backup of the replaced ledger: {result.previous}")
    typer.echo(f"restored {result.restored} -> {paths.ledger}")


def register(app: typer.Typer) -> None:
    """Add the ledger commands to the ``kavi`` Typer app."""
    app.command("propose")(propose)
    app.command("status")(status)
    app.command("doctor")(doctor)
    app.command("reset")(reset_command)
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)
