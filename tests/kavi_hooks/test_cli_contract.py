"""The exit-code contract of every command, driven through ``main([...])`` as a user types it.

0 clean, 1 findings, 2 usage or configuration error, 3 internal error. Every bad input
below must end with its exit code and exactly one ``kavi: error: ...`` line on stderr:
never a traceback, never "internal error" for a mistake of the user's.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from kavi_cli import run_kavi

from kavi_gates.errors import EXIT_CLEAN, EXIT_USAGE
from kavi_hooks import precommit

SKILL = """from pydantic import BaseModel

from kavi_skills import BaseSkill


class In(BaseModel):
    text: str


class Echo(BaseSkill[In, In]):
    name = "echo"
    description = "Echo the text"
    side_effect_class = "READ_ONLY"
    input_model = In
    output_model = In

    def execute(self, data: In) -> In:
        return data
"""


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed repository every test starts from (built once: three git processes)."""
    root = tmp_path_factory.mktemp("cli-contract") / "repo"
    (root / "skills").mkdir(parents=True)
    (root / "kavi.yaml").write_text('include: ["skills/**/*.py"]\n')
    (root / "skills" / "echo.py").write_text(SKILL)
    (root / "skills" / "registry.yaml").write_text("version: 1\nskills: {}\n")
    (root / "garbage.json").write_text("{not json")
    (root / "outdir").mkdir()
    identity = ["-c", "user.email=t@example.com", "-c", "user.name=T"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", *identity, "commit", "-qm", "init"], cwd=root, check=True)
    return root


@pytest.fixture
def repo(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the template repository of this test's own, as cwd, with private XDG dirs."""
    root = tmp_path / "repo"
    shutil.copytree(template, root, symlinks=True)
    for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    for name in ("KAVI_AGENT", "CLAUDECODE", "GITHUB_HEAD_REF"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(root)
    return root


PROPOSE = ["propose", "--name", "shout", "--desc", "d", "--side-effect", "READ_ONLY"]
SCHEMA = ["--io-schema-json", '{"type": "object"}']

# (id, argv, message fragment) — every one must exit 2 with one line on stderr.
USAGE_ERRORS: list[tuple[str, list[str], str]] = [
    ("no-command", [], "missing command"),
    ("root-bogus-option", ["--bogus"], "No such option"),
    ("typo-command", ["chek"], "No such command 'chek'"),
    ("unknown-command", ["frobnicate"], "No such command"),
    ("check-bogus-option", ["check", "--bogus"], "No such option: --bogus"),
    ("check-jobs-0", ["check", "--jobs", "0"], "--jobs"),
    ("check-jobs-negative", ["check", "--jobs", "-3"], "--jobs"),
    ("check-jobs-text", ["check", "--jobs", "many"], "--jobs"),
    ("check-jobs-missing-value", ["check", "--jobs"], "--jobs"),
    ("check-format-xml", ["check", "--format", "xml"], "unknown --format 'xml'"),
    ("check-format-missing-value", ["check", "--format"], "--format"),
    ("check-gate-unknown", ["check", "--gate", "nonsense"], "unknown gate 'nonsense'"),
    ("check-gate-missing-value", ["check", "-g"], "-g"),
    ("check-path-missing", ["check", "nope.py"], "path does not exist: nope.py"),
    ("check-config-missing", ["check", "--config", "missing.yaml"], "config file not found"),
    ("check-config-directory", ["check", "--config", "outdir"], "config file"),
    ("check-config-not-yaml", ["check", "--config", "garbage.json"], "garbage.json"),
    ("check-select-unknown", ["check", "--select", "KAV999"], "unknown finding code"),
    ("check-select-garbage", ["check", "--select", "kav-1"], "unknown finding code"),
    ("check-ignore-unknown", ["check", "--ignore", "XYZ"], "unknown finding code"),
    ("check-statistics-json", ["check", "--statistics", "--format", "json"], "--statistics"),
    ("check-quiet-verbose", ["check", "-q", "-v"], "--quiet and --verbose"),
    ("check-baseline-missing", ["check", "--baseline", "none.json"], "baseline not found"),
    ("check-baseline-garbage", ["check", "--baseline", "garbage.json"], "not a Kavi baseline"),
    ("check-baseline-directory", ["check", "--baseline", "outdir"], "baseline"),
    (
        "check-baseline-and-write",
        ["check", "--baseline", "a.json", "--write-baseline", "b.json"],
        "cannot be used together",
    ),
    ("check-write-baseline-directory", ["check", "--write-baseline", "outdir"], "directory"),
    ("check-output-directory", ["check", "-o", "outdir"], "is a directory"),
    ("check-base-unknown-ref", ["check", "--base", "no-such-ref"], "unknown git ref"),
    (
        "check-base-missing-dir",
        ["check", "-g", "diff-allowlist", "--base", "dir:/no/such/dir"],
        "baseline",
    ),
    ("rules-unknown-code", ["rules", "KAV999"], "unknown finding code 'KAV999'"),
    ("rules-garbage-code", ["rules", "not-a-code"], "unknown finding code"),
    ("rules-format-xml", ["rules", "--format", "xml"], "unknown --format"),
    ("rules-two-codes", ["rules", "KAV401", "KAV801"], "unexpected extra argument"),
    ("rules-bogus-option", ["rules", "--bogus"], "No such option"),
    ("init-repo-without-rev", ["init", "--repo", "https://example.invalid/kavi"], "go together"),
    ("init-rev-without-repo", ["init", "--rev", "v1"], "go together"),
    ("init-repo-with-space", ["init", "--repo", "a b", "--rev", "v1"], "without spaces"),
    ("init-unknown-snippet", ["init", "--print", "nope"], "unknown snippet 'nope'"),
    ("init-not-a-directory", ["init", "/no/such/dir"], "not a directory"),
    ("init-overwrite", ["init"], "kavi.yaml already exists"),
    ("init-bogus-option", ["init", "--bogus"], "No such option"),
    ("propose-missing-everything", ["propose"], "Missing option"),
    ("propose-bad-name", [*PROPOSE[:2], "1bad", *PROPOSE[3:], *SCHEMA], "1bad"),
    ("propose-bad-side-effect", [*PROPOSE[:-1], "NOPE", *SCHEMA], "NOPE"),
    ("propose-schema-not-json", [*PROPOSE, "--io-schema-json", "{bad"], "JSON"),
    (
        "propose-secrets-not-a-list",
        [*PROPOSE, *SCHEMA, "--required-secrets", '"KEY"'],
        "secrets",
    ),
    ("status-bogus-option", ["status", "--bogus"], "No such option"),
    ("status-extra-argument", ["status", "extra"], "unexpected extra argument"),
    ("doctor-bogus-option", ["doctor", "--bogus"], "No such option"),
    ("reset-dry-run-and-force", ["reset", "--dry-run", "--force"], "cannot be used together"),
    ("reset-without-a-terminal", ["reset"], "pass --yes"),
    ("skills-bogus-option", ["skills", "--bogus"], "No such option"),
    ("run-without-json", ["run", "echo"], "Missing option '--json'"),
    ("run-without-name", ["run"], "Missing argument"),
    ("run-bad-json", ["run", "echo", "--json", "{bad"], "not valid JSON"),
    ("run-json-file-missing", ["run", "echo", "--json", "@missing.json"], "missing.json"),
    ("run-unknown-skill", ["run", "nope", "--json", "{}"], "nope"),
    ("chain-without-json", ["chain"], "Missing option '--json'"),
    ("chain-bad-json", ["chain", "--json", "{bad"], "not valid JSON"),
    ("chain-not-a-spec", ["chain", "--json", "[]"], "chain spec"),
    ("log-n-0", ["log", "-n", "0"], "-n"),
    ("log-n-text", ["log", "-n", "ten"], "-n"),
    ("log-bogus-option", ["log", "--bogus"], "No such option"),
    ("replay-without-id", ["replay"], "Missing argument"),
    ("replay-unknown-id", ["replay", "nope"], "nope"),
    ("session-without-id", ["session"], "EXECUTION_ID or --latest"),
    ("session-id-and-latest", ["session", "x", "--latest"], "EXECUTION_ID or --latest"),
    ("session-latest-without-log", ["session", "--latest"], "no executions"),
    ("build-without-id", ["build"], "Missing argument"),
    ("build-timeout-0", ["build", "x", "--timeout", "0"], "--timeout"),
    ("build-unknown-proposal", ["build", "nope"], "nope"),
    ("verify-without-id", ["verify"], "Missing argument"),
    ("verify-unknown-proposal", ["verify", "nope"], "nope"),
    ("promote-without-target", ["promote"], "Missing argument"),
    ("promote-unknown-proposal", ["promote", "nope", "--yes"], "nope"),
    (
        "promote-missing-path",
        ["promote", "skills/missing.py", "--yes"],
        "path does not exist: skills/missing.py",
    ),
    ("reject-without-id", ["reject"], "Missing argument"),
    ("reject-without-reason", ["reject", "x"], "Missing option '--reason'"),
    ("reject-blank-reason", ["reject", "x", "--reason", "  "], "--reason must say why"),
    ("reject-unknown-proposal", ["reject", "nope", "--reason", "spam"], "nope"),
    ("revoke-without-name", ["revoke"], "Missing argument"),
    ("revoke-unknown-skill", ["revoke", "nope", "--reason", "x", "--yes"], "no trusted skill"),
]


def test_the_table_is_long_enough() -> None:
    assert len(USAGE_ERRORS) >= 70
    assert len({case[0] for case in USAGE_ERRORS}) == len(USAGE_ERRORS)


@pytest.mark.parametrize(
    ("argv", "fragment"), [c[1:] for c in USAGE_ERRORS], ids=[c[0] for c in USAGE_ERRORS]
)
def test_usage_error_exits_2_in_one_line(repo: Path, argv: list[str], fragment: str) -> None:
    result = run_kavi(argv)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kavi: error: "), result.stderr
    assert "internal error" not in result.stderr
    assert fragment in lines[0], lines[0]


CONFIG_ERRORS: list[tuple[str, str, str]] = [
    ("unknown-key", "policy:\n  forbid_dynamic_exe: true\n", "unknown config key"),
    ("unknown-top-key", "includes: []\n", "unknown config key 'includes'"),
    ("bad-yaml", "include: [\n", "not valid yaml"),
    ("not-a-mapping", "- a\n- b\n", "expected a mapping"),
    ("bad-select", "select: [kav-1]\n", "select"),
    ("bad-per-path", "per_path_ignores: {'x/**': [nope]}\n", "per_path_ignores"),
    ("bad-judge", "diff_allowlist: {judge: sometimes}\n", "judge"),
    ("baseline-missing", "baseline: none.json\n", "baseline not found"),
    ("unknown-select-code", "select: [KAV999]\n", "unknown finding code"),
    ("bad-network", "policy: {network: maybe}\n", "network"),
]


@pytest.mark.parametrize(
    ("text", "fragment"), [c[1:] for c in CONFIG_ERRORS], ids=[c[0] for c in CONFIG_ERRORS]
)
def test_config_error_exits_2_in_one_line(repo: Path, text: str, fragment: str) -> None:
    (repo / "kavi.yaml").write_text(text)
    result = run_kavi(["check"])
    assert result.exit_code == EXIT_USAGE, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kavi: error: "), result.stderr
    assert fragment in lines[0]


@pytest.mark.parametrize(
    "argv",
    [
        ["--bogus"],
        ["--gate", "nope", "skills/echo.py"],
        ["--format", "xml"],
        ["--config", "missing.yaml"],
    ],
)
def test_precommit_usage_errors_exit_2_in_one_line(
    repo: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert precommit.main(argv) == EXIT_USAGE
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("kavi: error: ")


def test_version_prints_the_version(repo: Path) -> None:
    from kavi_gates import __version__

    for flag in ("--version", "-V"):
        result = run_kavi([flag])
        assert result.exit_code == EXIT_CLEAN and result.stdout == f"kavi {__version__}\n"


def test_bare_kavi_prints_help_and_exits_2(repo: Path) -> None:
    result = run_kavi([])
    assert result.exit_code == EXIT_USAGE and "Usage: kavi" in result.stdout


def test_an_internal_error_is_exit_3_in_one_line(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("kavi_hooks.check_cli.run_gates", crash)
    result = run_kavi(["check"])
    assert result.exit_code == 3
    assert result.stderr == "kavi: internal error: ZeroDivisionError: a bug\n"


# A fresh process where sqlite_utils cannot be imported, as after `pip install kavi`.
WITHOUT_RUNTIME = (
    "import sys\nsys.modules['sqlite_utils'] = None\n"
    "from kavi_hooks.cli import main\nraise SystemExit(main(sys.argv[1:]))\n"
)


@pytest.mark.parametrize("command", ["doctor", "run", "promote", "revoke"])
def test_a_runtime_command_without_the_runtime_extra_names_what_to_install(
    repo: Path, command: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_RUNTIME, command, "x"],
        cwd=repo, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == EXIT_USAGE, done.stderr
    assert done.stderr == (
        f"kavi: error: kavi {command} needs Kavi's runtime dependencies (module "
        "'sqlite_utils' is not installed): pip install 'kavi[runtime]'\n"
    )


def test_check_runs_without_the_runtime_extra(repo: Path) -> None:
    check = subprocess.run(
        [sys.executable, "-c", WITHOUT_RUNTIME, "check", "--gate", "policy"],
        cwd=repo, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert check.returncode == EXIT_CLEAN, check.stdout + check.stderr
