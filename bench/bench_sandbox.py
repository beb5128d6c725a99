"""Raw cost of the sandbox layer: the same Python command plain and inside bubblewrap.

Usage: ``python bench/bench_sandbox.py [--repeat N]``. For ``python -I -c pass`` and
``python -I -c "import pydantic"`` it prints the median wall time (ms) of a plain child
process (``subprocess.run`` with the same empty environment), the same command through the
explicit no-sandbox backend, and inside the bubblewrap sandbox (namespaces, seccomp, the
minimal read-only interpreter view), with ratios and the added milliseconds. The one-off
per-process probe is timed separately. Runs alternate (plain, none, sandbox, plain, ...) so
load on a shared machine hits every variant alike.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from kavi_sandbox import Limits, NoSandboxBackend, SandboxPolicy, python_read_only_paths, run
from kavi_sandbox.backend import BubblewrapBackend
from kavi_sandbox.bwrap import probe

COMMANDS = {"python -c pass": "pass", 'python -c "import pydantic"': "import pydantic"}
ENV = {"LC_ALL": "C.UTF-8"}


def _ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    probe_ms = _ms(probe)
    sandbox = BubblewrapBackend(probe())
    policy = SandboxPolicy(read_only=python_read_only_paths(), env=ENV, limits=Limits(wall_time=60))
    none = NoSandboxBackend()
    print(f"probe (once per process): {probe_ms:.1f} ms; bwrap {sandbox.bwrap.path}")
    print(
        f"{'command':<30}{'plain':>9}{'none':>9}{'sandbox':>9}{'ratio':>8}{'added':>9}"
        f"   (median ms, n={args.repeat})"
    )
    for label, code in COMMANDS.items():
        argv_ = [sys.executable, "-I", "-c", code]
        samples: dict[str, list[float]] = {"plain": [], "none": [], "sandbox": []}
        for _ in range(args.repeat):
            samples["plain"].append(
                _ms(lambda a=argv_: subprocess.run(a, env=ENV, check=True, capture_output=True))
            )
            samples["none"].append(_ms(lambda a=argv_: run(a, policy, backend=none)))
            samples["sandbox"].append(_ms(lambda a=argv_: run(a, policy, backend=sandbox)))
        plain, unsandboxed, boxed = (statistics.median(samples[k]) for k in samples)
        print(
            f"{label:<30}{plain:>9.1f}{unsandboxed:>9.1f}{boxed:>9.1f}"
            f"{boxed / plain:>7.2f}x{boxed - plain:>+8.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
