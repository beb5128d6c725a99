"""`kavi check` as a user runs it: through ``main([...])`` in-process (exit codes, every output
format), plus one real-process smoke test of the console entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from kavi_cli import run_kavi

SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "sarif-schema-2.1.0.json"
KAVI = [sys.executable, "-m", "kavi_hooks.cli"]


def kavi(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``kavi ARGS`` in-process through ``main``, shaped like a finished process."""
    done = run_kavi(args, cwd=cwd)
    return subprocess.CompletedProcess(["kavi", *args], done.exit_code, done.stdout, done.stderr)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / ".cache"))
    (tmp_path / "kavi.yaml").write_text(
        "include: ['skills/**/*.py']\n"
        "policy:\n"
        "  forbidden_imports: [subprocess, pty, paramiko]\n"
        "  forbidden_calls: [os.system]\n"
        "  forbid_dynamic_exec: true\n"
        "  network: deny\n"
        "  process: deny\n"
        "  allowed_write_paths: [vault_out/, artifacts_out/]\n"
    )
    (tmp_path / "skills").mkdir()
    (tmp_path / "skills" / "bad.py").write_text("import json\nresult = eval('1 + 1')\n")
    (tmp_path / "skills" / "good.py").write_text("import json\nprint(json.dumps([]))\n")
    return tmp_path


def test_findings_exit_1_with_json_report(repo: Path) -> None:
    result = kavi("check", "skills", "--gate", "policy", "--format", "json", cwd=repo)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["version"] == 1
    (finding,) = report["findings"]
    assert {k: finding[k] for k in ("gate", "rule", "severity", "path", "line", "col")} == {
        "gate": "policy",
        "rule": "KAV401",
        "severity": "error",
        "path": "skills/bad.py",
        "line": 2,
        "col": 10,
    }
    assert report["gates"][0] == {**report["gates"][0], "gate": "policy", "status": "fail"}


def test_clean_tree_exits_0(repo: Path) -> None:
    (repo / "skills" / "bad.py").unlink()
    result = kavi("check", "skills", "--gate", "policy", cwd=repo)
    assert result.returncode == 0
    assert "0 errors" in result.stdout


def test_text_report_shows_location_rule_message_and_source(repo: Path) -> None:
    result = kavi("check", "skills", "--gate", "policy", cwd=repo)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("skills/bad.py:2:10: KAV401 'eval' runs dynamically built code")
    assert lines[1] == "    result = eval('1 + 1')"
    assert lines[2] == "             ^"


def test_github_format_is_workflow_commands(repo: Path) -> None:
    result = kavi("check", "--gate", "policy", "--format", "github", cwd=repo)
    assert result.returncode == 1
    assert result.stdout.startswith(
        "::error file=skills/bad.py,line=2,col=10,title=KAV401 (policy)::"
    )


def test_sarif_is_valid_against_the_official_schema(repo: Path) -> None:
    result = kavi("check", "--gate", "policy", "--format", "sarif", cwd=repo)
    sarif = json.loads(result.stdout)
    jsonschema.validate(sarif, json.loads(SCHEMA.read_text()))
    (run,) = sarif["runs"]
    assert run["results"][0]["ruleId"] == "KAV401"
    assert run["results"][0]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 2,
        "startColumn": 10,
    }
    assert run["tool"]["driver"]["rules"][0]["id"] == "KAV401"


def test_sarif_with_no_findings_is_valid(repo: Path) -> None:
    (repo / "skills" / "bad.py").unlink()
    result = kavi("check", "--gate", "policy", "--format", "sarif", cwd=repo)
    jsonschema.validate(json.loads(result.stdout), json.loads(SCHEMA.read_text()))


def test_output_file_receives_the_report(repo: Path) -> None:
    out = repo / "reports" / "kavi.json"
    result = kavi("check", "--gate", "policy", "--format", "json", "--output", str(out), cwd=repo)
    assert result.returncode == 1
    assert result.stdout == ""
    assert json.loads(out.read_text())["findings"][0]["rule"] == "KAV401"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "nope.py"], "path does not exist: nope.py"),
        (["check", "--gate", "nonsense"], "unknown gate 'nonsense'"),
        (["check", "--format", "xml"], "unknown --format 'xml'"),
        (["check", "--config", "missing.yaml"], "config file not found"),
    ],
)
def test_usage_errors_exit_2_with_one_line_and_no_traceback(
    repo: Path, args: list[str], message: str
) -> None:
    result = kavi(*args, cwd=repo)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_config_key_exits_2_naming_it(repo: Path) -> None:
    (repo / "kavi.yaml").write_text("policy:\n  forbid_dynamic_exe: true\n")
    result = kavi("check", cwd=repo)
    assert result.returncode == 2
    assert "unknown config key 'policy.forbid_dynamic_exe'" in result.stderr
    assert "Traceback" not in result.stderr


def test_example_runs_on_the_embedded_default(tmp_path: Path) -> None:
    result = kavi("check", "--example", cwd=tmp_path)
    assert result.returncode == 1
    assert "KAV401" in result.stdout and "KAV111" in result.stdout
    assert "word_count.py" not in result.stdout


def test_rules_lists_every_rule_as_json(tmp_path: Path) -> None:
    result = kavi("rules", "--format", "json", cwd=tmp_path)
    rules = json.loads(result.stdout)
    ids = [r["id"] for r in rules]
    assert {"KAV001", "KAV101", "KAV111", "KAV201", "KAV301", "KAV401", "KAV501"} <= set(ids)
    assert all(r["doc"] and r["category"] for r in rules)


def test_every_command_has_help(tmp_path: Path) -> None:
    from kavi_hooks.cli import app, register_subcommands

    register_subcommands()
    names = [c.name or c.callback.__name__ for c in app.registered_commands]  # type: ignore[union-attr]
    assert {"check", "rules", "propose", "run", "doctor", "reject", "revoke"} <= set(names)
    for name in names:
        result = kavi(name, "--help", cwd=tmp_path)
        assert result.returncode == 0, name
        assert "Usage" in result.stdout


def test_help_renders_brackets_literally(tmp_path: Path) -> None:
    # Rich markup used to eat "[tool.kavi]".
    assert "[tool.kavi]" in kavi("check", "--help", cwd=tmp_path).stdout


@pytest.mark.slow
def test_console_entry_point_in_a_real_process(repo: Path) -> None:
    done = subprocess.run(
        [*KAVI, "check", "--gate", "policy", "--format", "json"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1 and json.loads(done.stdout)["findings"][0]["rule"] == "KAV401"
    bogus = subprocess.run(
        [*KAVI, "check", "--bogus"], cwd=repo, capture_output=True, text=True, check=False
    )
    assert bogus.returncode == 2 and bogus.stderr.count("\n") == 1
    assert "Traceback" not in bogus.stderr


def test_the_lazy_command_table_names_every_command_its_modules_register() -> None:
    """`kavi NAME` imports only the module the table says provides NAME: a command missing
    from the table would be 'unknown' when called directly."""
    import importlib

    import typer

    from kavi_hooks.cli import OPTIONAL_COMMANDS

    for module_name, names in OPTIONAL_COMMANDS.items():
        probe = typer.Typer()
        importlib.import_module(module_name).register(probe)
        registered = {
            c.name or c.callback.__name__ for c in probe.registered_commands if c.callback
        }
        assert registered == set(names), module_name
