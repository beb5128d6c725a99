"""The runtime's process boundary: runaway, dying and lying children, and the opt-out."""

from __future__ import annotations

import json
import shutil
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from attackers import attacker, class_name, report_of
from typer.testing import CliRunner

from kavi_ledger.db import open_ledger
from kavi_ledger.doctor import check_sandbox
from kavi_sandbox import Limits, SandboxPolicy, python_read_only_paths, run, select_backend
from kavi_skills.capabilities import project_paths
from kavi_skills.errors import TrustError
from kavi_skills.executor import run_skill
from kavi_skills.protocol import FrameTimeout, read_frame
from kavi_skills.records import ExecutionLog

if TYPE_CHECKING:
    from runtime_project import Project

pytest_plugins = ["runtime_project", "attackers"]

BROKER_FD = "int(sys.argv[sys.argv.index('--broker-fd') + 1])"
FRAME = f"""
import json, struct
def send(obj):
    body = json.dumps(obj).encode()
    os.write({BROKER_FD}, struct.pack(">I", len(body)) + body)
"""


def _add(project: Project, name: str, body: str) -> None:
    project.add_skill(name, attacker(name, body), class_name(name))


def _set_config(project: Project, extra: str) -> None:
    path = project.root / "kavi.yaml"
    path.write_text(path.read_text() + extra)


def test_a_skill_that_never_returns_is_killed_at_the_wall_time(project: Project) -> None:
    _set_config(project, "sandbox:\n  timeout: 2\n")
    _add(project, "sleeper", "import time\ntime.sleep(120)\n")
    started = time.monotonic()
    result = run_skill("sleeper", {}, project.config())
    assert time.monotonic() - started < 30
    assert result.record.error == (
        "the skill's process timed out (the sandbox's wall-time limit); its processes were killed"
    )
    assert result.failure == "process" and result.exit_code == 1


def test_a_skill_that_floods_its_output_is_stopped(project: Project) -> None:
    _add(project, "flooder", "while True:\n    print('x' * 65536)\n")
    result = run_skill("flooder", {}, project.config())
    assert result.record.error == (
        f"the skill's process printed more than {1 << 20} bytes; its process was stopped"
    )


def test_a_skill_that_exits_its_process_is_a_failure_record(project: Project) -> None:
    _add(project, "quitter", "os.write(2, b'going away')\nos._exit(3)\n")
    result = run_skill("quitter", {}, project.config())
    assert result.record.error == (
        "the skill's process ended without a result (exit code 3): going away"
    )


def test_a_skill_that_eats_memory_hits_the_limit(project: Project) -> None:
    _set_config(project, "sandbox:\n  memory_mb: 512\n")
    _add(project, "glutton", "blob = bytearray(2 << 30)\n")
    result = run_skill("glutton", {}, project.config())
    assert result.record.error == "MemoryError: "


def test_garbage_on_the_broker_pipe_is_a_protocol_breach(project: Project) -> None:
    body = f"os.write({BROKER_FD}, b'\\x00\\x00\\x00\\x08' + b'\\xff' * 8)\n"
    _add(project, "garbler", body + "import time\ntime.sleep(30)\n")
    result = run_skill("garbler", {}, project.config())
    assert result.record.error is not None
    assert result.record.error.startswith("the skill's process broke the broker protocol")


def test_a_forged_load_failure_is_still_recorded_and_cannot_hide_the_run(
    project: Project,
) -> None:
    body = FRAME + (
        "send({'t': 'done', 'ok': False, 'stage': 'load', 'error': 'nothing to see'})\n"
        "import time\ntime.sleep(30)\n"
    )
    _add(project, "forger", body)
    with pytest.raises(TrustError, match="nothing to see"):
        run_skill("forger", {}, project.config())
    (record,) = ExecutionLog(project.log_path).read().records
    assert record.skill_name == "forger" and record.error == "nothing to see"


def test_the_explicit_opt_out_is_recorded_on_every_record(project: Project) -> None:
    result = run_skill("echo", {"text": "hi"}, project.config(), sandbox=False)
    assert result.record.success and result.record.sandbox == "none"
    _set_config(project, "sandbox:\n  enabled: false\n")
    assert run_skill("echo", {"text": "x"}, project.config()).record.sandbox == "none"
    assert run_skill("echo", {"text": "y"}, project.config(), sandbox=True).record.sandbox == (
        "bubblewrap"
    )
    records = ExecutionLog(project.log_path).read().records
    assert [r.sandbox for r in records] == ["none", "none", "bubblewrap"]
    # ... and in the ledger, which outlives the log: doctor still counts them once it is gone
    paths = project_paths(project.config())
    db = open_ledger(paths.ledger, create=False)
    try:
        rows = list(db.query("SELECT * FROM sandbox_opt_outs ORDER BY created_at"))
    finally:
        db.close()
    assert [(r["execution_id"], r["skill_name"], r["via"]) for r in rows] == [
        (records[0].execution_id, "echo", "cli"),
        (records[1].execution_id, "echo", "cli"),
    ]
    assert rows[0]["reason"] == "--no-sandbox"
    assert rows[1]["reason"].startswith("sandbox.enabled is false in ")
    project.log_path.unlink()
    kavi_yaml = project.root / "kavi.yaml"
    kavi_yaml.write_text(kavi_yaml.read_text().replace("sandbox:\n  enabled: false\n", ""))
    check = check_sandbox(paths, project.config())
    assert check.status == "warn" and check.message.startswith("2 execution(s) ran without")


def test_without_a_sandbox_the_child_still_holds_nothing_of_the_parent(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAVI_ATTACK_SECRET", "parent-only")
    _add(project, "unsandboxed_env", "attempt('env', lambda: sorted(os.environ))\n")
    result = run_skill("unsandboxed_env", {}, project.config(), sandbox=False)
    assert report_of(result.record.output_json) == {
        "env": "OK ['HOME', 'LC_ALL', 'PYDANTIC_DISABLE_PLUGINS']"
    }


def test_the_cli_warns_about_the_opt_out(project: Project) -> None:
    from kavi_hooks.cli import register_subcommands

    result = CliRunner().invoke(
        register_subcommands(), ["run", "echo", "--json", '{"text": "hi"}', "--no-sandbox"]
    )
    assert result.exit_code == 0, result.stderr
    assert "--no-sandbox: the skill runs without OS isolation" in result.stderr
    assert "this execution ran without the OS sandbox" in result.stderr
    assert json.loads(result.stdout) == {"text": "hi"}


def test_where_no_sandbox_can_start_kavi_run_refuses_and_names_the_fix(
    project: Project, tmp_path: Path
) -> None:
    """A real machine without user namespaces: the inside of another sandbox."""
    from kavi_gates import KAVI_PACKAGES

    xdg = tmp_path / "nested-xdg"
    xdg.mkdir()
    ssh_keygen = Path(shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen")  # verifies promotions
    policy = SandboxPolicy(
        read_only=(
            *python_read_only_paths(KAVI_PACKAGES),
            project.root,
            ssh_keygen,
            Path("/etc/passwd"),
            Path("/etc/group"),
        ),
        writable=(xdg,),
        env={
            "LC_ALL": "C.UTF-8",
            "HOME": "/home/sandbox",
            "PATH": f"{ssh_keygen.parent}:/usr/bin:/bin",
            "XDG_DATA_HOME": str(xdg / "data"),
            "XDG_CONFIG_HOME": str(xdg / "config"),
            "XDG_CACHE_HOME": str(xdg / "cache"),
        },
        cwd=project.root,
        limits=Limits(wall_time=120),
    )
    kavi = [sys.executable, "-I", "-m", "kavi_hooks.cli", "run", "echo", "--json", '{"text":"a"}']
    refused = run(kavi, policy, backend=select_backend())
    stderr = refused.stderr.decode()
    assert refused.returncode == 2, stderr
    assert stderr.startswith("kavi: error: cannot run skills in a sandbox: bubblewrap could not")
    assert "sysctl" in stderr and "--no-sandbox" in stderr and "Traceback" not in stderr
    assert not (xdg / "data" / "kavi" / "executions.jsonl").exists()
    opted_out = run([*kavi, "--no-sandbox"], policy, backend=select_backend())
    assert opted_out.returncode == 0, opted_out.stderr
    (record,) = ExecutionLog(xdg / "data" / "kavi" / "executions.jsonl").read().records
    assert record.sandbox == "none" and record.output_json == {"text": "a"}


def test_a_peer_that_stalls_mid_frame_cannot_hold_the_reader() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.setblocking(False)
        theirs.sendall(b"\x00\x00\x00\x10{")  # a 16-byte frame, one byte of it sent
        started = time.monotonic()
        with pytest.raises(FrameTimeout):
            read_frame(ours.fileno(), 1024, deadline=time.monotonic() + 0.3)
        assert time.monotonic() - started < 5


def test_the_broker_fd_is_the_only_descriptor_the_child_inherits(project: Project) -> None:
    body = (
        "attempt('broker', lambda: " + BROKER_FD + ")\n"
        "attempt('fds', lambda: sorted(int(f) for f in os.listdir('/proc/self/fd')))\n"
    )
    _add(project, "fd_lister", body)
    report = report_of(run_skill("fd_lister", {}, project.config()).record.output_json)
    broker = int(report["broker"].removeprefix("OK "))
    fds = json.loads(report["fds"].removeprefix("OK "))
    # stdin, stdout, stderr, the broker pipe, and the one listdir itself opened
    assert fds[:3] == [0, 1, 2] and broker in fds and len(fds) == 5


def test_a_skills_error_cannot_drive_the_users_terminal(project: Project) -> None:
    body = "raise RuntimeError('\\x1b]52;c;cHduZWQ=\\x07 and \\u202egnp.exe')\n"
    _add(project, "escaper", body)
    error = run_skill("escaper", {}, project.config()).record.error
    assert error == "RuntimeError: \\x1b]52;c;cHduZWQ=\\x07 and \\u202egnp.exe"
    from kavi_hooks.cli import register_subcommands

    shown = CliRunner().invoke(register_subcommands(), ["run", "escaper", "--json", "{}"])
    assert shown.exit_code == 1 and "\\x1b]52" in shown.stderr
    assert "\x1b" not in shown.stderr and "\u202e" not in shown.stderr


def test_the_wall_time_counts_from_the_request_not_from_the_early_start(
    project: Project,
) -> None:
    _set_config(project, "sandbox:\n  timeout: 2\n")
    slow_answer = []

    def confirm(question: str) -> bool:  # a user who takes longer than the wall time
        time.sleep(3)
        slow_answer.append(question)
        return True

    result = run_skill("note", {"path": "n.md", "body": "x"}, project.config(), confirm=confirm)
    assert slow_answer and result.record.success, result.record.error
