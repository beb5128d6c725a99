"""Who made a change: an agent (judged by the diff allowlist) or a person (not judged).

The diff-allowlist gate keeps an *agent's* change inside the paths agents may touch. A
person committing to ``app/main.py`` is not an agent, and their commit must not fail
because of it. A change is an agent's when any of these holds (``diff_allowlist.agents``):

- one of the configured environment variables is set (agent harnesses set one in the
  shells they run: Claude Code sets ``CLAUDECODE``; anything can set ``KAVI_AGENT=1``);
- the branch (``GITHUB_HEAD_REF`` on a pull request, else the checked-out branch) matches
  a branch glob (``agent/**``, ``claude/**``, ...);
- the author (for the index: who is committing; for ``--base REF``: any commit in
  ``REF..HEAD``) matches an author pattern (``*[bot]*``).

A ``dir:`` baseline is the forge's sandbox: always an agent's change.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

from kavi_gates.config import AgentsConfig
from kavi_gates.errors import UsageError
from kavi_gates.paths import match_glob


@lru_cache(maxsize=64)
def _pattern(glob: str) -> re.Pattern[str]:
    # Author patterns: '*' and '?' are wildcards, everything else is literal ("[bot]").
    body = re.escape(glob).replace(r"\*", ".*").replace(r"\?", ".")
    return re.compile(body + r"\Z", re.IGNORECASE)


def matches_author(author: str, patterns: Sequence[str]) -> bool:
    """Does ``Name <email>`` match one of the author patterns (case-insensitive)?"""
    return any(_pattern(p).match(author) for p in patterns)


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=False, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def verify_ref(root: Path, base: str) -> None:
    """A ``--base`` that names no commit is a usage error, even when the gate then skips."""
    if _git(root, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}") is None:
        raise UsageError(f"diff-allowlist: unknown git ref {base!r} for --base")


def current_branch(root: Path, env: Mapping[str, str]) -> str | None:
    """The pull request's head branch in CI, else the checked-out branch (None: detached)."""
    head_ref = env.get("GITHUB_HEAD_REF", "")
    if head_ref:
        return head_ref
    return _git(root, "symbolic-ref", "--short", "-q", "HEAD") or None


def change_authors(root: Path, base: str | None) -> list[str]:
    """``Name <email>`` of who is committing (index) or of each commit in ``base..HEAD``."""
    if base is None:
        ident = _git(root, "var", "GIT_AUTHOR_IDENT")
        # "Name <email> 1700000000 +0000": drop the timestamp and the zone.
        return [ident.rsplit(" ", 2)[0]] if ident else []
    log = _git(root, "log", "--no-merges", "--format=%an <%ae>", f"{base}..HEAD")
    return [line for line in (log or "").splitlines() if line]


def agent_reason(
    root: Path, base: str | None, agents: AgentsConfig, env: Mapping[str, str] | None = None
) -> str | None:
    """Why this change is an agent's, or ``None`` when nothing marks it as one."""
    env = os.environ if env is None else env
    for variable in agents.env:
        if env.get(variable):
            return f"${variable} is set"
    branch = current_branch(root, env)
    if branch is not None:
        for glob in agents.branches:
            if match_glob(branch, glob):
                return f"branch {branch!r} matches {glob!r}"
    for author in change_authors(root, base):
        for pattern in agents.authors:
            if matches_author(author, (pattern,)):
                return f"author {author!r} matches {pattern!r}"
    return None


def describe_person(root: Path, base: str | None, env: Mapping[str, str] | None = None) -> str:
    """The branch and author that were looked at (for the gate's skip note)."""
    env = os.environ if env is None else env
    branch = current_branch(root, env) or "detached HEAD"
    authors = change_authors(root, base)
    who = ", ".join(sorted(set(authors))) or "unknown author"
    return f"branch {branch}, {who}"
