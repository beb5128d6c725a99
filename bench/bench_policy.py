"""The policy gate against its peers on real corpora: wall time and peak memory.

Tools, each a fresh process on the same files, from the bench virtual environments under
``--venvs`` (made by ``bench/run_all.py``: ``kavi`` with Kavi as users get it and bandit,
``semgrep``, ``fixit``):

- libcst parse-only: ``libcst.parse_module`` on every file, in as many processes as Kavi
  uses (the floor Kavi's own work is measured against);
- kavi cold (empty cache) and warm: ``kavi check lib --gate policy -j N``;
- bandit ``-r`` (1 process), semgrep with ``bench/semgrep_python.yaml`` (its registry is
  not reachable from here; the same kinds of checks as Kavi's) and ``--jobs N``, Fixit's
  default rules (its own process pool).

Runs alternate between tools, ``--repeat`` times; the table holds medians. Peak memory is
the largest sum, over time, of the proportional set size (PSS) of the tool's process and
all its children (sampled every 20 ms from /proc).

Usage: ``python bench/bench_policy.py --venvs DIR --corpus stdlib|django``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PARSE_ONLY = HERE / "parse_only.py"
SEMGREP_RULES = HERE / "semgrep_python.yaml"


def stdlib_files(python: Path) -> list[Path]:
    """The standard library of the bench interpreter, minus tests and site-packages."""
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    root = Path(out.stdout.strip())
    return sorted(
        p
        for p in root.rglob("*.py")
        if "site-packages" not in p.parts and not {"test", "tests"} & set(p.parts)
    )


def django_files(python: Path, work: Path, version: str) -> list[Path]:
    """Django's sources, from its wheel on PyPI (fetched here, at benchmark time)."""
    wheels = work / "wheels"
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "-d",
            str(wheels),
            f"django=={version}",
        ],
        check=True,
    )
    (wheel,) = [w for w in wheels.glob("*.whl") if w.name.lower().startswith("django-")]
    target = work / "django-src"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return sorted(p for p in (target / "django").rglob("*.py"))


class PeakMemory:
    """The largest total PSS of a process tree while it runs (sampled from /proc).

    PSS (proportional set size) counts a page shared by n processes as 1/n in each, so a
    forked worker does not count its parent's memory again (RSS would, for every tool
    that forks: parse-only's pool as much as Kavi's workers)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _tree_rss(self) -> int:
        parents: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            parents[int(entry)] = int(fields[1])
        tree = {self.pid}
        changed = True
        while changed:
            changed = False
            for pid, parent in parents.items():
                if parent in tree and pid not in tree:
                    tree.add(pid)
                    changed = True
        total = 0
        for pid in tree:
            try:
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                continue
            for line in rollup.splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
                    break
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._tree_rss())
            self._stop.wait(0.02)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int, int]:
    """(wall seconds, peak memory bytes, exit code); exit codes 0 and 1 are results."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    memory = PeakMemory(proc.pid)
    _, stderr = proc.communicate()
    elapsed = time.perf_counter() - start
    peak = memory.stop()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[:3]} failed ({proc.returncode}): {stderr[-800:]}")
    return elapsed, peak, proc.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venvs", type=Path, required=True)
    parser.add_argument("--corpus", choices=("stdlib", "django"), default="stdlib")
    parser.add_argument("--django-version", default="5.2.19")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip", default="", help="comma-separated tools to leave out")
    args = parser.parse_args(argv)

    bin_dir = args.venvs / "kavi" / "bin"
    python = bin_dir / "python"
    work = Path(tempfile.mkdtemp(prefix="kavi-bench-"))
    files = (
        stdlib_files(python)
        if args.corpus == "stdlib"
        else django_files(python, work, args.django_version)
    )
    # Copied into a scratch project, so paths are relative and nothing writes to the source.
    project = work / "project"
    (project / "lib").mkdir(parents=True)
    copies = []
    for i, f in enumerate(files):
        copy = project / "lib" / f"m{i:04d}_{f.name}"
        shutil.copyfile(f, copy)
        copies.append(copy)
    (project / "kavi.yaml").write_text("include: ['lib/*.py']\n")
    listing = work / "files.txt"
    listing.write_text("\n".join(str(c) for c in copies))
    env = {**os.environ, "XDG_CACHE_HOME": str(work / "cache"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    jobs = str(args.jobs)

    def kavi(report: str) -> list[str]:
        command = [str(bin_dir / "kavi"), "check", "lib", "--gate", "policy", "-j", jobs]
        return [*command, "--format", "json", "--output", str(work / report)]

    tools: dict[str, list[str]] = {
        f"libcst parse-only ({jobs} processes)": [
            str(python),
            str(PARSE_ONLY),
            str(listing),
            jobs,
        ],
        "kavi cold": kavi("kavi.json"),
        "bandit (1 process)": [
            *(str(bin_dir / "bandit"), "-q", "-r", "lib", "-f", "json"),
            *("-o", str(work / "bandit.json")),
        ],
        f"semgrep ({jobs} jobs)": [
            *(str(args.venvs / "semgrep/bin/semgrep"), "scan", "--config", str(SEMGREP_RULES)),
            *("--metrics", "off", "--quiet", "--jobs", jobs, "--disable-version-check"),
            *("--json", "--output", str(work / "semgrep.json"), "lib"),
        ],
        "Fixit": [str(args.venvs / "fixit/bin/fixit"), "lint", "lib"],
    }
    skipped = {s.strip() for s in args.skip.split(",") if s.strip()}
    tools = {k: v for k, v in tools.items() if not any(k.startswith(s) for s in skipped)}
    walls: dict[str, list[float]] = {name: [] for name in tools}
    peaks: dict[str, list[int]] = {name: [] for name in tools}
    warm: list[float] = []
    for round_ in range(args.repeat):
        for name, cmd in tools.items():
            if name == "kavi cold":
                shutil.rmtree(work / "cache", ignore_errors=True)
            wall, peak, _ = timed(cmd, env, project)
            walls[name].append(wall)
            peaks[name].append(peak)
            if name == "kavi cold":  # the cache is full now
                warm.append(timed(kavi("kavi-warm.json"), env, project)[0])
        print(f"round {round_ + 1}/{args.repeat} done", file=sys.stderr)

    report = json.loads((work / "kavi.json").read_text())
    wall = {name: statistics.median(v) for name, v in walls.items()}
    peak = {name: statistics.median(v) for name, v in peaks.items()}
    parse_only = next(n for n in wall if n.startswith("libcst"))
    cold = wall["kavi cold"]
    lines = [
        f"Corpus: {args.corpus}, {len(files)} files "
        f"({sum(f.stat().st_size for f in files) / 1e6:.1f} MB); Kavi reported "
        f"{len(report['findings'])} findings. Medians of {args.repeat} alternating runs.",
        "",
        "| tool | wall | kavi cold / tool | peak memory (PSS, tree) | kavi / tool |",
        "|---|---|---|---|---|",
    ]
    for name in tools:
        lines.append(
            f"| {name} | {wall[name]:.2f} s | {cold / wall[name]:.2f}x | "
            f"{peak[name] / 2**20:.0f} MiB | {peak['kavi cold'] / peak[name]:.2f}x |"
        )
    lines.append(f"| kavi warm | {statistics.median(warm):.2f} s | — | — | — |")
    lines += [
        "",
        f"- kavi cold / libcst parse-only, same processes: **{cold / wall[parse_only]:.2f}x** "
        "(target <= 1.3)",
        f"- kavi peak memory / parse-only's: **{peak['kavi cold'] / peak[parse_only]:.2f}x** "
        "(target <= 1.2)",
        f"- kavi warm / cold: {statistics.median(warm) / cold:.3f}x",
    ]
    print("\n".join(lines))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
