"""Cost of the forge's sandbox: ``kavi build`` of a trivial skill, sandboxed vs ``--no-sandbox``.

Usage: ``python bench/bench_forge.py [--repeat N]``. In a fresh governed git repository, a
scripted agent (an executable Python script that writes a small READ_ONLY skill and its
test) is run by ``kavi build`` as a fresh process each time: the agent, diff-allowlist,
KAV901, spec, policy, invariants, hash-pin, then ruff, mypy and pytest, and the copy-back.
One untimed build warms mypy's cache; then builds alternate (sandboxed, unsandboxed, ...)
so load on a shared machine hits both alike. Each build starts from the same repository
state (the copied-back files are removed). Prints the median wall time of each, the ratio
and the milliseconds the sandbox adds, and the same for ``kavi verify``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AGENT = """#!/usr/bin/env python3
import pathlib, sys

sys.stdin.read()
pathlib.Path("skills").mkdir(exist_ok=True)
pathlib.Path("tests/skills").mkdir(parents=True, exist_ok=True)
pathlib.Path("skills/shout.py").write_text(
    "from __future__ import annotations\\n\\n"
    "from kavi_skills import BaseSkill\\nfrom pydantic import BaseModel\\n\\n\\n"
    "class ShoutIn(BaseModel):\\n    text: str\\n\\n\\n"
    "class ShoutOut(BaseModel):\\n    text: str\\n\\n\\n"
    "class ShoutSkill(BaseSkill):\\n"
    '    name = "shout"\\n'
    '    description = "Upper-case the text."\\n'
    '    side_effect_class = "READ_ONLY"\\n'
    "    input_model = ShoutIn\\n    output_model = ShoutOut\\n\\n"
    "    def execute(self, data: ShoutIn) -> ShoutOut:\\n"
    "        return ShoutOut(text=data.text.upper())\\n"
)
pathlib.Path("tests/skills/test_shout.py").write_text(
    "from __future__ import annotations\\n\\n"
    "from skills.shout import ShoutIn, ShoutSkill\\n\\n\\n"
    "def test_shout() -> None:\\n"
    "    skill = ShoutSkill.__new__(ShoutSkill)\\n"
    '    assert skill.execute(ShoutIn(text="hi")).text == "HI"\\n'
)
"""
SCHEMA = '{"type": "object", "properties": {"text": {"type": "string"}}}'
WRITTEN = ("skills/shout.py", "tests/skills/test_shout.py")


def kavi(root: Path, env: dict[str, str], *args: str) -> str:
    """Run the kavi command line as a fresh process; fail loudly on an unexpected exit."""
    done = subprocess.run(
        [sys.executable, "-m", "kavi_hooks.cli", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"kavi {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done.stdout


def project(base: Path) -> tuple[Path, dict[str, str], Path]:
    root = base / "repo"
    root.mkdir()
    for args in (["init", "-q"], ["config", "user.email", "b@example.com"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    agent = base / "agent-bin" / "bench-agent"
    agent.parent.mkdir()
    agent.write_text(AGENT)
    agent.chmod(0o755)
    env = {
        "PATH": os.pathsep.join((str(Path(sys.executable).parent), "/usr/bin", "/bin")),
        "HOME": str(base / "home"),
        "XDG_DATA_HOME": str(base / "data"),
        "XDG_CONFIG_HOME": str(base / "config"),
        "XDG_CACHE_HOME": str(base / "cache"),
        "KAVI_LLM_BASE_URL": "http://127.0.0.1:9/v1",
        "LC_ALL": "C.UTF-8",
    }
    kavi(root, env, "init", str(root))
    return root, env, agent


def build_once(root: Path, env: dict[str, str], agent: Path, *extra: str) -> tuple[float, float]:
    for rel in WRITTEN:
        (root / rel).unlink(missing_ok=True)
    pid = kavi(
        root,
        env,
        "propose",
        "--name",
        "shout",
        "--desc",
        "d",
        "--side-effect",
        "READ_ONLY",
        "--io-schema-json",
        SCHEMA,
    ).strip()
    started = time.perf_counter()
    kavi(root, env, "build", pid, "--agent", str(agent), *extra)
    elapsed = time.perf_counter() - started
    verify_started = time.perf_counter()
    kavi(root, env, "verify", pid, *extra)
    return elapsed * 1000, (time.perf_counter() - verify_started) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kavi-bench-forge-") as scratch:
        root, env, agent = project(Path(scratch))
        warm = build_once(root, env, agent)
        print(f"warm-up build (cold mypy cache): {warm[0] / 1000:.1f} s")
        samples: dict[str, list[tuple[float, float]]] = {"sandbox": [], "none": []}
        for _ in range(args.repeat):
            samples["sandbox"].append(build_once(root, env, agent))
            samples["none"].append(build_once(root, env, agent, "--no-sandbox"))
    print(
        f"{'command':<14}{'sandbox':>10}{'none':>10}{'ratio':>8}{'added':>10}"
        f"   (median ms, n={args.repeat})"
    )
    for index, label in enumerate(("kavi build", "kavi verify")):
        boxed = statistics.median(s[index] for s in samples["sandbox"])
        plain = statistics.median(s[index] for s in samples["none"])
        print(
            f"{label:<14}{boxed:>10.0f}{plain:>10.0f}{boxed / plain:>7.2f}x{boxed - plain:>+10.0f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
