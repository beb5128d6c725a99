"""What ``policy.imports: allow`` costs next to ``deny``: cold policy-gate time and findings
on a slice of the CPython standard library (real code that imports a lot).

Copies the packages into a temporary project, runs the policy gate without its cache under
each mode (median of ``--repeat`` runs, one worker by default so the numbers compare), and
prints the time ratio allow/deny and the findings per code. Nothing here runs at test time.
Usage: ``python bench/bench_allowlist.py [--repeat N] [--jobs N] [PACKAGE ...]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sysconfig
import tempfile
import time
from collections import Counter
from pathlib import Path

from kavi_gates.config import load_config
from kavi_gates.runner import run_gates

DEFAULT_PACKAGES = ("json", "email", "logging", "http", "xml", "importlib", "asyncio")


def _project(root: Path, packages: list[str]) -> int:
    """The packages under ``root/skills``; returns their number of lines."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    lines = 0
    for name in packages:
        shutil.copytree(stdlib / name, root / "skills" / name, ignore=_no_tests)
    for path in (root / "skills").rglob("*.py"):
        lines += path.read_bytes().count(b"\n")
    return lines


def _no_tests(directory: str, names: list[str]) -> list[str]:
    return [n for n in names if n in ("test", "tests", "__pycache__") or n.endswith(".pyc")]


def _measure(root: Path, mode: str, repeat: int, jobs: int) -> tuple[float, Counter[str]]:
    (root / "kavi.yaml").write_text(
        f"include: ['skills/**/*.py']\npolicy: {{imports: {mode}, file_budget: 120}}\n"
    )
    times = []
    counts: Counter[str] = Counter()
    for _ in range(repeat):
        started = time.perf_counter()
        report = run_gates(load_config(start=root), only=["policy"], use_cache=False, jobs=jobs)
        times.append(time.perf_counter() - started)
        counts = Counter(code for f in report.findings for code in f.rules)
    return statistics.median(times), counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("packages", nargs="*", default=list(DEFAULT_PACKAGES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        lines = _project(root, args.packages)
        files = len(list((root / "skills").rglob("*.py")))
        deny, deny_counts = _measure(root, "deny", args.repeat, args.jobs)
        allow, allow_counts = _measure(root, "allow", args.repeat, args.jobs)
    print(f"{files} files, {lines} lines of the standard library ({', '.join(args.packages)})")
    print(f"cold policy gate, median of {args.repeat}, {args.jobs} worker(s):")
    print(f"  imports: deny   {deny:7.2f} s   {sum(deny_counts.values()):6} code findings")
    print(f"  imports: allow  {allow:7.2f} s   {sum(allow_counts.values()):6} code findings")
    print(f"  ratio allow/deny: {allow / deny:.2f}")
    added = allow_counts - deny_counts
    per_kloc = 1000 * sum(added.values()) / max(lines, 1)
    print(f"  added by allow: {dict(added.most_common())} ({per_kloc:.1f} per 1,000 lines)")


if __name__ == "__main__":
    main()
