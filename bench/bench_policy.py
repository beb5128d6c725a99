"""Policy-gate speed, measured against peers in one run (DESIGN.md targets):

    cold <= 1.0x bandit and <= 1.5x libcst-parse-only; warm <= 0.1x cold;
    one small file in a fresh process <= 0.3 s.

Corpus: the CPython standard library of the running interpreter (no downloads), minus
site-packages and the ``test``/``tests`` packages. Every tool runs as a fresh process on the
same files. Usage: ``python bench/bench_policy.py [--limit N] [--markdown]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PARSE_ONLY = """
import sys, libcst
from pathlib import Path
for name in Path(sys.argv[1]).read_text().split("\\n"):
    if name:
        try:
            libcst.parse_module(Path(name).read_bytes())
        except Exception:
            pass
"""


def corpus(limit: int | None) -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(
        p
        for p in root.rglob("*.py")
        if "site-packages" not in p.parts and not {"test", "tests"} & set(p.parts)
    )
    return files[:limit] if limit else files


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[:3]} failed ({proc.returncode}): {proc.stderr[-500:]}")
    return elapsed, proc.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="use only the first N files")
    parser.add_argument("--markdown", action="store_true", help="print a RESULTS.md table")
    args = parser.parse_args(argv)

    files = corpus(args.limit)
    bin_dir = Path(sys.executable).parent
    kavi, bandit = str(bin_dir / "kavi"), shutil.which("bandit", path=str(bin_dir))
    work = Path(tempfile.mkdtemp(prefix="kavi-bench-"))
    # The corpus is copied into a project so paths are relative and nothing writes to it.
    project = work / "project"
    (project / "lib").mkdir(parents=True)
    for i, f in enumerate(files):
        shutil.copyfile(f, project / "lib" / f"m{i:04d}_{f.name}")
    (project / "kavi.yaml").write_text("include: ['lib/*.py']\n")
    listing = work / "files.txt"
    listing.write_text("\n".join(str(f) for f in files))
    env = {**os.environ, "XDG_CACHE_HOME": str(work / "cache")}

    results: dict[str, float] = {}
    results["libcst parse-only (1 process)"], _ = timed(
        [sys.executable, "-c", PARSE_ONLY, str(listing)], env, project
    )
    if bandit:
        results["bandit (1 process)"], _ = timed(
            [bandit, "-q", "-r", "lib", "-f", "json", "-o", str(work / "bandit.json")], env, project
        )

    def kavi_check(report: str) -> list[str]:
        return [
            kavi,
            "check",
            "lib",
            "--gate",
            "policy",
            "--format",
            "json",
            "--output",
            str(work / report),
        ]

    results["kavi cold (empty cache)"], _ = timed(kavi_check("kavi.json"), env, project)
    warm = [timed(kavi_check("kavi-warm.json"), env, project)[0] for _ in range(3)]
    results["kavi warm (median of 3)"] = statistics.median(warm)
    small = project / "small.py"
    small.write_text("import json\n\n\ndef load(text):\n    return json.loads(text)\n")
    env_small = {**env, "XDG_CACHE_HOME": str(work / "cache-small")}
    results["kavi one small file, fresh process, cold (median of 5)"] = statistics.median(
        timed([kavi, "check", "small.py", "--gate", "policy", "--no-cache"], env_small, project)[0]
        for _ in range(5)
    )
    results["kavi one small file, fresh process, warm (median of 5)"] = statistics.median(
        timed([kavi, "check", "small.py", "--gate", "policy"], env_small, project)[0]
        for _ in range(5)
    )

    report = json.loads((work / "kavi.json").read_text())
    findings = len(report["findings"])
    cold = results["kavi cold (empty cache)"]
    ratios = {
        "cold / bandit (target <= 1.0)": cold / results["bandit (1 process)"] if bandit else None,
        "cold / libcst parse-only (target <= 1.5)": cold / results["libcst parse-only (1 process)"],
        "warm / cold (target <= 0.1)": results["kavi warm (median of 3)"] / cold,
    }
    print(
        f"corpus: {len(files)} files from {sysconfig.get_paths()['stdlib']} "
        f"(Python {sys.version.split()[0]}, {os.cpu_count()} cores); kavi findings: {findings}"
    )
    rows = [(k, f"{v:.2f} s") for k, v in results.items()]
    rows += [(k, "n/a" if v is None else f"{v:.2f}x") for k, v in ratios.items()]
    if args.markdown:
        print("| measurement | value |\n|---|---|")
        for name, value in rows:
            print(f"| {name} | {value} |")
    else:
        width = max(len(n) for n, _ in rows)
        for name, value in rows:
            print(f"{name:<{width}}  {value}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
