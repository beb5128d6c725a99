"""The forge commands: help, refusals, ledger records, secrets, escalation and adoption."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from forge_project import Repo, agent_script

from kavi_gates.hash_pin import compute_pins
from kavi_ledger.db import open_ledger
from kavi_ledger.models import ArtifactKind
from kavi_ledger.records import list_artifacts
from kavi_ledger.states import latest_verification, list_builds


def ledger(repo: Repo):  # type: ignore[no-untyped-def]
    return open_ledger(repo.data / "kavi" / "ledger.db")


@pytest.mark.parametrize("command", ["build", "verify", "promote"])
def test_every_forge_command_has_help(repo: Repo, command: str) -> None:
    code, out, _ = repo.kavi(command, "--help")
    assert code == 0 and "Usage" in out


def test_a_missing_agent_is_one_clear_line_and_no_build(repo: Repo) -> None:
    pid = repo.propose()
    code, _, err = repo.kavi("build", pid, "--agent", "no-such-agent-xyz -p")
    assert code == 2
    assert err.startswith("kavi: error: agent command 'no-such-agent-xyz' is not installed")
    assert len(err.strip().splitlines()) == 1
    db = ledger(repo)
    assert list_builds(db, pid) == ()


def test_the_default_agent_is_claude_code_and_its_absence_is_named(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pid = repo.propose()
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    code, _, err = repo.kavi("build", pid)
    assert code == 2 and "agent command 'claude' is not installed" in err


def test_an_unknown_proposal_is_a_usage_error(repo: Repo) -> None:
    code, _, err = repo.kavi("verify", "nope")
    assert code == 2 and "no proposal with id 'nope'" in err


def test_the_agent_never_sees_secrets(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEATHER_ID", "declared-by-the-skill")
    code, out, err = repo.kavi(
        "propose",
        "--name",
        "shout",
        "--desc",
        "d",
        "--side-effect",
        "READ_ONLY",
        "--io-schema-json",
        "{}",
        "--required-secrets",
        '["WEATHER_ID"]',
    )
    code, _, err = repo.kavi("build", out.strip(), "--agent", repo.agent("envdump"))
    assert code == 1 and "BUILD_ERROR" in err
    (log,) = repo.notes(ArtifactKind.BUILD_LOG)
    names = json.loads(log.split("ENV=", 1)[1].splitlines()[0])
    assert "PATH" in names
    assert "GITHUB_TOKEN" not in names and "WEATHER_ID" not in names
    # the allowlist, the sandbox's HOME, and the PWD bubblewrap sets for the working directory
    assert set(names) <= {"PATH", "LANG", "LC_ALL", "TERM", "TZ", "HOME", "PWD"}


def test_a_failed_build_records_its_class_packet_and_log(repo: Repo) -> None:
    pid = repo.propose()
    repo.kavi("build", pid, "--agent", repo.agent("crash"))
    db = ledger(repo)
    (build,) = list_builds(db, pid)
    summary = json.loads(build.summary or "{}")
    assert (build.status.value, summary["kind"], summary["copied"]) == ("FAILED", "BUILD_ERROR", [])
    kinds = {a.kind for a in list_artifacts(db, build.id)}
    assert kinds == {ArtifactKind.BUILD_PACKET, ArtifactKind.BUILD_LOG}


def test_the_packet_names_the_allowed_and_required_files(repo: Repo) -> None:
    pid = repo.propose()
    repo.kavi("build", pid, "--agent", repo.agent("crash"))
    db = ledger(repo)
    packet = next(a for a in list_artifacts(db) if a.kind is ArtifactKind.BUILD_PACKET)
    text = (repo.data / "kavi" / "vault" / packet.path).read_text()
    assert "- `skills/shout.py`" in text and "- `tests/skills/test_shout.py`" in text
    assert "forbidden imports: subprocess, pty, paramiko" in text


def test_keep_sandbox_keeps_it(repo: Repo) -> None:
    pid = repo.propose()
    _, _, err = repo.kavi("build", pid, "--agent", repo.agent("crash"), "--keep-sandbox")
    kept = Path(err.split("sandbox kept: ")[1].split()[0])
    try:
        assert (kept / "repo" / "kavi.yaml").is_file()
    finally:
        shutil.rmtree(kept)


@pytest.mark.slow
def test_a_retry_after_a_security_failure_needs_yes(repo: Repo) -> None:
    pid = repo.propose()
    repo.kavi("build", pid, "--agent", repo.agent("policy"))
    code, _, err = repo.kavi("build", pid, "--agent", repo.agent("fixed", "VERIFY_POLICY"))
    assert code == 1 and "SECURITY_CLASS" in err and "--yes" in err
    assert len(list_builds(ledger(repo), pid)) == 1


@pytest.mark.slow
def test_verify_records_a_row_per_check_with_the_hashes_verified(repo: Repo) -> None:
    pid = repo.propose()
    repo.kavi("build", pid, "--agent", repo.agent("good"))
    code, _, err = repo.kavi("verify", pid)
    assert code == 0, err
    run = latest_verification(ledger(repo), pid)
    assert run is not None
    assert [r.gate for r in run.results] == [
        "sandbox",
        "spec",
        "policy",
        "invariants",
        "hash-pin",
        "ruff",
        "mypy",
        "pytest",
    ]
    assert run.content_hashes == compute_pins(repo.root / "skills/shout.py", repo.root)


@pytest.mark.slow
def test_promote_refuses_a_build_that_was_never_verified(repo: Repo) -> None:
    pid = repo.propose()
    repo.kavi("build", pid, "--agent", repo.agent("good"))
    code, _, err = repo.kavi("promote", pid, "--yes")
    assert code == 1 and "never verified" in err
    assert yaml.safe_load((repo.root / "skills/registry.yaml").read_text())["skills"] == {}


def hand_write(repo: Repo, tmp_path: Path, mode: str) -> None:
    """Write the scripted agent's skill straight into the repository (no forge build)."""
    elsewhere = tmp_path / "hand"
    elsewhere.mkdir()
    subprocess.run(
        [sys.executable, str(agent_script(tmp_path)), mode],
        cwd=elsewhere,
        input="",
        text=True,
        check=True,
    )
    for rel in ("skills/shout.py", "tests/skills/test_shout.py"):
        (repo.root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(elsewhere / rel, repo.root / rel)


@pytest.mark.slow
def test_promote_path_adopts_a_hand_written_skill(repo: Repo, tmp_path: Path) -> None:
    hand_write(repo, tmp_path, "good")
    # The approver signs as a@example.com, so the allowed signers must list the key for them.
    code, _, err = repo.kavi("keygen", "--add", "--by", "a@example.com")
    assert code == 0, err
    code, out, err = repo.kavi("promote", "skills/shout.py", "--yes", "--by", "a@example.com")
    assert code == 0, err
    entry = yaml.safe_load((repo.root / "skills/registry.yaml").read_text())["skills"]["shout"]
    assert entry["promoted_by"] == "a@example.com" and entry["class"] == "ShoutSkill"
    code, out, err = repo.kavi("check", "--gate", "hash-pin")
    assert code == 0, out + err


@pytest.mark.slow
def test_promote_path_refuses_a_skill_that_fails_verification(repo: Repo, tmp_path: Path) -> None:
    hand_write(repo, tmp_path, "policy")
    code, _, err = repo.kavi("promote", "skills/shout.py", "--yes")
    assert code == 1 and "failed verification (policy" in err
    assert yaml.safe_load((repo.root / "skills/registry.yaml").read_text())["skills"] == {}


@pytest.mark.slow
def test_a_failed_verify_writes_research_that_the_next_build_reads(repo: Repo) -> None:
    pid = repo.propose()
    repo.kavi("build", pid, "--agent", repo.agent("good"))
    test = repo.root / "tests/skills/test_shout.py"
    test.write_text(test.read_text().replace('"HI!"', '"hi"'))
    code, out, err = repo.kavi("verify", pid)
    assert code == 1 and "pytest           fail" in out
    research = repo.research()
    assert (research["stage"], research["kind"]) == ("verify", "VERIFY_TEST")
    code, _, err = repo.kavi("build", pid, "--agent", repo.agent("fixed", "VERIFY_TEST"))
    assert code == 0, err
    code, out, err = repo.kavi("verify", pid)
    assert code == 0, out + err


@pytest.mark.slow
def test_a_test_that_rewrites_the_skill_fails_the_build(repo: Repo) -> None:
    pid = repo.propose()
    code, _, err = repo.kavi("build", pid, "--agent", repo.agent("sneaky"))
    assert code == 1 and "files changed while they were checked" in err
    assert not (repo.root / "skills/shout.py").exists()
