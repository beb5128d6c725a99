"""Where users wait: the pre-commit hook on 3 small files in a fresh process, cold (empty
cache) and warm, and a warm ``kavi check``; the files need the full analysis (they import).
Also: the hook after the files were edited (their results not cached, the configuration
remembered: a usual commit), and a bare ``import libcst`` in the same alternation, the
reference the cold target is stated against (0.3 s with a 0.2 s import).

Run with the interpreter of the bench virtual environment (Kavi installed as users get it,
not in editable mode). Runs alternate cold/warm; medians of ``--repeat``. ``--baseline PY``
measures another installation (an interpreter whose environment has, say, main's Kavi)
in the same alternation, so that a shared machine's load falls on both alike.
``--instructions`` adds what the machine's load cannot move: the instructions a run
executes on its longest path (valgrind's callgrind counts each process; a forked worker's
count includes what its parent ran before the fork, so the largest count is the longest
chain of work from the start, what a run with a free core for every process waits for).
Usage: ``python bench/bench_startup.py [--repeat N] [--baseline PY] [--instructions]``.
"""

from __future__ import annotations

import argparse
import os
import re
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
COLLECTED = re.compile(r"Collected : (\d+)")


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{cmd} failed: {done.stderr[-500:]}")
    return elapsed


def instructions(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Millions of instructions on ``cmd``'s longest path (parent, or a worker it forked)."""
    valgrind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    done = subprocess.run([*valgrind, *cmd], cwd=cwd, env=env, capture_output=True, text=True)
    counts = [int(n) for n in COLLECTED.findall(done.stderr)]
    if not counts:
        raise SystemExit(f"valgrind counted nothing: {done.stderr[-500:]}")
    return max(counts) / 1e6


class Install:
    """One Kavi installation's commands, with a cache of its own."""

    def __init__(self, python: str, work: Path, name: str) -> None:
        self.name = name
        self.cache = work / f"cache-{name}"
        self.env = {**os.environ, "XDG_CACHE_HOME": str(self.cache)}
        self.hook = [python, "-m", "kavi_hooks.precommit", "--gate", "policy", *FILES]
        self.check = [str(Path(python).parent / "kavi"), "check", "--gate", "policy"]
        self.libcst = [python, "-c", "import libcst"]
        self.times: dict[str, list[float]] = {
            "cold": [],
            "edited": [],
            "warm": [],
            "check": [],
            "libcst": [],
        }

    def run_once(self, repo: Path) -> None:
        self.times["libcst"].append(timed(self.libcst, repo, self.env))
        shutil.rmtree(self.cache, ignore_errors=True)
        self.times["cold"].append(timed(self.hook, repo, self.env))
        self.times["warm"].append(timed(self.hook, repo, self.env))
        self.times["check"].append(timed(self.check, repo, self.env))
        # A commit of edited files: their results are not cached, the configuration (and
        # the hint of the last run) are remembered.
        for entry in (self.cache / "kavi").iterdir():
            if entry.name not in ("config", "hints"):
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        for rel in FILES:
            os.utime(repo / rel)
        self.times["edited"].append(timed(self.hook, repo, self.env))

    def counted(self, repo: Path) -> dict[str, float]:
        shutil.rmtree(self.cache, ignore_errors=True)
        cold = instructions(self.hook, repo, self.env)
        return {"cold": cold, "warm": instructions(self.hook, repo, self.env)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--baseline", help="another installation's python, measured alike")
    parser.add_argument("--instructions", action="store_true", help="count them (valgrind)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="kavi-startup-"))
    repo = work / "repo"
    for rel, text in FILES.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    (repo / "kavi.yaml").write_text('include: ["skills/**/*.py"]\n')
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    installs = [Install(sys.executable, work, "this")]
    if args.baseline:
        installs.append(Install(args.baseline, work, "baseline"))
    for _ in range(args.repeat):
        for install in installs:
            install.run_once(repo)
    rows = [
        ("pre-commit hook, 3 small files, fresh process, cold (target <= 0.3 s)", "cold"),
        ("the same, files edited since the last run (configuration remembered)", "edited"),
        ("pre-commit hook, 3 small files, fresh process, warm (target <= 0.15 s)", "warm"),
        ("`kavi check --gate policy`, same files, warm", "check"),
        ("`python -c 'import libcst'` (what the issue's 0.3 s allows 0.2 s of)", "libcst"),
    ]
    counts = [i.counted(repo) for i in installs] if args.instructions else []
    print(f"Medians (min) of {args.repeat} alternating runs.\n")
    head = ["measurement", *(f"{i.name}: median (min)" for i in installs)]
    if args.baseline:
        head.append("this / baseline (medians)")
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for title, kind in rows:
        cells = [title]
        for install in installs:
            values = install.times[kind]
            cells.append(f"{statistics.median(values):.3f} s ({min(values):.3f} s)")
        if args.baseline:
            this, base = (statistics.median(i.times[kind]) for i in installs)
            cells.append(f"{this / base:.2f}x")
        print("| " + " | ".join(cells) + " |")
    for kind in ("cold", "edited"):
        this = installs[0].times
        paired = statistics.median(a - b for a, b in zip(this[kind], this["libcst"], strict=True))
        print(f"| hook {kind} minus `import libcst`, paired (median) | {paired:+.3f} s |")
    for kind in ("cold", "warm") if counts else ():
        cells = [f"instructions on the longest path, hook {kind} (millions; load-independent)"]
        cells += [f"{c[kind]:.0f} M" for c in counts]
        if args.baseline:
            cells.append(f"{counts[0][kind] / counts[1][kind]:.2f}x")
        print("| " + " | ".join(cells) + " |")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
