"""Measure the trusted loader's overhead per skill: hash check, then compile + exec.

Usage: ``python bench/bench_loader.py [PROJECT_ROOT] [--repeat N]``. With a project whose
registry pins skills (default: this repo, if ``skills/registry.yaml`` exists), every entry is
measured; otherwise a synthetic project with one skill and one helper module is built in a
temporary directory. Prints the median and max per skill, in milliseconds, for three stages:
``sha256 only`` (read each pinned file once and hash it: the check the 5 ms target is about),
``hash check`` (``read_pinned``: the same plus the static import-closure check that refuses
unpinned local imports) and ``check+compile`` (``verify_entry``, the parent's whole trust
check with the static metadata read, plus compiling the verified bytes as the child does;
executing them happens only in the sandboxed child, see ``bench_runtime.py``).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import yaml
from bench_attestation import make_key, sign_project

from kavi_gates.config import load_config
from kavi_gates.hash_pin import RegistryEntry, read_pinned, sha256_bytes
from kavi_skills.loader import load_trusted_registry, verify_entry
from kavi_skills.verified_import import compile_verified

SKILL = """\
from __future__ import annotations

from pydantic import BaseModel

from kavi_skills import BaseSkill
from skills._helper import double


class In(BaseModel):
    n: int


class Out(BaseModel):
    n: int


class BenchSkill(BaseSkill):
    name = "bench"
    description = "Double a number."
    side_effect_class = "READ_ONLY"
    input_model = In
    output_model = Out

    def execute(self, data: In) -> Out:
        return Out(n=double(data.n))
"""


def synthetic_project(base: Path) -> Path:
    """A project with one pinned skill and one pinned helper module."""
    (base / "skills").mkdir()
    (base / "skills" / "bench.py").write_text(SKILL)
    (base / "skills" / "_helper.py").write_text("def double(n: int) -> int:\n    return 2 * n\n")
    (base / "kavi.yaml").write_text("hash_pin:\n  registry: skills/registry.yaml\n")
    pins = {
        rel: "sha256:" + hashlib.sha256((base / rel).read_bytes()).hexdigest()
        for rel in ("skills/bench.py", "skills/_helper.py")
    }
    entry = {"path": "skills/bench.py", "class": "BenchSkill", "side_effect_class": "READ_ONLY"}
    registry = {"version": 1, "skills": {"bench": {**entry, "pins": pins}}}
    (base / "skills" / "registry.yaml").write_text(yaml.safe_dump(registry))
    sign_project(base, make_key(base / "keys"))  # the loader also checks the signed promotion
    return base


def _verify_and_compile(name: str, entry: RegistryEntry, root: Path, signers: Path) -> None:
    """The parent's whole trust check, then the child's compile of the verified bytes."""
    trusted = verify_entry(name, entry, root, allowed_signers=signers)
    compile_verified(root, trusted.verified)


def _sha_only(files: list[Path]) -> None:
    for path in files:
        sha256_bytes(path.read_bytes())


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and max wall time of ``fn`` in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", type=Path, default=Path.cwd())
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.root.resolve()
        if not (root / "skills" / "registry.yaml").exists():
            root = synthetic_project(Path(tmp))
            print(f"no registry under {args.root}; using a synthetic project")
        loaded = load_config(start=root)
        registry = load_trusted_registry(loaded)
        print(
            f"{'skill':<22}{'files':>6}{'bytes':>8}  {'sha256 only':>14}  "
            f"{'hash check':>14}  {'check+compile':>14}   (median / max ms, n={args.repeat})"
        )
        worst = worst_sha = 0.0
        for name, entry in sorted(registry.skills.items()):
            size = sum((loaded.root / rel).stat().st_size for rel in entry.pins)

            files = [loaded.root / rel for rel in sorted(entry.pins)]
            sha_only = partial(_sha_only, files)
            check = partial(read_pinned, entry, loaded.root)
            load = partial(_verify_and_compile, name, entry, loaded.root, loaded.allowed_signers())
            try:
                load()
            except Exception as err:  # report, keep measuring the others
                print(f"{name:<22} cannot load: {err}")
                continue
            sha = timed(sha_only, args.repeat)
            chk = timed(check, args.repeat)
            full = timed(load, args.repeat)
            worst = max(worst, chk[0])
            worst_sha = max(worst_sha, sha[0])
            print(
                f"{name:<22}{len(entry.pins):>6}{size:>8}  {sha[0]:>6.3f} / {sha[1]:<6.2f}"
                f"  {chk[0]:>6.3f} / {chk[1]:<6.2f}  {full[0]:>6.3f} / {full[1]:<6.2f}"
            )
        for label, value in (("sha256 only", worst_sha), ("read_pinned", worst)):
            verdict = "within" if value <= 5.0 else "OVER"
            print(f"worst median {label}: {value:.3f} ms ({verdict} the 5 ms target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
