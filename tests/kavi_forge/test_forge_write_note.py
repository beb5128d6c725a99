"""Issue 7, item 6: the first-party ``write_note`` skill rebuilt through the whole pipeline.

A scripted agent writes the repository's own ``skills/write_note.py`` and its test into the
sandbox of a fresh governed repo that holds the helpers they need; build, verify and promote
run for real, and the result is pinned with exactly the first-party bytes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from forge_project import Repo

from kavi_gates.hash_pin import compute_pins

KAVI = Path(__file__).resolve().parents[2]
SUPPORT = ("skills/_vault.py", "tests/skills/conftest.py", "tests/llm_server.py")
# The style the first-party skills are written to (Kavi's own ruff and mypy settings).
PYPROJECT = """\
[tool.ruff]
line-length = 100
target-version = "py311"

[tool.ruff.lint]
select = ["E", "F", "W", "I", "B", "UP", "SIM", "RUF"]
ignore = ["UP042"]

[tool.ruff.lint.isort]
known-first-party = ["kavi_gates", "kavi_hooks", "kavi_ledger", "kavi_plugin", "kavi_skills"]

[tool.ruff.lint.per-file-ignores]
"tests/**" = ["RUF001", "RUF002", "RUF003", "RUF012", "E501"]

[tool.mypy]
strict = true
"""
# The agent ships the files it writes beside itself: its sandbox shows it its own directory,
# never the Kavi checkout or the repository.
WRITTEN = ("skills/write_note.py", "tests/skills/test_write_note.py")
COPY_AGENT = """\
#!/usr/bin/env python3
import pathlib, shutil, sys

source = pathlib.Path(__file__).resolve().parent / "files"
sys.stdin.read()
for rel in ("skills/write_note.py", "tests/skills/test_write_note.py"):
    pathlib.Path(rel).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / rel, rel)
"""


@pytest.mark.slow
def test_write_note_is_rebuilt_verified_and_pinned(repo: Repo, tmp_path: Path) -> None:
    for rel in SUPPORT:
        (repo.root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(KAVI / rel, repo.root / rel)
    (repo.root / "pyproject.toml").write_text(PYPROJECT)
    agent = tmp_path / "copy-agent" / "copy-agent"
    for rel in WRITTEN:
        (agent.parent / "files" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(KAVI / rel, agent.parent / "files" / rel)
    agent.write_text(COPY_AGENT)
    agent.chmod(0o755)
    code, out, err = repo.kavi(
        "propose",
        "--name",
        "write_note",
        "--desc",
        "Write a markdown note into the vault.",
        "--side-effect",
        "FILE_WRITE",
        "--io-schema-json",
        '{"type": "object"}',
    )
    pid = out.strip()
    code, out, err = repo.kavi("build", pid, "--agent", str(agent))
    assert code == 0, err
    code, out, err = repo.kavi("verify", pid)
    assert code == 0, out + err
    code, out, err = repo.kavi("promote", pid, "--yes")
    assert code == 0, err
    code, out, err = repo.kavi("check", "--gate", "hash-pin")
    assert code == 0, out + err
    registry = yaml.safe_load((repo.root / "skills/registry.yaml").read_text())
    assert registry["skills"]["write_note"]["pins"] == compute_pins(
        KAVI / "skills/write_note.py", KAVI
    )
