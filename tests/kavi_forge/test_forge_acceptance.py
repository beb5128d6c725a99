"""Issue 7's acceptance scenario, end to end through the CLI in a fresh repository."""

from __future__ import annotations

import json

import pytest
from forge_project import Repo


@pytest.mark.slow
def test_the_acceptance_scenario(repo: Repo) -> None:
    pid = repo.propose()
    code, _, err = repo.kavi("build", pid, "--agent", repo.agent("stray"))
    assert code == 1 and "GATE_VIOLATION" in err and "notes.txt" in err
    assert not (repo.root / "skills/shout.py").exists()
    assert not (repo.root / "notes.txt").exists()

    code, out, err = repo.kavi("build", pid, "--agent", repo.agent("good"))
    assert code == 0, err
    assert "copied: skills/shout.py" in out and "copied: tests/skills/test_shout.py" in out

    code, out, err = repo.kavi("verify", pid)
    assert code == 0, out + err

    source = repo.root / "skills/shout.py"
    original = source.read_bytes()
    source.write_bytes(original + b"# edited after verify\n")
    code, _, err = repo.kavi("promote", pid, "--yes")
    assert code == 1 and "skills/shout.py changed since verification" in err

    source.write_bytes(original)
    code, out, err = repo.kavi("promote", pid, "--yes")
    assert code == 0, err
    assert "by dev@example.com" in out

    code, out, err = repo.kavi("run", "shout", "--json", '{"text": "hi"}')
    assert code == 0, err
    assert json.loads(out) == {"text": "HI!"}
    code, out, err = repo.kavi("check", "--gate", "hash-pin")
    assert code == 0, out + err
