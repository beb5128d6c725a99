"""``kavi promote`` signs; a fresh clone with no ledger verifies and runs; refusals write nothing."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from attest_keys import make_key
from forge_project import Repo, agent_script, git

from kavi_forge import Forge, ForgeError, promote_path
from kavi_gates.config import load_config
from kavi_gates.dsse import parse_envelope
from kavi_gates.sshsig import sig_info
from kavi_ledger.db import open_ledger
from kavi_ledger.paths import resolve_paths
from kavi_ledger.states import list_proposals

KAVI = [sys.executable, "-m", "kavi_hooks.cli"]

FETCH = '''from __future__ import annotations

from typing import Any

from kavi_skills import BaseSkill
from pydantic import BaseModel


class FetchIn(BaseModel):
    url: str


class FetchOut(BaseModel):
    data: Any


class FetchSkill(BaseSkill):
    """GET JSON from one declared host."""

    name = "fetch"
    description = "GET JSON from the status host."
    side_effect_class = "NETWORK"
    input_model = FetchIn
    output_model = FetchOut
    allowed_hosts = ("status.example.com", "127.0.0.1:8080")

    def execute(self, data: FetchIn) -> FetchOut:
        """Fetch through the guarded client."""
        assert self.context.http is not None
        scale = eval("2")  # kavi: allow[KAV401] a literal, kept to show suppressions are signed
        return FetchOut(data={"scale": scale, "body": self.context.http.get_json(data.url)})
'''

FETCH_TEST = """from __future__ import annotations

from skills.fetch import FetchSkill


def test_fetch_declares_its_hosts() -> None:
    assert FetchSkill.allowed_hosts == ("status.example.com", "127.0.0.1:8080")
"""


def write_shout(repo: Repo, tmp_path: Path) -> None:
    """The scripted agent's clean shout skill and its test, written by hand."""
    elsewhere = tmp_path / "hand"
    elsewhere.mkdir()
    agent = agent_script(tmp_path)
    subprocess.run(
        [sys.executable, str(agent), "good"], cwd=elsewhere, input="", text=True, check=True
    )
    for rel in ("skills/shout.py", "tests/skills/test_shout.py"):
        (repo.root / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo.root / rel).write_bytes((elsewhere / rel).read_bytes())


def fresh_env(tmp_path: Path, name: str) -> dict[str, str]:
    """Another machine: its own XDG dirs (no ledger, no key), no Kavi state at all."""
    env = dict(os.environ)
    for var, sub in (
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        env[var] = str(tmp_path / name / sub)
    return env


def kavi_process(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KAVI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def registry(repo: Repo) -> dict[str, dict[str, object]]:
    data = yaml.safe_load((repo.root / "skills/registry.yaml").read_text())
    skills: dict[str, dict[str, object]] = data["skills"]
    return skills


@pytest.mark.slow
def test_promote_with_git_ssh_signing_then_a_fresh_clone_checks_and_runs(
    repo: Repo, tmp_path: Path
) -> None:
    # The approver signs the way git signs commits (gpg.format=ssh, user.signingkey).
    key = make_key(tmp_path / "dev-keys", "id_ed25519", "dev@example.com")
    git(repo.root, "config", "gpg.format", "ssh")
    git(repo.root, "config", "user.signingkey", str(key.path))
    (repo.root / ".kavi/allowed_signers").write_text(key.allowed_line() + "\n")
    write_shout(repo, tmp_path)
    code, out, err = repo.kavi("promote", "skills/shout.py", "--yes")
    assert code == 0, err
    assert "attestation skills/attestations/shout.intoto.json" in out
    entry = registry(repo)["shout"]
    assert entry["attestation"] == "skills/attestations/shout.intoto.json"
    envelope = parse_envelope((repo.root / str(entry["attestation"])).read_bytes())
    signer = sig_info(base64.b64decode(envelope.signatures[0].sig)).fingerprint
    assert envelope.signatures[0].keyid == signer
    fingerprint = subprocess.run(
        ["ssh-keygen", "-lf", str(key.path) + ".pub"], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    assert signer == fingerprint
    statement = json.loads(envelope.payload_bytes())
    assert {c["check"] for c in statement["predicate"]["verification"]["results"]} >= {
        "policy",
        "hash-pin",
        "ruff",
        "mypy",
        "pytest",
    }
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "promote shout")

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo.root), str(clone)], check=True)
    env = fresh_env(tmp_path, "elsewhere")
    checked = kavi_process(clone, env, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    ran = kavi_process(clone, env, "run", "shout", "--json", '{"text": "hi"}')
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {"text": "HI!"}
    listed = kavi_process(clone, env, "skills")
    assert listed.returncode == 0 and " ok" in listed.stdout

    # The same clone, registry hand-edited the way issue 11 describes: refused everywhere.
    skill = clone / "skills/shout.py"
    skill.write_text(skill.read_text() + "\nOPEN = True\n")
    data = yaml.safe_load((clone / "skills/registry.yaml").read_text())
    digest = subprocess.run(["sha256sum", str(skill)], capture_output=True, text=True, check=True)
    data["skills"]["shout"]["pins"]["skills/shout.py"] = "sha256:" + digest.stdout.split()[0]
    (clone / "skills/registry.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    refused = kavi_process(clone, env, "check", "--gate", "hash-pin")
    assert refused.returncode == 1 and "KAV814" in refused.stdout
    refused = kavi_process(clone, env, "run", "shout", "--json", '{"text": "hi"}')
    assert refused.returncode == 1 and refused.stdout == ""
    assert "differs from its attestation" in refused.stderr


@pytest.mark.slow
def test_promotion_without_a_usable_key_is_refused_and_writes_nothing(
    repo: Repo, tmp_path: Path
) -> None:
    write_shout(repo, tmp_path)
    default_key = tmp_path / "xdg-config" / "kavi" / "signing_key"
    default_key.rename(tmp_path / "moved_key")  # no key anywhere now
    before = (repo.root / "skills/registry.yaml").read_text()
    code, _, err = repo.kavi("promote", "skills/shout.py", "--yes")
    assert code == 1 and "no signing key for the promotion" in err and "kavi keygen" in err
    assert (repo.root / "skills/registry.yaml").read_text() == before
    assert not (repo.root / "skills/attestations").exists()

    db = open_ledger(repo.data / "kavi" / "ledger.db")
    try:
        (proposal,) = list_proposals(db)
    finally:
        db.close()
    assert proposal.status.value == "VERIFIED"  # verified, never promoted

    stranger = make_key(tmp_path / "stranger", "key", "dev@example.com")
    code, _, err = repo.kavi("promote", proposal.id, "--yes", "--key", str(stranger.path))
    assert code == 1 and "would not verify" in err and "not an allowed signer" in err
    assert (repo.root / "skills/registry.yaml").read_text() == before
    assert not (repo.root / "skills/attestations").exists()

    (tmp_path / "moved_key").rename(default_key)
    code, out, err = repo.kavi("promote", proposal.id, "--yes")
    assert code == 0, err
    assert registry(repo)["shout"]["attestation"] == "skills/attestations/shout.intoto.json"
    code, out, err = repo.kavi("check", "--gate", "hash-pin")
    assert code == 0, out + err


@pytest.mark.slow
def test_the_prompt_shows_hosts_and_suppressions_and_both_are_signed(repo: Repo) -> None:
    (repo.root / "skills").mkdir(exist_ok=True)
    (repo.root / "skills/fetch.py").write_text(FETCH)
    (repo.root / "tests/skills").mkdir(parents=True, exist_ok=True)
    (repo.root / "tests/skills/test_fetch.py").write_text(FETCH_TEST)
    loaded = load_config()
    paths = resolve_paths(loaded.config.storage, loaded.root)
    questions: list[str] = []

    def decline(question: str) -> bool:
        questions.append(question)
        return False

    def accept(question: str) -> bool:
        questions.append(question)
        return True

    db = open_ledger(paths.ledger)
    try:
        forge = Forge(loaded=loaded, paths=paths, db=db)
        with pytest.raises(ForgeError, match="not confirmed; nothing was changed"):
            promote_path(forge, Path("skills/fetch.py"), confirm=decline)
        assert registry(repo) == {} and not (repo.root / "skills/attestations").exists()
        promoted = promote_path(forge, Path("skills/fetch.py"), confirm=accept)
    finally:
        db.close()
    assert questions[0] == questions[1]
    question = questions[-1]
    line = next(i for i, text in enumerate(FETCH.splitlines(), 1) if "kavi: allow" in text)
    assert "network hosts: status.example.com, 127.0.0.1:8080" in question
    assert "suppressions in the pinned code (1):" in question
    assert (
        f"skills/fetch.py:{line} allow[KAV401] a literal, kept to show suppressions are signed"
        in question
    )
    assert promoted.entry.allowed_hosts == ("status.example.com", "127.0.0.1:8080")
    assert registry(repo)["fetch"]["allowed_hosts"] == ["status.example.com", "127.0.0.1:8080"]
    envelope = parse_envelope((repo.root / "skills/attestations/fetch.intoto.json").read_bytes())
    predicate = json.loads(envelope.payload_bytes())["predicate"]
    assert predicate["allowedHosts"] == ["status.example.com", "127.0.0.1:8080"]
    assert predicate["suppressions"] == [
        {
            "path": "skills/fetch.py",
            "line": line,
            "rules": ["KAV401"],
            "reason": "a literal, kept to show suppressions are signed",
        }
    ]


def test_keygen_makes_a_private_key_outside_the_project_and_lists_it_once(
    repo: Repo, tmp_path: Path
) -> None:
    key = tmp_path / "xdg-config" / "kavi" / "signing_key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert not any(p.name == "signing_key" for p in repo.root.rglob("*"))
    code, out, err = repo.kavi("keygen", "--add")
    assert code == 0 and "existing key" in err
    signers = (repo.root / ".kavi/allowed_signers").read_text().splitlines()
    lines = [line for line in signers if line and not line.startswith("#")]
    assert lines == [out.strip()]
    assert out.startswith('dev@example.com namespaces="kavi-promotion" ssh-ed25519 AAAA')


def test_keygen_refuses_to_overwrite_a_key_given_by_path(repo: Repo, tmp_path: Path) -> None:
    target = tmp_path / "mine"
    target.write_text("not a key, but mine\n")
    (tmp_path / "mine.pub").write_text("ssh-ed25519 AAAAC3Nz mine\n")
    code, out, _ = repo.kavi("keygen", "--key", str(target))
    assert code == 0 and target.read_text() == "not a key, but mine\n"
    assert out.strip() == 'dev@example.com namespaces="kavi-promotion" ssh-ed25519 AAAAC3Nz'
