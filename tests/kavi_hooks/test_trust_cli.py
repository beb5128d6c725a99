"""`kavi reject` and `kavi revoke`: trust taken back on record; and the progress line."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
import yaml
from kavi_cli import run_kavi

from kavi_gates.plugins import get_plugin_manager
from kavi_hooks.progress import GateProgress, progress, wants_progress
from kavi_ledger.paths import resolve_paths

ENTRY = {
    "path": "skills/echo.py",
    "class": "Echo",
    "side_effect_class": "READ_ONLY",
    "pins": {"skills/echo.py": "sha256:" + "0" * 64},
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    root = tmp_path / "project"
    (root / "skills").mkdir(parents=True)
    (root / "kavi.yaml").write_text('include: ["skills/**/*.py"]\n')
    registry = {"version": 1, "skills": {"echo": ENTRY, "other": {**ENTRY, "path": "skills/o.py"}}}
    (root / "skills" / "registry.yaml").write_text(yaml.safe_dump(registry))
    monkeypatch.chdir(root)
    return root


def notes(root: Path) -> str:
    vault = resolve_paths(None, root).vault_dir
    return "\n".join(p.read_text() for p in sorted(vault.rglob("*.md")))


def propose() -> str:
    result = run_kavi(
        ["propose", "--name", "shout", "--desc", "d", "--side-effect", "READ_ONLY",
         "--io-schema-json", '{"type": "object"}']
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_reject_records_the_reason_and_is_final(project: Path) -> None:
    pid = propose()
    result = run_kavi(["reject", pid, "--reason", "duplicates shout_v2", "--by", "a@example.com"])
    assert result.exit_code == 0, result.output
    status = json.loads(run_kavi(["status", "--json"]).stdout)["proposals"][0]
    assert status["status"] == "REJECTED"
    assert "duplicates shout_v2" in notes(project) and "a@example.com" in notes(project)
    again = run_kavi(["reject", pid, "--reason", "twice"])
    assert again.exit_code == 2 and "REJECTED" in again.stderr


def test_revoke_removes_the_skill_from_the_registry_and_records_why(project: Path) -> None:
    result = run_kavi(["revoke", "echo", "--reason", "leaks tokens", "--yes", "--by", "b@x.org"])
    assert result.exit_code == 0, result.output
    registry = yaml.safe_load((project / "skills" / "registry.yaml").read_text())
    assert list(registry["skills"]) == ["other"]
    text = notes(project)
    assert "leaks tokens" in text and "b@x.org" in text and "Revocation echo" in text


def test_revoke_without_a_terminal_refuses_and_changes_nothing(project: Path) -> None:
    before = (project / "skills" / "registry.yaml").read_text()
    result = run_kavi(["revoke", "echo", "--reason", "x"])
    assert result.exit_code == 2 and "pass --yes" in result.stderr
    assert (project / "skills" / "registry.yaml").read_text() == before


def test_progress_draws_after_the_delay_and_erases_itself() -> None:
    stream = io.StringIO()
    observer = GateProgress(total=2, stream=stream, delay=0.0)
    observer.kavi_gate_started(gate="policy", context=None)  # type: ignore[arg-type]
    deadline = time.monotonic() + 60  # its thread draws when it is scheduled: wait for it
    while "kavi: [0/2] policy" not in stream.getvalue():
        assert time.monotonic() < deadline, "the progress line was never drawn"
        time.sleep(0.01)
    observer.close()
    drawn = stream.getvalue()
    assert "kavi: [0/2] policy" in drawn and drawn.endswith("\r\x1b[2K")


def test_a_quick_run_draws_nothing_and_unregisters() -> None:
    pm = get_plugin_manager(load_entrypoints=False)
    stream = io.StringIO()
    before = len(pm.get_plugins())
    with progress(pm, 4, True, stream=stream):
        assert len(pm.get_plugins()) == before + 1
    assert len(pm.get_plugins()) == before and stream.getvalue() == ""
    assert not wants_progress(stream)
