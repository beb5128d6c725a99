"""Size of the pre-commit hook environment for Kavi's hooks, built by the real pre-commit.

Usage: python bench/bench_hook_env.py [--rev REV]   (REV: a commit of this repository,
default HEAD). Builds the environment of the ``kavi-policy`` hook in a scratch repository
with a fresh PRE_COMMIT_HOME (this downloads Kavi's core dependencies from the package
index), then prints its size, the largest packages, and the ratio to the 60 MB goal.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOAL_MB = 60.0


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="HEAD")
    args = parser.parse_args()
    rev = subprocess.run(
        ["git", "rev-parse", args.rev], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="kavi-hook-env-") as scratch:
        root, home = Path(scratch, "repo"), Path(scratch, "home")
        (root / "skills").mkdir(parents=True)
        (root / "skills" / "a.py").write_text("x = 1\n")
        (root / ".pre-commit-config.yaml").write_text(
            f"repos:\n  - repo: {REPO}\n    rev: {rev}\n    hooks:\n      - id: kavi-policy\n"
        )
        for argv in (["git", "init", "-q"], ["git", "add", "-A"]):
            subprocess.run(argv, cwd=root, check=True)
        env = {**os.environ, "PRE_COMMIT_HOME": str(home)}
        done = subprocess.run(
            [sys.executable, "-m", "pre_commit", "run", "--all-files"],
            cwd=root, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            print(done.stdout + done.stderr)
            return 1
        (env_dir,) = home.glob("repo*/py_env-*")
        site = next(env_dir.glob("lib/python*/site-packages"))
        total = size(env_dir) / 1e6
        print(
            f"hook environment: {total:.1f} MB (goal <= {GOAL_MB:.0f} MB: {total / GOAL_MB:.2f}x)"
        )
        packages = sorted(
            ((size(p) / 1e6, p.name) for p in site.iterdir() if p.is_dir()), reverse=True
        )
        for mb, name in packages[:10]:
            print(f"  {mb:6.1f} MB  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
