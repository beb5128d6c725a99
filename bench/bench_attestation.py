"""Measure what signed promotions cost: per ``kavi run`` and per ``kavi check`` with N skills.

Usage: ``python bench/bench_attestation.py [--skills 1,10,50] [--repeat N]``.

Per run: a synthetic project with one signed skill; the median of the pin check
(``read_pinned``), of the attestation check (``require_entry_attestation``: one
``ssh-keygen -Y verify``) and of a whole ``kavi run`` in a fresh process, and the
attestation's share of that run. Per check: projects of N signed skills; the median of the
hash-pin gate with and without the attestation checks (run through ``run_gates``) and of a
whole ``kavi check`` process; ratios printed. Keys are made with ``ssh-keygen`` in a
temporary directory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

from kavi_gates.attestation import (
    attest_entry,
    attestation_path,
    require_entry_attestation,
    write_attestation,
)
from kavi_gates.config import load_config
from kavi_gates.hash_pin import compute_pins, read_pinned
from kavi_gates.registry import Registry, RegistryEntry, load_registry, save_registry
from kavi_gates.runner import run_gates
from kavi_gates.sshsig import allowed_signers_line, generate_key, public_key_line

PRINCIPAL = "bench@example.com"
KAVI = [sys.executable, "-m", "kavi_hooks.cli"]

SKILL = """\
from __future__ import annotations

from pydantic import BaseModel

from kavi_skills import BaseSkill
from skills._helper import double


class In(BaseModel):
    n: int


class Out(BaseModel):
    n: int


class Skill{i}(BaseSkill):
    name = "s{i}"
    description = "Double a number."
    side_effect_class = "READ_ONLY"
    input_model = In
    output_model = Out

    def execute(self, data: In) -> Out:
        return Out(n=double(data.n))
"""


def sign_project(root: Path, key: Path, principal: str = PRINCIPAL) -> None:
    """Complete and sign every entry of ``root``'s registry, and list the key as allowed."""
    loaded = load_config(start=root)
    rel = loaded.config.hash_pin.registry
    registry = load_registry(root / rel)
    signed = {}
    for name, entry in registry.skills.items():
        complete = entry.model_copy(
            update={
                "policy_digest": loaded.policy_digest(),
                "verification": f"bench-{name}",
                "promoted_by": principal,
                "promoted_at": "2026-01-01T00:00:00Z",
                "attestation": attestation_path(rel, name),
            }
        )
        write_attestation(root / attestation_path(rel, name), attest_entry(name, complete, key))
        signed[name] = complete
    save_registry(root / rel, Registry(skills=signed))
    line = allowed_signers_line(principal, public_key_line(key.with_name(key.name + ".pub")))
    loaded.allowed_signers().parent.mkdir(parents=True, exist_ok=True)
    loaded.allowed_signers().write_text(line + "\n")


def make_key(directory: Path) -> Path:
    return generate_key(directory / "bench_key", PRINCIPAL)


def project(base: Path, skills: int, key: Path) -> Path:
    """``skills`` pinned, tested, signed skills sharing one helper module."""
    (base / "skills").mkdir(parents=True)
    (base / "tests" / "skills").mkdir(parents=True)
    (base / "kavi.yaml").write_text("include: ['skills/**/*.py']\n")
    (base / "skills" / "_helper.py").write_text("def double(n: int) -> int:\n    return 2 * n\n")
    entries = {}
    for i in range(skills):
        rel = f"skills/s{i}.py"
        (base / rel).write_text(SKILL.format(i=i))
        (base / "tests" / "skills" / f"test_s{i}.py").write_text(
            "def test_ok() -> None:\n    pass\n"
        )
        entries[f"s{i}"] = RegistryEntry.model_validate(
            {
                "path": rel,
                "class": f"Skill{i}",
                "side_effect_class": "READ_ONLY",
                "pins": compute_pins(base / rel, base),
            }
        )
    save_registry(base / "skills" / "registry.yaml", Registry(skills=entries))
    sign_project(base, key)
    subprocess.run(["git", "init", "-q"], cwd=base, check=True)
    subprocess.run(["git", "add", "-A"], cwd=base, check=True)
    subprocess.run(
        ["git", "-c", "user.email=b@example.com", "-c", "user.name=b", "commit", "-qm", "bench"],
        cwd=base,
        check=True,
    )
    return base


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def process(cwd: Path, env: dict[str, str], *args: str) -> None:
    done = subprocess.run([*KAVI, *args], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"kavi {' '.join(args)} failed: {done.stdout}{done.stderr}")


def no_attestation(*_args: object) -> list[object]:
    return []


def per_run(base: Path, key: Path, env: dict[str, str], repeat: int) -> None:
    root = project(base / "run", 1, key)
    entry = load_registry(root / "skills/registry.yaml").skills["s0"]
    signers = load_config(start=root).allowed_signers()
    pins = median_ms(lambda: read_pinned(entry, root), repeat * 5)
    attest = median_ms(lambda: require_entry_attestation("s0", entry, root, signers), repeat * 5)
    whole = median_ms(lambda: process(root, env, "run", "s0", "--json", '{"n": 2}'), repeat)
    print("per kavi run (one skill, one helper; median ms)")
    print(f"  pin check (read_pinned)             {pins:8.2f}")
    print(f"  attestation (ssh-keygen -Y verify)  {attest:8.2f}  = {attest / pins:.1f}x the pins")
    print(f"  whole `kavi run` process            {whole:8.2f}  attestation {attest / whole:.1%}")


def per_check(base: Path, key: Path, env: dict[str, str], count: int, repeat: int) -> str:
    root = project(base / f"check-{count}", count, key)
    loaded = load_config(start=root)
    full = median_ms(lambda: run_gates(loaded, only=["hash-pin"]), repeat)
    with mock.patch("kavi_gates.hash_pin.verify_entry_attestation", no_attestation):
        bare = median_ms(lambda: run_gates(loaded, only=["hash-pin"]), repeat)
    check = median_ms(lambda: process(root, env, "check"), max(3, repeat // 4))
    extra = full - bare
    return (
        f"  {count:>4} {bare:>12.1f} {full:>12.1f} {full / bare:>6.1f} "
        f"{extra / count:>10.2f} {check:>11.1f} {extra / check:>7.1%}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skills", default="1,10,50")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.skills.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        key = make_key(base / "keys")
        env = {
            **os.environ,
            "XDG_DATA_HOME": str(base / "xdg-data"),
            "XDG_CACHE_HOME": str(base / "xdg-cache"),
        }
        per_run(base, key, env, args.repeat)
        print(f"\nper kavi check with N skills (median ms, n={args.repeat})")
        print(
            f"  {'N':>4} {'pins only':>12} {'+ attest':>12} {'ratio':>6} "
            f"{'ms/skill':>10} {'kavi check':>11} {'share':>7}"
        )
        for count in counts:
            print(per_check(base, key, env, count, args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
