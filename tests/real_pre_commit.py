"""The real ``pre-commit``, running Kavi's hooks from this repository's HEAD commit.

``pre-commit try-repo`` builds a fresh store on every call: a new virtual environment and a
pip install of Kavi (about 30 s each time). ``pre-commit run`` with a config that names this
repository at its HEAD commit installs the same hook the same way, once per
``PRE_COMMIT_HOME``; the tests share one home for the whole session, across xdist workers
(pre-commit locks its store while it installs), so the environment is built once.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def hook_rev() -> str:
    """The commit the hooks come from (committed content: pre-commit clones a revision)."""
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.strip()


def run_hook(
    root: Path, hook_id: str, env: dict[str, str], *extra: str
) -> subprocess.CompletedProcess[str]:
    """``pre-commit run HOOK --all-files`` in ``root``, the hook from this repository.

    The config lives outside ``root``: the repository under test holds only its own files.
    """
    config = {"repos": [{"repo": str(REPO), "rev": hook_rev(), "hooks": [{"id": hook_id}]}]}
    with tempfile.TemporaryDirectory(prefix="kavi-pre-commit-") as directory:
        path = Path(directory) / "pre-commit-config.yaml"
        path.write_text(yaml.safe_dump(config))
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "pre_commit",
                "run",
                hook_id,
                "--config",
                str(path),
                "--all-files",
                *extra,
            ],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
