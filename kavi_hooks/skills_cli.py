"""The runtime's commands: skills, run, chain, log, replay, session.

Thin wrappers over :mod:`kavi_skills`. Errors go to the entry point's one boundary
(``kavi_hooks.boundary``): one ``kavi: error: ...`` line and an exit code, never a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from kavi_gates.config import LoadedConfig, load_config
from kavi_skills.capabilities import terminal_confirm
from kavi_skills.chain import ChainSpec, run_chain
from kavi_skills.errors import SkillInputError
from kavi_skills.executor import Execution, describe_validation, execution_log, run_skill
from kavi_skills.loader import load_trusted_registry, registry_path, trust_state
from kavi_skills.replay import replay
from kavi_skills.session import build_session, render_tree, session_json

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Config file (YAML or TOML) instead of discovery.")
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Confirm side effects without asking.")]
NoLogOpt = Annotated[bool, typer.Option("--no-log", help="Do not append to the execution log.")]
NoSandboxOpt = Annotated[
    bool,
    typer.Option(
        "--no-sandbox",
        help="Run without the OS sandbox (explicit opt-out, recorded in every record).",
    ),
]


def _sandbox_choice(no_sandbox: bool) -> bool | None:
    """``--no-sandbox`` is the explicit opt-out; otherwise the config decides (default on)."""
    if no_sandbox:
        sys.stderr.write("kavi: warning: --no-sandbox: the skill runs without OS isolation\n")
        return False
    return None


def _fail(message: str, code: int) -> typer.Exit:
    sys.stderr.write(f"kavi: error: {message}\n")
    return typer.Exit(code)


def _config(config: Path | None) -> LoadedConfig:
    return load_config(config)


def _parse_json(text: str, what: str) -> Any:
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as err:
            raise SkillInputError(f"cannot read {what} from {text[1:]}: {err.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise SkillInputError(f"{what} is not valid JSON: {err}") from None


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))


def _finish(result: Execution) -> None:
    record = result.record
    sys.stderr.write(f"kavi: execution {record.execution_id}\n")
    if record.sandbox == "none":
        sys.stderr.write("kavi: warning: this execution ran without the OS sandbox\n")
    if record.success:
        _echo_json(record.output_json)
        return
    raise _fail(f"{record.skill_name}: {record.error}", result.exit_code)


def skills(
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    config: ConfigOpt = None,
) -> None:
    """List the registry's skills with their trust state (ok / drifted / missing / unattested)."""

    def body() -> int:
        loaded = _config(config)
        # No registry means no trusted skill: an empty list, not an error.
        entries = load_trusted_registry(loaded).skills if registry_path(loaded).exists() else {}
        rows = []
        for name, entry in sorted(entries.items()):
            state, detail = trust_state(entry, loaded.root, name, loaded.allowed_signers())
            rows.append(
                {
                    "name": name,
                    "path": entry.path,
                    "side_effect_class": entry.side_effect_class,
                    "trust": state,
                    "detail": detail,
                }
            )
        if json_out:
            _echo_json({"version": 1, "skills": rows})
        else:
            for row in rows:
                extra = f"  ({row['detail']})" if row["detail"] else ""
                typer.echo(
                    f"{row['name']:<24} {row['side_effect_class']:<12} {row['trust']}{extra}"
                )
            if not rows:
                typer.echo("no trusted skills")
        return 0 if all(row["trust"] == "ok" for row in rows) else 1

    code = body()
    if code:
        raise typer.Exit(code)


def run(
    name: Annotated[str, typer.Argument(help="Name of a trusted skill (see `kavi skills`).")],
    json_input: Annotated[str, typer.Option("--json", help="Input as a JSON object (or @FILE).")],
    yes: YesOpt = False,
    no_log: NoLogOpt = False,
    no_sandbox: NoSandboxOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Run a trusted skill on JSON input and print its output JSON on stdout.

    The skill's pinned files are hashed first; a drifted or unpinned skill never runs. It
    runs in its own sandboxed process, which receives the verified bytes from this one.
    """

    def body() -> None:
        data = _parse_json(json_input, "--json")
        _finish(
            run_skill(
                name,
                data,
                _config(config),
                yes=yes,
                confirm=terminal_confirm,
                log=not no_log,
                sandbox=_sandbox_choice(no_sandbox),
            )
        )

    body()


def chain(
    spec_json: Annotated[str, typer.Option("--json", help="ChainSpec as JSON (or @FILE).")],
    yes: YesOpt = False,
    no_log: NoLogOpt = False,
    no_sandbox: NoSandboxOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Run a chain of trusted skills, mapping fields between steps by dot path.

    Prints one JSON summary of the steps; exits non-zero if any step failed.
    """

    def body() -> int:
        raw = _parse_json(spec_json, "--json")
        try:
            spec = ChainSpec.model_validate(raw)
        except ValidationError as err:
            raise SkillInputError(f"invalid chain spec: {describe_validation(err)}") from None
        results = run_chain(
            spec,
            _config(config),
            yes=yes,
            confirm=terminal_confirm,
            log=not no_log,
            sandbox=_sandbox_choice(no_sandbox),
        )
        _echo_json({"steps": [r.record.model_dump(mode="json") for r in results]})
        failed = [r for r in results if not r.record.success]
        for r in failed:
            sys.stderr.write(f"kavi: error: {r.record.skill_name}: {r.record.error}\n")
        return max((r.exit_code for r in failed), default=0)

    code = body()
    if code:
        raise typer.Exit(code)


def log(
    n: Annotated[int, typer.Option("-n", help="How many of the latest records.", min=1)] = 20,
    only_failures: Annotated[
        bool, typer.Option("--only-failures", help="Failed runs only.")
    ] = False,
    skill: Annotated[str | None, typer.Option("--skill", help="Only this skill.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON record per line.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Show the latest execution records (oldest first)."""

    def body() -> None:
        contents = execution_log(_config(config)).read()
        records = [
            r
            for r in contents.records
            if (not only_failures or not r.success) and (skill is None or r.skill_name == skill)
        ]
        for r in records[-n:]:
            if json_out:
                typer.echo(r.to_line())
            else:
                status = "ok" if r.success else f"FAILED: {r.error}"
                via = f"  [{r.origin.via}]" if r.origin is not None else ""
                typer.echo(f"{r.started_at}  {r.execution_id}  {r.skill_name}{via}  {status}")
        if contents.skipped:
            sys.stderr.write(f"kavi: warning: skipped {contents.skipped} malformed log line(s)\n")

    body()


def replay_cmd(
    execution_id: Annotated[str, typer.Argument(help="Execution id (or a unique prefix).")],
    yes: YesOpt = False,
    no_log: NoLogOpt = False,
    no_sandbox: NoSandboxOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Re-run a logged execution with the same input; refused if the skill changed since."""
    _finish(
        replay(
            execution_id,
            _config(config),
            yes=yes,
            confirm=terminal_confirm,
            log=not no_log,
            sandbox=_sandbox_choice(no_sandbox),
        )
    )


def session(
    execution_id: Annotated[
        str | None, typer.Argument(help="Any execution of the session.")
    ] = None,
    latest: Annotated[
        bool, typer.Option("--latest", help="The session of the latest record.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="The tree as JSON.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Show the tree of executions linked to one (its root and every descendant)."""

    def body() -> None:
        if (execution_id is None) == (not latest):
            raise SkillInputError("give an EXECUTION_ID or --latest (exactly one)")
        log_file = execution_log(_config(config))
        records = log_file.read().records
        if latest:
            if not records:
                raise SkillInputError(f"no executions in {log_file.path}")
            start = records[-1].execution_id
        else:
            found = log_file.find(execution_id or "")
            if found is None:
                raise SkillInputError(f"no execution {execution_id!r} in {log_file.path}")
            start = found.execution_id
        tree = build_session(records, start)
        if json_out:
            _echo_json(session_json(tree))
        else:
            for line in render_tree(tree, highlight=start):
                typer.echo(line)

    body()


def register(app: typer.Typer) -> None:
    """Add the runtime's commands to the ``kavi`` app."""
    app.command("skills")(skills)
    app.command("run")(run)
    app.command("chain")(chain)
    app.command("log")(log)
    app.command("replay")(replay_cmd)
    app.command("session")(session)
