"""The runtime commands, through typer's runner and once through the real console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import typer
from kavi_cli import KaviRunner as CliRunner

from kavi_hooks.skills_cli import register
from kavi_skills.records import ExecutionLog

if TYPE_CHECKING:
    from runtime_project import Project

pytest_plugins = ["runtime_project"]

ATTACK = 'import pathlib; pathlib.Path(r"{marker}").write_text("pwned")'
COMMANDS = ("skills", "run", "chain", "log", "replay", "session")


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def invoke(cli: CliRunner, *args: str) -> tuple[int, str, str]:
    result = cli.invoke(_app(), list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(cli: CliRunner, command: str) -> None:
    code, out, _ = invoke(cli, command, "--help")
    assert code == 0 and len(out) > 80


def test_run_prints_the_output_and_logs_a_record(cli: CliRunner, project: Project) -> None:
    code, out, err = invoke(cli, "run", "echo", "--json", '{"text": "hi"}')
    assert code == 0, err
    assert json.loads(out) == {"text": "hi"}
    (record,) = ExecutionLog(project.log_path).read().records
    assert record.success and record.execution_id in err


def test_invalid_input_is_refused_in_one_line(cli: CliRunner, project: Project) -> None:
    code, out, err = invoke(cli, "run", "echo", "--json", '{"nope": 1}')
    assert code == 2 and out == ""
    assert "kavi: error: echo: invalid input: text: Field required" in err
    assert "Traceback" not in err
    code, _, err = invoke(cli, "run", "echo", "--json", "{not json")
    assert code == 2 and err.startswith("kavi: error: --json is not valid JSON")


def test_an_unknown_skill_is_refused_in_one_line(cli: CliRunner, project: Project) -> None:
    code, _, err = invoke(cli, "run", "nope", "--json", "{}")
    assert code == 2 and err.strip().splitlines() == [
        "kavi: error: unknown skill 'nope' (trusted skills: echo, fetch, note, shout)"
    ]


def test_a_side_effect_without_yes_and_without_a_terminal_is_refused(
    cli: CliRunner, project: Project
) -> None:
    code, _, err = invoke(cli, "run", "note", "--json", '{"path": "a.md", "body": "x"}')
    assert code == 2 and "pass --yes" in err  # a usage error, as for promote, reset, revoke
    code, out, _ = invoke(cli, "run", "note", "--json", '{"path": "a.md", "body": "x"}', "--yes")
    assert code == 0 and json.loads(out)["written_path"].endswith("a.md")


def test_the_marker_attack_is_refused_by_run_and_replay(
    cli: CliRunner, project: Project, marker: Path
) -> None:
    invoke(cli, "run", "echo", "--json", '{"text": "hi"}')
    (record,) = ExecutionLog(project.log_path).read().records
    code, _, err = invoke(cli, "replay", record.execution_id)
    assert code == 0, err
    project.append("skills/echo.py", ATTACK.format(marker=marker))
    for args in (("run", "echo", "--json", '{"text": "hi"}'), ("replay", record.execution_id)):
        code, out, err = invoke(cli, *args)
        assert code == 1 and out == ""
        assert "skills/echo.py" in err and "expected sha256:" in err and "Traceback" not in err
    assert not marker.exists()


def test_skills_lists_the_trust_state(cli: CliRunner, project: Project) -> None:
    code, out, _ = invoke(cli, "skills", "--json")
    assert code == 0
    assert {s["name"]: s["trust"] for s in json.loads(out)["skills"]} == {
        "echo": "ok",
        "fetch": "ok",
        "note": "ok",
        "shout": "ok",
    }
    project.append("skills/echo.py", "# drift")
    (project.root / "skills" / "_util.py").unlink()
    code, out, _ = invoke(cli, "skills")
    assert code == 1
    assert "drifted" in out and "missing" in out


def test_log_filters_and_session_shows_the_tree(cli: CliRunner, project: Project) -> None:
    invoke(cli, "run", "echo", "--json", '{"text": "boom"}')
    invoke(cli, "run", "echo", "--json", '{"text": "ok"}')
    first = ExecutionLog(project.log_path).read().records[1]
    invoke(cli, "replay", first.execution_id)
    with project.log_path.open("a") as handle:
        handle.write("garbage\n")
    code, out, err = invoke(cli, "log", "--only-failures", "-n", "5")
    assert code == 0 and len(out.splitlines()) == 1 and "asked to fail" in out
    assert "skipped 1 malformed" in err
    code, out, _ = invoke(cli, "session", "--latest", "--json")
    tree = json.loads(out)
    assert tree["execution_id"] == first.execution_id and len(tree["children"]) == 1
    code, _, err = invoke(cli, "session")
    assert code == 2 and "exactly one" in err


def test_chain_runs_and_reports_a_mapping_failure(cli: CliRunner, project: Project) -> None:
    spec = {
        "steps": [
            {"skill_name": "echo", "input": {"text": "a"}},
            {"skill_name": "echo", "from_prev": [{"to_field": "text", "from_path": "x"}]},
        ]
    }
    code, out, err = invoke(cli, "chain", "--json", json.dumps(spec))
    assert code == 2 and "mapping failed" in err
    assert [s["success"] for s in json.loads(out)["steps"]] == [True, False]
    code, _, err = invoke(cli, "chain", "--json", '{"steps": []}')
    assert code == 2 and "invalid chain spec" in err


def _console_script() -> Path | None:
    script = Path(sys.executable).parent / "kavi"
    if not script.exists():
        return None
    probe = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False)
    return script if probe.returncode == 0 and "replay" in probe.stdout else None


def test_the_real_console_script_runs_refuses_and_never_runs_the_marker(
    project: Project, marker: Path
) -> None:
    script = _console_script()
    assert script is not None, "the kavi console script must register the runtime commands"
    env = dict(os.environ)

    def kavi(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script), *args],
            cwd=project.root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    ran = kavi("run", "echo", "--json", '{"text":"hi"}')
    assert ran.returncode == 0 and json.loads(ran.stdout) == {"text": "hi"}, ran.stderr
    bad = kavi("run", "echo", "--json", '{"text": 3}')
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    (record, _) = ExecutionLog(project.log_path).read().records
    assert kavi("replay", record.execution_id).returncode == 0
    project.append("skills/echo.py", ATTACK.format(marker=marker))
    for args in (("run", "echo", "--json", '{"text":"hi"}'), ("replay", record.execution_id)):
        refused = kavi(*args)
        assert refused.returncode == 1 and refused.stderr.startswith("kavi: error:")
        assert "Traceback" not in refused.stderr
    assert not marker.exists()


def test_skills_without_a_registry_lists_nothing(cli: CliRunner, project: Project) -> None:
    (project.root / "skills" / "registry.yaml").unlink()
    code, out, _ = invoke(cli, "skills")
    assert code == 0 and out.strip() == "no trusted skills"
    code, _, err = invoke(cli, "run", "echo", "--json", "{}")
    assert code == 2 and "no skill registry" in err
