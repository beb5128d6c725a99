"""The ``kavi`` command. Thin: parse options, call the engine's one runner, print, exit.

Exit codes, for every command: 0 clean, 1 findings, 2 usage or configuration error,
3 internal error. Every error is one ``kavi: error: ...`` line on stderr (the boundary is
``kavi_hooks.boundary``), never a traceback.

``kavi check`` and ``kavi rules`` import only the engine; the ledger, runtime and forge
commands are registered on demand, and need the ``runtime`` extra
(``pip install 'kavi[runtime]'``): without it they exit 2 naming what to install.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from kavi_gates import __version__
from kavi_gates.errors import UsageError
from kavi_hooks import check_cli
from kavi_hooks.boundary import run_entry_point

app = typer.Typer(
    name="kavi",
    help="Kavi decides whether agent-written Python may be trusted, and runs only trusted code.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: rich markup would eat "[tool.kavi]" and every other bracket in our help.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"kavi {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            is_eager=True,
            callback=_print_version,
            help="Print Kavi's version and exit.",
        ),
    ] = False,
) -> None:
    """Kavi decides whether agent-written Python may be trusted, and runs only trusted code."""


app.command("check")(check_cli.check)
app.command("rules")(check_cli.rules)

# Commands whose modules import the runtime's dependencies (sqlite-utils, openai, numpy,
# sqlite-vec, jsonschema, mcp): registered only when a command needs them.
OPTIONAL_COMMANDS: dict[str, tuple[str, ...]] = {
    "kavi_hooks.init_cli": ("init",),
    "kavi_hooks.ledger_cli": ("propose", "status", "doctor", "reset", "backup", "restore"),
    "kavi_hooks.skills_cli": ("skills", "run", "chain", "log", "replay", "session"),
    "kavi_hooks.forge_cli": ("build", "verify", "promote", "keygen"),
    "kavi_hooks.trust_cli": ("reject", "revoke"),
    "kavi_hooks.serve_cli": ("serve",),
}
RUNTIME_EXTRA = "pip install 'kavi[runtime]'"
_FAST_COMMANDS = frozenset({"check", "rules"})
_registered: set[str] = set()


def _needs_runtime(name: str, missing: str) -> None:
    """Stand-in for a command whose dependencies are not installed."""

    @app.command(
        name,
        help=f"(needs the runtime extra: {RUNTIME_EXTRA})",
        add_help_option=False,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )
    def unavailable(ctx: typer.Context) -> None:
        raise UsageError(
            f"kavi {name} needs Kavi's runtime dependencies (module {missing!r} is not "
            f"installed): {RUNTIME_EXTRA}"
        )


def register_subcommands(command: str | None = None) -> typer.Typer:
    """Add the init, ledger, runtime and forge commands (heavier imports) to ``app``.

    With ``command``, only the module that provides it is imported (``kavi propose`` need
    not pay for the forge, the runtime and openai); without, all of them (help, unknown
    commands: the usage error must list every command)."""
    owner = next((m for m, names in OPTIONAL_COMMANDS.items() if command in names), None)
    for module_name, names in OPTIONAL_COMMANDS.items():
        if module_name in _registered or (owner is not None and module_name != owner):
            continue
        _registered.add(module_name)
        try:
            module: Any = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            missing = (err.name or "").split(".")[0]
            if not missing or missing.startswith("kavi"):
                raise  # a bug of Kavi's, not a missing extra
            for name in names:
                _needs_runtime(name, missing)
            continue
        module.register(app)
    return app


def _command(args: Sequence[str]) -> str | None:
    return next((a for a in args if not a.startswith("-")), None)


def _needs_registration(args: Sequence[str]) -> bool:
    command = _command(args)
    if command is None:
        return not any(a in ("--version", "-V") for a in args)  # `kavi --help` lists all
    return command not in _FAST_COMMANDS  # `kavi check` stays fast: no SQLite, no runtime


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: every outcome is an exit code, every error one line, never a traceback."""
    args = list(sys.argv[1:] if argv is None else argv)

    def call() -> Any:
        if _needs_registration(args):
            register_subcommands(_command(args))
        return app(args=args, prog_name="kavi", standalone_mode=False)

    return run_entry_point(call)


if __name__ == "__main__":
    raise SystemExit(main())
