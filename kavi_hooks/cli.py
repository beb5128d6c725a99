"""The ``kavi`` command. Thin: parse options, call the engine's one runner, print, exit.

Exit codes: 0 clean, 1 findings, 2 usage or configuration error, 3 internal error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import click
import typer

from kavi_gates.config import LoadedConfig, load_config
from kavi_gates.errors import EXIT_INTERNAL, EXIT_USAGE, KaviError, UsageError
from kavi_gates.paths import atomic_write
from kavi_gates.report import FORMATS
from kavi_gates.report.text import render_text
from kavi_gates.runner import available_gates, finding_codes, run_gates

app = typer.Typer(
    name="kavi",
    help="Kavi decides whether agent-written Python may be trusted, and runs only trusted code.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

EXAMPLE_DIR = Path(__file__).resolve().parent / "example"


def _write_output(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    if output.is_dir():
        raise UsageError(f"--output {output} is a directory; name a file")
    try:
        atomic_write(output, text.encode("utf-8"), mode=0o644)
    except OSError as err:
        raise UsageError(f"cannot write --output {output}: {err.strerror or err}") from None


@app.command()
def check(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Files or directories (default: the project root). Named files are always "
            "checked; directories are walked with include/exclude.",
            show_default=False,
        ),
    ] = None,
    gate: Annotated[
        list[str] | None,
        typer.Option(
            "--gate",
            "-g",
            help="Run only this gate (repeatable): policy, invariants, diff-allowlist, hash-pin.",
        ),
    ] = None,
    base: Annotated[
        str | None,
        typer.Option(
            help="diff-allowlist base: a git ref (CI), default the staged changes; "
            "'dir:PATH' compares against a directory baseline."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Config file (YAML or TOML). Default: kavi.yaml, then "
            "[tool.kavi] in pyproject.toml, then the embedded default.",
        ),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", "-f", help="text, json, sarif or github.")
    ] = "text",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the report to this file instead of stdout."),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Re-analyse every file (ignore the result cache).")
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, help="Worker processes (default: CPU count)."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show gate notes.")] = False,
    example: Annotated[
        bool,
        typer.Option(
            "--example",
            help="Check Kavi's bundled example skills with the embedded default "
            "policy (a demo of what the gates catch).",
        ),
    ] = False,
) -> None:
    """Run the gates and report findings (exit 0 clean, 1 findings, 2 usage, 3 internal)."""
    if output_format not in FORMATS:
        raise UsageError(f"unknown --format {output_format!r} (choose: {', '.join(FORMATS)})")
    if example:
        loaded = LoadedConfig(
            config=load_config(start=EXAMPLE_DIR).config,
            root=EXAMPLE_DIR,
            source="<embedded default>",
        )
        paths = [EXAMPLE_DIR / "skills"]
        gate = gate or ["policy"]
    else:
        loaded = load_config(config)
    report = run_gates(
        loaded, paths, gate, base=base, use_cache=not no_cache, jobs=jobs, verbose=verbose
    )
    if output_format == "text":
        text = render_text(report, verbose=verbose)
    else:
        text = FORMATS[output_format](report)
    _write_output(text, output)
    raise typer.Exit(report.exit_code)


@app.command()
def rules(
    code_id: Annotated[
        str | None,
        typer.Argument(help="A finding code (e.g. KAV801): show its whole documentation."),
    ] = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Document every finding code of every gate: what it finds, why, and how to fix it."""
    if output_format not in ("text", "json"):
        raise UsageError(f"unknown --format {output_format!r} (choose: text, json)")
    known = finding_codes()
    if code_id is not None:
        code = known.get(code_id.upper())
        if code is None:
            raise UsageError(f"unknown finding code {code_id!r} (kavi rules lists them all)")
        selected = [code]
    else:
        selected = list(known.values())
    if output_format == "json":
        payload = [
            {
                "id": c.id,
                "gate": c.gate,
                "category": c.category,
                "severity": c.severity.value,
                "title": c.title,
                "suppressible": c.suppressible,
                "doc": c.doc,
                "fix": c.fix,
            }
            for c in selected
        ]
        sys.stdout.write(json.dumps(payload if code_id is None else payload[0], indent=2) + "\n")
        return
    if code_id is not None:
        code = selected[0]
        suppress = "" if code.suppressible else "\nThis finding cannot be suppressed."
        sys.stdout.write(
            f"{code.id} ({code.gate}, {code.severity.value}): {code.title}\n\n"
            f"{code.help_text()}\n{suppress}\n"
        )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Kavi finding codes (kavi rules ID for one in full)", show_lines=False)
    for column in ("id", "gate", "category", "title"):
        table.add_column(column, overflow="fold")
    for c in selected:
        table.add_row(c.id, c.gate, c.category, c.title)
    Console(width=max(100, Console().width)).print(table)
    gates = ", ".join(available_gates())
    sys.stdout.write(f"gates: {gates}\n")


_FAST_COMMANDS = frozenset({"check", "rules"})
_registered = False


def register_subcommands() -> typer.Typer:
    """Add the ledger, runtime, forge and init commands (heavier imports) to ``app``."""
    global _registered
    if _registered:
        return app
    _registered = True
    from kavi_hooks import ledger_cli, skills_cli

    ledger_cli.register(app)
    skills_cli.register(app)
    for optional in ("init_cli", "forge_cli"):
        try:
            module = __import__(f"kavi_hooks.{optional}", fromlist=["register"])
        except ImportError:
            continue
        module.register(app)
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: every error becomes one line on stderr and an exit code, never a traceback."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in args if not a.startswith("-")), None)
    if command not in _FAST_COMMANDS:  # `kavi check` stays fast: no SQLite, no runtime
        register_subcommands()
    try:
        result = app(args=args, prog_name="kavi", standalone_mode=False)
    except click.exceptions.Exit as exit_:
        return int(exit_.exit_code)
    except click.exceptions.Abort:
        typer.echo("kavi: aborted", err=True)
        return 1
    except click.ClickException as err:
        err.show()
        return EXIT_USAGE
    except KaviError as err:
        typer.echo(f"kavi: error: {err}", err=True)
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # the last line of defence: still no traceback
        typer.echo(f"kavi: internal error: {type(err).__name__}: {err}", err=True)
        return EXIT_INTERNAL
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    raise SystemExit(main())
