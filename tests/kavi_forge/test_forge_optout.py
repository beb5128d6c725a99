"""Running unconfined only on request, recorded everywhere; refusing where no sandbox starts;
and the agent's suppressions: a finding when it adds one, listed at every promotion."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import yaml
from attacks import CLEAN_TEST, agent_command, write_agent
from forge_project import Repo

from kavi_forge import Forge, promote_path
from kavi_forge.promote import describe
from kavi_gates import KAVI_PACKAGES
from kavi_gates.config import load_config
from kavi_ledger.db import open_ledger
from kavi_ledger.models import ArtifactKind
from kavi_ledger.paths import resolve_paths
from kavi_ledger.states import latest_verification, list_builds
from kavi_sandbox import Limits, SandboxPolicy, python_read_only_paths, run, select_backend

SUPPRESSED_SKILL = """from __future__ import annotations

import socket  # kavi: allow[KAV301] the greeting names this host

from kavi_skills import BaseSkill
from pydantic import BaseModel


class ShoutIn(BaseModel):
    text: str


class ShoutOut(BaseModel):
    text: str


class ShoutSkill(BaseSkill):
    name = "shout"
    description = "Upper-case the text and add an exclamation mark."
    side_effect_class = "NETWORK"
    input_model = ShoutIn
    output_model = ShoutOut

    def execute(self, data: ShoutIn) -> ShoutOut:
        return ShoutOut(text=data.text.upper() + "!" + socket.gethostname()[:0])
"""


def writer(repo: Repo, tmp_path: Path, skill: str) -> str:
    """An agent command that writes ``skill`` and the clean test, nothing else."""
    return agent_command(write_agent(tmp_path / "writer"), "write", {}, (skill, CLEAN_TEST))


def summary(repo: Repo, pid: str) -> dict[str, object]:
    db = open_ledger(repo.data / "kavi" / "ledger.db")
    try:
        data: dict[str, object] = json.loads(list_builds(db, pid)[-1].summary or "{}")
    finally:
        db.close()
    return data


@pytest.mark.slow
def test_no_sandbox_is_recorded_in_the_build_the_verification_the_notes_and_shown(
    repo: Repo, tmp_path: Path
) -> None:
    from attacks import CLEAN_SKILL

    pid = repo.propose()
    command = writer(repo, tmp_path, CLEAN_SKILL)
    code, _, err = repo.kavi("build", pid, "--agent", command, "--no-sandbox")
    assert code == 0, err
    assert "kavi: warning: sandbox: none, opted out by --no-sandbox" in err
    assert summary(repo, pid)["sandbox"] == {
        "backend": "none",
        "sandboxed": False,
        "opted_out_by": "--no-sandbox",
    }
    (log,) = repo.notes(ArtifactKind.BUILD_LOG)
    assert "sandbox: none, opted out by --no-sandbox" in log

    code, out, err = repo.kavi("verify", pid, "--no-sandbox")
    assert code == 0, out + err
    assert "opted out by --no-sandbox" in err and "sandbox          skip" in out
    db = open_ledger(repo.data / "kavi" / "ledger.db")
    run_ = latest_verification(db, pid)
    db.close()
    assert run_ is not None and run_.passed
    row = run_.results[0]
    assert (row.gate, row.status.value) == ("sandbox", "skip")
    assert "opted out by --no-sandbox" in json.loads(row.findings_json)[0]["message"]
    (report,) = repo.notes(ArtifactKind.VERIFICATION_REPORT)
    assert "`sandbox`: **skip**" in report

    code, out, err = repo.kavi("promote", pid, "--yes")
    assert code == 0, err
    assert "WITHOUT a sandbox" in err
    (promotion,) = repo.notes(ArtifactKind.PROMOTION)
    assert "checked WITHOUT a sandbox (opted out)" in promotion


@pytest.mark.slow
def test_the_config_switch_is_an_opt_out_recorded_as_such(repo: Repo, tmp_path: Path) -> None:
    config = repo.root / "kavi.yaml"
    data = yaml.safe_load(config.read_text())
    data["sandbox"] = {"enabled": False}
    config.write_text(yaml.safe_dump(data))
    pid = repo.propose()
    code, _, err = repo.kavi("build", pid, "--agent", repo.agent("crash"))
    assert code == 1
    assert "opted out by sandbox.enabled: false" in err
    assert summary(repo, pid)["sandbox"] == {
        "backend": "none",
        "sandboxed": False,
        "opted_out_by": "sandbox.enabled: false",
    }


def test_a_sandboxed_build_records_bubblewrap(repo: Repo) -> None:
    pid = repo.propose()
    code, _, err = repo.kavi("build", pid, "--agent", repo.agent("crash"))
    assert code == 1 and "warning" not in err
    assert summary(repo, pid)["sandbox"] == {
        "backend": "bubblewrap",
        "sandboxed": True,
        "opted_out_by": None,
    }


@pytest.mark.parametrize("command", ["build", "verify", "promote"])
def test_where_no_sandbox_can_start_untrusted_work_is_refused_with_the_fix(
    repo: Repo, tmp_path: Path, command: str
) -> None:
    """A real machine without user namespaces: the inside of a sandbox (none nest)."""
    pid = repo.propose()
    (repo.root / "skills" / "shout.py").write_text("x = 1\n")
    target = "skills/shout.py" if command == "promote" else pid
    args = [command, target, *(["--agent", repo.agent("good")] if command == "build" else [])]
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(repo.data),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
        "LC_ALL": "C.UTF-8",
    }
    policy = SandboxPolicy(
        read_only=(*python_read_only_paths(KAVI_PACKAGES), Path("/bin"), Path("/etc/passwd")),
        writable=(tmp_path,),
        env=env,
        cwd=repo.root,
        limits=Limits(wall_time=120),
    )
    code = "import sys\nfrom kavi_hooks.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    done = run([sys.executable, "-c", code, *args], policy, backend=select_backend())
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert "kavi: error: no sandbox can start, so nothing untrusted runs" in err
    assert "sysctl" in err and "--no-sandbox" in err
    assert len(err.strip().splitlines()) == 1
    db = open_ledger(repo.data / "kavi" / "ledger.db")
    try:
        assert list_builds(db, pid) == () and latest_verification(db, pid) is None
    finally:
        db.close()


@pytest.mark.slow
def test_a_suppression_the_agent_adds_fails_the_build(repo: Repo, tmp_path: Path) -> None:
    pid = repo.propose(side="NETWORK")
    code, _, err = repo.kavi("build", pid, "--agent", writer(repo, tmp_path, SUPPRESSED_SKILL))
    assert code == 1 and "(VERIFY_POLICY)" in err
    assert "agent-suppressions KAV901 skills/shout.py" in err
    assert not (repo.root / "skills" / "shout.py").exists()
    assert summary(repo, pid)["checks"]["pytest"] == "skip"  # type: ignore[index]
    research = repo.research()
    assert "SECURITY_CLASS" in research["triggers"]  # type: ignore[operator]
    assert any("KAV901" in fact for fact in research["facts"])  # type: ignore[union-attr]


@pytest.mark.slow
def test_a_humans_suppression_is_promoted_and_shown_to_the_approver(repo: Repo) -> None:
    """``kavi promote PATH`` of a hand-written skill: not agent-made, so no KAV901; the
    prompt, the output and the PROMOTION note list the suppression."""
    (repo.root / "skills" / "shout.py").write_text(SUPPRESSED_SKILL)
    test = repo.root / "tests" / "skills" / "test_shout.py"
    test.parent.mkdir(parents=True, exist_ok=True)
    test.write_text(CLEAN_TEST)
    questions: list[str] = []
    loaded = load_config()
    paths = resolve_paths(loaded.config.storage, loaded.root)
    db = open_ledger(paths.ledger)
    try:
        forge = Forge(loaded=loaded, paths=paths, db=db)
        promoted = promote_path(
            forge, Path("skills/shout.py"), confirm=lambda q: questions.append(q) or True
        )
    finally:
        db.close()
    (question,) = questions
    line = "skills/shout.py:3 allow[KAV301] the greeting names this host"
    assert "suppressions in the pinned code (1)" in question and line in question
    assert [describe(s) for s in promoted.suppressions] == [line]
    (promotion,) = repo.notes(ArtifactKind.PROMOTION)
    assert f"- `{line}`" in promotion.split("## Suppressions in the pinned code")[1]
    entry = yaml.safe_load((repo.root / "skills/registry.yaml").read_text())["skills"]["shout"]
    assert entry["side_effect_class"] == "NETWORK"


@pytest.mark.slow
def test_the_promote_command_prints_the_suppressions_it_pins(repo: Repo) -> None:
    (repo.root / "skills" / "shout.py").write_text(SUPPRESSED_SKILL)
    (repo.root / "tests" / "skills").mkdir(parents=True, exist_ok=True)
    (repo.root / "tests" / "skills" / "test_shout.py").write_text(CLEAN_TEST)
    code, out, err = repo.kavi("promote", "skills/shout.py", "--yes")
    assert code == 0, err
    assert "suppression skills/shout.py:3 allow[KAV301] the greeting names this host" in out


def test_an_unreadable_secrets_file_refuses_the_build_before_anything_runs(
    repo: Repo, tmp_path: Path
) -> None:
    """Its values could not be kept out of the notes, so nothing is recorded at all."""
    secrets_file = tmp_path / "xdg-config" / "kavi" / "secrets.env"
    secrets_file.parent.mkdir(parents=True, exist_ok=True)
    secrets_file.write_text("WEATHER_ID=value\n")
    secrets_file.chmod(0o644)
    pid = repo.propose()
    code, _, err = repo.kavi("build", pid, "--agent", repo.agent("good"))
    assert code == 2 and "chmod 600" in err
    db = open_ledger(repo.data / "kavi" / "ledger.db")
    try:
        assert list_builds(db, pid) == ()
    finally:
        db.close()


def test_kav901_is_documented_like_every_other_code(repo: Repo) -> None:
    code, out, _ = repo.kavi("rules", "KAV901")
    assert code == 0
    assert "the coding agent added a suppression" in out and "How to fix" in out
