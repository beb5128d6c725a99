"""A fresh governed git repository for forge tests, a scripted agent, and a CLI driver."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from kavi_hooks.cli import main
from kavi_ledger.artifacts import verify_artifact
from kavi_ledger.db import open_ledger
from kavi_ledger.models import ArtifactKind
from kavi_ledger.records import list_artifacts

SHOUT_SCHEMA = json.dumps({"type": "object", "properties": {"text": {"type": "string"}}})

# The scripted agent, an executable script like a real agent's entry point (it runs in the
# agent's sandbox, which binds its directory): argv[1] says which flaw to write; "fixed KIND"
# first proves the packet carries the research note of the KIND failure, then writes the
# clean skill.
AGENT = r'''#!/usr/bin/env python3
import pathlib, sys, time

mode = sys.argv[1]
packet = sys.stdin.read()
if mode == "envdump":
    import json, os
    print("ENV=" + json.dumps(dict(os.environ), sort_keys=True))
    sys.exit(3)
if mode == "fixed" and ("Previous failure analysis" not in packet or sys.argv[2] not in packet):
    sys.exit(4)
if mode == "timeout":
    time.sleep(60)
if mode == "crash":
    sys.exit(3)
imports = "from kavi_skills import BaseSkill\nfrom pydantic import BaseModel\n"
body = 'return ShoutOut(text=data.text.upper() + "!")'
models = "    input_model = ShoutIn\n    output_model = ShoutOut\n"
expected = "HI!"
if mode == "lint":
    imports = "import os\n\n" + imports
if mode == "policy":
    imports = "import subprocess\n\n" + imports
    body = 'subprocess.run(["true"], check=False)\n        ' + body
if mode == "invariant":
    models = "    output_model = ShoutOut\n"
if mode == "test":
    expected = "hi"
skill = f"""from __future__ import annotations

{imports}

class ShoutIn(BaseModel):
    text: str


class ShoutOut(BaseModel):
    text: str


class ShoutSkill(BaseSkill):
    name = "shout"
    description = "Upper-case the text and add an exclamation mark."
    side_effect_class = "READ_ONLY"
{models}
    def execute(self, data: ShoutIn) -> ShoutOut:
        {body}
"""
test = f"""from __future__ import annotations

{"from pathlib import Path" + chr(10) + chr(10) if mode == "sneaky" else ""}from skills.shout import ShoutIn, ShoutSkill


def test_shout_upper_cases_and_exclaims() -> None:
    skill = ShoutSkill.__new__(ShoutSkill)
    assert skill.execute(ShoutIn(text="hi")).text == "{expected}"
"""
if mode == "sneaky":  # a test that rewrites the skill after the other checks read it
    test += """

def test_rewrites_the_skill() -> None:
    skill = Path("skills/shout.py")
    skill.write_text(skill.read_text() + "# changed while checked" + chr(10))
"""
pathlib.Path("skills").mkdir(exist_ok=True)
pathlib.Path("tests/skills").mkdir(parents=True, exist_ok=True)
pathlib.Path("skills/shout.py").write_text(skill)
pathlib.Path("tests/skills/test_shout.py").write_text(test)
if mode in ("stray", "gate"):
    pathlib.Path("notes.txt").write_text("not allowed\n")
'''


@dataclass
class Repo:
    """A governed repository with private XDG dirs; ``kavi`` runs the CLI in-process."""

    root: Path
    data: Path
    capsys: pytest.CaptureFixture[str]

    def kavi(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(list(args))
        out, err = self.capsys.readouterr()
        return code, out, err

    def propose(self, name: str = "shout", side: str = "READ_ONLY") -> str:
        code, out, err = self.kavi(
            "propose",
            "--name",
            name,
            "--desc",
            "Shout the text",
            "--side-effect",
            side,
            "--io-schema-json",
            SHOUT_SCHEMA,
        )
        assert code == 0, err
        return out.strip()

    def agent(self, *args: str) -> str:
        return " ".join([str(agent_script(self.root.parent)), *args])

    def notes(self, kind: ArtifactKind | None = None) -> list[str]:
        """The text of every vault note (of one kind), checked against the ledger."""
        db = open_ledger(self.data / "kavi" / "ledger.db")
        try:
            found = [a for a in list_artifacts(db) if kind is None or a.kind is kind]
        finally:
            db.close()
        vault = self.data / "kavi" / "vault"
        assert all(verify_artifact(vault, a) for a in found)
        return [(vault / a.path).read_text() for a in found]

    def research(self) -> dict[str, object]:
        """The data block of the latest RESEARCH_NOTE (its bytes checked against the ledger)."""
        db = open_ledger(self.data / "kavi" / "ledger.db")
        try:
            notes = [a for a in list_artifacts(db) if a.kind is ArtifactKind.RESEARCH_NOTE]
        finally:
            db.close()
        vault = self.data / "kavi" / "vault"
        assert notes and verify_artifact(vault, notes[-1])
        text = (vault / notes[-1].path).read_text()
        data: dict[str, object] = json.loads(text.split("```json\n")[-1].split("\n```")[0])
        return data


def agent_script(tmp_path: Path) -> Path:
    """Where ``make_repo`` puts the scripted agent (outside the repository)."""
    return tmp_path / "agent-bin" / "kavi-test-agent"


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return done.stdout


def make_repo(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    mypy_cache: Path,
) -> Repo:
    """``git init`` + ``kavi init`` + ``kavi keygen --add`` in tmp_path/repo, XDG dirs private,
    the agent script beside."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "dev")
    script = agent_script(tmp_path)
    script.parent.mkdir()
    script.write_text(AGENT)
    script.chmod(0o755)
    # The agent's PATH (forge.agent_env passes it): this interpreter first, as an activated
    # virtual environment would have it, then the system.
    monkeypatch.setenv(
        "PATH", os.pathsep.join((str(Path(sys.executable).parent), "/usr/bin", "/bin"))
    )
    data = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(mypy_cache))  # shared: mypy's cache stays warm
    monkeypatch.setenv("KAVI_LLM_BASE_URL", "http://127.0.0.1:9/v1")  # advice: fallback path
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_must_not_leak")
    monkeypatch.chdir(root)
    repo = Repo(root, data, capsys)
    # The forge tests build Kavi's own skills (pathlib.Path in _vault.py) and one that imports
    # socket under a suppression of the network code: the deny categories, as the config of
    # a project with existing skills (a new project's import allowlist would flag both).
    code, _, err = repo.kavi("init", str(root), "--imports", "deny")
    assert code == 0, err
    # The approver's signing key (under the private XDG config dir), listed as allowed.
    code, _, err = repo.kavi("keygen", "--add")
    assert code == 0, err
    return repo
