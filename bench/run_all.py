"""The policy gate's benchmarks, one command: ``python bench/run_all.py`` rewrites their
part of bench/RESULTS.md (between the ``policy:begin``/``policy:end`` markers; the other
sections belong to other benchmarks and are kept as they are).

Makes bench virtual environments under ``--venvs`` (default ``~/.cache/kavi-bench``): one
with Kavi installed from this checkout as users get it (not editable) and bandit, and one
each for semgrep and Fixit (their pins conflict), all from PyPI; then runs, with Kavi's:
the policy gate against its peers on the CPython standard library and on Django's sources
(``bench_policy.py``), the scaling of the analysis with file size and shape
(``bench_scaling.py``), the waiting times of the pre-commit hook (``bench_startup.py``).
Nothing here runs at test time. Usage: ``python bench/run_all.py [--repeat N] [--quick]``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# Each peer in a virtual environment of its own (semgrep's and Fixit's pins conflict).
PEERS = {"kavi": (str(REPO), "bandit==1.9.4"), "semgrep": ("semgrep==1.185.0",)}
PEERS["fixit"] = ("fixit==2.2.1",)


def run(cmd: list[str], **kwargs: object) -> str:
    print("$", " ".join(cmd), file=sys.stderr)
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        return f"(failed: exit {done.returncode})\n\n```\n{done.stderr[-1500:]}\n```\n"
    return str(done.stdout)


def make_venvs(base: Path) -> Path:
    """One environment per peer under ``base``; the interpreter of Kavi's."""
    for name, requirements in PEERS.items():
        python = base / name / "bin" / "python"
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(base / name)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, *requirements], check=True)
    return base / "kavi" / "bin" / "python"


def versions(base: Path) -> str:
    found = []
    for venv, dists in (("kavi", ("libcst", "bandit")), ("semgrep", ("semgrep",))):
        found.append(_versions(base / venv / "bin" / "python", dists))
    found.append(_versions(base / "fixit" / "bin" / "python", ("fixit",)))
    return ", ".join(found)


def _versions(python: Path, dists: tuple[str, ...]) -> str:
    code = (
        "import importlib.metadata as m, sys; "
        f"print(*(f'{{d}} {{m.version(d)}}' for d in {dists!r}), sep=', ')"
    )
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    return done.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venvs", type=Path, default=Path.home() / ".cache/kavi-bench")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, no Fixit on stdlib")
    args = parser.parse_args(argv)
    python = make_venvs(args.venvs)
    repeat = str(args.repeat)
    sections = []
    for corpus in ("stdlib", "django"):
        skip = "Fixit" if corpus == "stdlib" or args.quick else ""
        out = run(
            [
                *(str(python), str(HERE / "bench_policy.py"), "--venvs", str(args.venvs)),
                *("--corpus", corpus, "--repeat", repeat, "--skip", skip),
            ]
        )
        sections.append((f"Policy gate and its peers: {corpus}", "bench_policy.py", out))
    sizes = "250,500,1000" if args.quick else "500,1000,2000,4000"
    out = run([str(python), str(HERE / "bench_scaling.py"), "--sizes", sizes], cwd=REPO)
    sections.append(("Linear analysis: time per unit as files grow", "bench_scaling.py", out))
    out = run([str(python), str(HERE / "bench_startup.py"), "--repeat", str(args.repeat * 4)])
    sections.append(("Where users wait: the pre-commit hook", "bench_startup.py", out))
    cpu = os.cpu_count()
    with open("/proc/loadavg") as handle:
        load = handle.read().split()[:3]
    header = [
        "## Policy gate",
        "",
        f"Produced by `python bench/run_all.py --repeat {args.repeat}` on "
        f"{datetime.date.today().isoformat()}: {platform.machine()}, {cpu} cores, "
        f"{platform.system()} {platform.release()}; CPython {platform.python_version()}, "
        f"{versions(args.venvs)}. "
        f"Load average when it ended: {' '.join(load)} (a shared machine: other jobs ran "
        "beside these; every ratio compares tools measured in alternating runs).",
        "",
    ]
    body = [
        f"### {title}\n\n`python bench/{script}`\n\n{out.strip()}\n"
        for title, script, out in sections
    ]
    write_block("\n".join(header + body))
    return 0


def write_block(block: str) -> None:
    """Put ``block`` between the policy markers of RESULTS.md (at the top if it has none)."""
    results = HERE / "RESULTS.md"
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    begin, end = "<!-- policy:begin -->", "<!-- policy:end -->"
    marked = f"{begin}\n{block.strip()}\n{end}"
    if begin in text and end in text:
        text = text[: text.index(begin)] + marked + text[text.index(end) + len(end) :]
    else:
        title, _, rest = text.partition("\n")
        text = f"{title}\n\n{marked}\n{rest}"
    results.write_text(text)
    print(block)


if __name__ == "__main__":
    raise SystemExit(main())
