"""Where users wait: the pre-commit hook on 3 small files in a fresh process, cold (empty
cache) and warm, and a warm ``kavi check``; the files need the full analysis (they import).

Run with the interpreter of the bench virtual environment (Kavi installed as users get it,
not in editable mode). Runs alternate cold/warm; medians of ``--repeat``.
Usage: ``python bench/bench_startup.py [--repeat N] [--markdown]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FILES = {
    "skills/load.py": "import json\n\n\ndef load(text):\n    return json.loads(text)\n",
    "skills/read.py": "from pathlib import Path\n\n\ndef read(name):\n"
    "    return Path('vault_out', name).read_text()\n",
    "skills/count.py": "import re\n\nWORD = re.compile(r'\\w+')\n\n\ndef count(text):\n"
    "    return len(WORD.findall(text))\n",
}


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{cmd} failed: {done.stderr[-500:]}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="kavi-startup-"))
    repo = work / "repo"
    for rel, text in FILES.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    (repo / "kavi.yaml").write_text('include: ["skills/**/*.py"]\n')
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    env = {**os.environ, "XDG_CACHE_HOME": str(work / "cache")}
    hook = [sys.executable, "-m", "kavi_hooks.precommit", "--gate", "policy", *FILES]
    check = [str(Path(sys.executable).parent / "kavi"), "check", "--gate", "policy"]
    cold, warm, warm_check = [], [], []
    for _ in range(args.repeat):
        shutil.rmtree(work / "cache", ignore_errors=True)
        cold.append(timed(hook, repo, env))
        warm.append(timed(hook, repo, env))
        warm_check.append(timed(check, repo, env))
    rows = [
        ("pre-commit hook, 3 small files, fresh process, cold (target <= 0.3 s)", cold),
        ("pre-commit hook, 3 small files, fresh process, warm (target <= 0.15 s)", warm),
        ("`kavi check --gate policy`, same files, warm", warm_check),
    ]
    print(f"Medians (min) of {args.repeat} alternating runs.\n")
    print("| measurement | median | min |\n|---|---|---|")
    for name, values in rows:
        print(f"| {name} | {statistics.median(values):.3f} s | {min(values):.3f} s |")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
