from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import typer
from kavi_cli import KaviRunner as CliRunner
from ledger_helpers import CLI_SCRIPT, PYTHON, corrupt_middle

from kavi_hooks.ledger_cli import register
from kavi_ledger.artifacts import write_skill_spec
from kavi_ledger.db import open_ledger
from kavi_ledger.paths import KaviPaths, ensure_directories
from kavi_ledger.states import create_proposal

COMMANDS = ("propose", "status", "doctor", "reset", "backup", "restore")
GOOD = ["--desc", "Writes a note", "--io-schema-json", '{"type": "object"}']


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _propose(
    runner: CliRunner,
    app: typer.Typer,
    name: str = "write_note",
    side_effect: str = "FILE_WRITE",
    *extra: str,
) -> tuple[int, str, str]:
    result = runner.invoke(
        app, ["propose", "--name", name, "--side-effect", side_effect, *GOOD, *extra]
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(runner: CliRunner, app: typer.Typer, command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.stdout and len(result.stdout) > 200


def test_propose_prints_only_the_proposal_id(
    runner: CliRunner, app: typer.Typer, paths: KaviPaths
) -> None:
    code, out, _ = _propose(
        runner, app, "write_note", "FILE_WRITE", "--required-secrets", '["VAULT_TOKEN"]'
    )
    assert code == 0
    status = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert out == status["proposals"][0]["id"] + "\n"
    assert status["proposals"][0]["required_secrets"] == ["VAULT_TOKEN"]


def test_propose_writes_the_skill_spec_note(
    runner: CliRunner, app: typer.Typer, paths: KaviPaths
) -> None:
    code, out, _ = _propose(runner, app)
    notes = list((paths.vault_dir / "skill_spec").glob("*.md"))
    assert code == 0 and len(notes) == 1 and out.strip() in notes[0].read_text()


@pytest.mark.parametrize(
    ("name", "side_effect", "extra", "message"),
    [
        ("not-an-identifier", "READ_ONLY", [], "not a Python identifier"),
        ("def", "READ_ONLY", [], "keyword"),
        ("ok_name", "EVERYTHING", [], "side-effect class"),
        ("ok_name", "READ_ONLY", ["--required-secrets", "API_KEY"], "not valid JSON"),
        ("ok_name", "READ_ONLY", ["--required-secrets", '["lower case"]'], "environment"),
    ],
)
def test_bad_propose_input_is_one_error_line_and_exit_2(
    runner: CliRunner,
    app: typer.Typer,
    paths: KaviPaths,
    name: str,
    side_effect: str,
    extra: list[str],
    message: str,
) -> None:
    code, out, err = _propose(runner, app, name, side_effect, *extra)
    assert code == 2 and out == ""
    assert err.startswith("kavi: error: ") and message in err and err.count("\n") == 1
    assert not paths.ledger.exists()  # refused before touching the ledger


@pytest.mark.parametrize("schema", ["{not json", '{"type": "nonsense"}', "[1, 2]"])
def test_an_io_schema_that_is_not_a_json_schema_is_refused(
    runner: CliRunner, app: typer.Typer, project: Path, schema: str
) -> None:
    result = runner.invoke(
        app,
        [
            "propose",
            "--name",
            "n",
            "--desc",
            "d",
            "--side-effect",
            "READ_ONLY",
            "--io-schema-json",
            schema,
        ],
    )
    assert result.exit_code == 2 and result.stderr.startswith("kavi: error: io schema")


def test_status_lists_proposals_with_their_state(
    runner: CliRunner, app: typer.Typer, project: Path
) -> None:
    _, out, _ = _propose(runner, app)
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 0
    assert out.strip() in result.stdout and "PROPOSED" in result.stdout


def test_doctor_json_after_reset_force_is_healthy(
    runner: CliRunner, app: typer.Typer, project: Path
) -> None:
    assert runner.invoke(app, ["reset", "--force"]).exit_code == 0
    result = runner.invoke(app, ["doctor", "--json"])
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["healthy"] is True
    assert {c["status"] for c in report["checks"]} <= {"pass", "warn"}


def test_doctor_exits_1_when_a_check_fails(
    runner: CliRunner, app: typer.Typer, paths: KaviPaths
) -> None:
    # A fresh install is healthy (issue 12); a ledger that is not a database is not.
    paths.ledger.parent.mkdir(parents=True, exist_ok=True)
    paths.ledger.write_text("not a database")
    result = runner.invoke(app, ["doctor", "--json"])
    assert result.exit_code == 1 and json.loads(result.stdout)["healthy"] is False


def test_doctor_on_a_fresh_install_is_healthy_without_fix(
    runner: CliRunner, app: typer.Typer, paths: KaviPaths
) -> None:
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "healthy" and not paths.ledger.exists()


def test_reset_dry_run_deletes_nothing(
    runner: CliRunner, app: typer.Typer, paths: KaviPaths
) -> None:
    _propose(runner, app)
    before = sorted(p for p in paths.data_dir.rglob("*"))
    result = runner.invoke(app, ["reset", "--dry-run"])
    assert result.exit_code == 0 and "would delete" in result.stdout
    assert sorted(p for p in paths.data_dir.rglob("*")) == before
    assert json.loads(runner.invoke(app, ["status", "--json"]).stdout)["proposals"]


def test_reset_without_force_and_without_stdin_aborts_and_changes_nothing(
    runner: CliRunner, app: typer.Typer, paths: KaviPaths
) -> None:
    _propose(runner, app)
    # No terminal: refused like `kavi promote` (exit 2, pass --yes), never a silent abort.
    result = runner.invoke(app, ["reset"], input="")
    assert result.exit_code == 2 and "pass --yes" in result.stderr
    assert "nothing was changed" in result.stderr
    assert len(json.loads(runner.invoke(app, ["status", "--json"]).stdout)["proposals"]) == 1


def test_reset_confirmed_with_backup_wipes_the_ledger_and_keeps_a_backup(
    runner: CliRunner, app: typer.Typer, paths: KaviPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    _propose(runner, app)
    monkeypatch.setattr("kavi_hooks.confirm.stdin_is_terminal", lambda: True)
    result = runner.invoke(app, ["reset", "--backup"], input="y\n")
    assert result.exit_code == 0, result.stderr
    assert len(list(paths.backups_dir.glob("ledger-*.db"))) == 1
    assert json.loads(runner.invoke(app, ["status", "--json"]).stdout)["proposals"] == []


def test_reset_refuses_dry_run_together_with_force(
    runner: CliRunner, app: typer.Typer, project: Path
) -> None:
    result = runner.invoke(app, ["reset", "--dry-run", "--force"])
    assert result.exit_code == 2 and result.stderr.startswith("kavi: error:")


def test_a_corrupted_ledger_is_an_error_line_for_commands_and_unhealthy_for_doctor(
    runner: CliRunner, app: typer.Typer, paths: KaviPaths
) -> None:
    # A ledger large enough that the corruption lands in its pages: what `kavi propose`
    # records (a proposal and its note), written through the library, not 200 commands.
    ensure_directories(paths)
    db = open_ledger(paths.ledger)
    try:
        for i in range(200):
            proposal = create_proposal(
                db,
                name=f"skill_{i}",
                description="Writes a note",
                io_schema={"type": "object"},
                side_effect_class="FILE_WRITE",
            )
            write_skill_spec(db, paths.vault_dir, proposal)
    finally:
        db.close()
    assert _propose(runner, app, "one_more")[0] == 0  # the command itself, once
    corrupt_middle(paths.ledger)
    doctor = runner.invoke(app, ["doctor", "--json"])
    assert doctor.exit_code == 1 and json.loads(doctor.stdout)["healthy"] is False
    status = runner.invoke(app, ["status"])
    assert status.exit_code in (0, 2) and "Traceback" not in status.output
    if status.exit_code == 2:
        assert status.stderr.startswith("kavi: error:")


def test_a_real_subprocess_reset_then_doctor_is_healthy(project: Path) -> None:
    def kavi(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PYTHON, "-c", CLI_SCRIPT, *args],
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )

    assert kavi("reset", "--force").returncode == 0
    doctor = kavi("doctor", "--json")
    assert doctor.returncode == 0 and json.loads(doctor.stdout)["healthy"] is True
    bad = kavi(
        "propose",
        "--name",
        "1bad",
        "--desc",
        "d",
        "--side-effect",
        "READ_ONLY",
        "--io-schema-json",
        "{}",
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("kavi: error:")


def test_reset_declined_at_the_terminal_changes_nothing(
    runner: CliRunner, app: typer.Typer, paths: KaviPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    _propose(runner, app)
    monkeypatch.setattr("kavi_hooks.confirm.stdin_is_terminal", lambda: True)
    result = runner.invoke(app, ["reset"], input="n\n")
    assert result.exit_code == 1 and "aborted" in result.stderr
    assert len(json.loads(runner.invoke(app, ["status", "--json"]).stdout)["proposals"]) == 1
