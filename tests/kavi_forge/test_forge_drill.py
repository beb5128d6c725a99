"""The failure drill: for each failure class, propose → build₁ (flawed) → verify fails →
research note → build₂ (fixed, having read the note) → verify → promote → run.

Everything is real: the scripted agent, the sandbox, the gates, ruff, mypy and pytest. Only
UNKNOWN substitutes a tool runner (a tool that cannot start), since no real check produces it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from forge_project import Repo

from kavi_forge import Forge, SubprocessToolRunner, ToolOutcome, build_proposal
from kavi_gates.config import load_config
from kavi_ledger.db import open_ledger
from kavi_ledger.paths import resolve_paths

# flaw mode, extra build₁ options, expected class, whether the retry needs --yes
DRILLS = {
    "GATE_VIOLATION": ("gate", (), False),
    "TIMEOUT": ("timeout", ("--timeout", "2"), False),
    "BUILD_ERROR": ("crash", (), False),
    "VERIFY_LINT": ("lint", (), False),
    "VERIFY_TEST": ("test", (), False),
    "VERIFY_POLICY": ("policy", (), True),
    "VERIFY_INVARIANT": ("invariant", (), True),
}


def finish_arc(repo: Repo, pid: str, kind: str, needs_yes: bool) -> None:
    """verify fails (nothing landed) → build₂ reads the note → verify → promote → run."""
    code, _, err = repo.kavi("verify", pid)
    assert code == 1 and "build it first" in err
    yes = ("--yes",) if needs_yes else ()
    code, out, err = repo.kavi("build", pid, "--agent", repo.agent("fixed", kind), *yes)
    assert code == 0, err
    code, out, err = repo.kavi("verify", pid)
    assert code == 0, out + err
    code, _, err = repo.kavi("promote", pid, "--yes")
    assert code == 0, err
    code, out, err = repo.kavi("run", "shout", "--json", '{"text": "drill"}')
    assert code == 0, err
    assert json.loads(out) == {"text": "DRILL!"}


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(DRILLS))
def test_drill(repo: Repo, kind: str) -> None:
    mode, options, needs_yes = DRILLS[kind]
    pid = repo.propose()
    code, _, err = repo.kavi("build", pid, "--agent", repo.agent(mode), *options)
    assert code == 1, err
    assert f"({kind})" in err
    assert not (repo.root / "skills/shout.py").exists()
    research = repo.research()
    assert research["kind"] == kind
    assert research["facts"]
    assert ("SECURITY_CLASS" in research["triggers"]) is needs_yes  # type: ignore[operator]
    finish_arc(repo, pid, kind, needs_yes)


class CannotStart:
    """A tool runner whose pytest cannot start once, then the real tools."""

    def __init__(self, cache: Path) -> None:
        self.real = SubprocessToolRunner(cache)
        self.failed = False

    def run(
        self, tool: str, files: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float
    ) -> ToolOutcome:
        if tool == "pytest" and not self.failed:
            self.failed = True
            return ToolOutcome(None, "pytest could not start: [Errno 2] No such file")
        return self.real.run(tool, files, cwd, env, timeout)


@pytest.mark.slow
def test_drill_unknown(repo: Repo) -> None:
    pid = repo.propose()
    loaded = load_config()
    paths = resolve_paths(loaded.config.storage, loaded.root)
    db = open_ledger(paths.ledger)
    try:
        forge = Forge(
            loaded=loaded, paths=paths, db=db, tools=CannotStart(paths.cache_dir / "mypy")
        )
        outcome = build_proposal(forge, pid, agent=repo.agent("good"))
    finally:
        db.close()
    assert not outcome.succeeded and outcome.kind is not None
    assert outcome.kind.value == "UNKNOWN"
    assert repo.research()["kind"] == "UNKNOWN"
    assert not (repo.root / "skills/shout.py").exists()
    finish_arc(repo, pid, "UNKNOWN", needs_yes=False)
