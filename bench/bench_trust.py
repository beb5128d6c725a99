"""Measure what issue 11's hardening costs (and what the alias bomb used to cost).

Usage: ``python bench/bench_trust.py [--repeat N]`` from a Kavi checkout. Prints, as medians:

- YAML: the time to refuse alias bombs of growing depth, against the time to load this
  repo's real registry; and the length of the error message (bounded);
- closure: per first-party skill, ``compute_pins`` (import roots discovered, the whole
  closure walked, every file hashed) with cold caches, against hashing its pinned files
  only; and ``read_pinned`` + ``compile_verified`` (what ``kavi run`` does before running);
- diff allowlist: the change set of this repository with and without the on-disk check of
  protected paths (governed files and Kavi's config).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from kavi_gates.changes import collect_changes
from kavi_gates.config import load_config
from kavi_gates.diff_allowlist import protection_for
from kavi_gates.errors import ConfigError
from kavi_gates.hash_pin import compute_pins, read_pinned
from kavi_gates.import_roots import environment_dirs
from kavi_gates.imports import imports_of
from kavi_gates.registry import RegistryEntry, load_registry
from kavi_skills.verified_import import compile_verified


def median_ms(
    action: Callable[[], object], repeat: int, reset: Callable[[], None] | None = None
) -> float:
    times: list[float] = []
    for _ in range(repeat):
        if reset is not None:
            reset()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def bomb(levels: int) -> str:
    lines = [
        "version: 1",
        "anchors:",
        '  - &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ]
    for i in range(1, levels):
        lines.append(f"  - &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    lines += [
        "skills:",
        "  x:",
        "    path: skills/x.py",
        "    class: X",
        "    side_effect_class: READ_ONLY",
        f"    pins: {{skills/x.py: *a{levels - 1}}}",
    ]
    return "\n".join(lines) + "\n"


def bench_yaml(root: Path, scratch: Path, repeat: int) -> None:
    registry = root / "skills" / "registry.yaml"
    real = median_ms(lambda: load_registry(registry), repeat)
    print(f"yaml: load the real registry ({registry.stat().st_size} bytes): {real:.2f} ms")
    for levels in (6, 9, 12):
        path = scratch / f"bomb{levels}.yaml"
        path.write_text(bomb(levels))
        message = ""

        def refuse(path: Path = path) -> None:
            nonlocal message
            try:
                load_registry(path)
            except ConfigError as err:
                message = str(err)

        took = median_ms(refuse, repeat)
        print(
            f"yaml: refuse a {path.stat().st_size}-byte bomb of {levels} levels "
            f"(9**{levels} = {9**levels:.1e} items): {took:.2f} ms = {took / real:.2f}x the "
            f"real registry; message {len(message)} chars"
        )


def clear_caches() -> None:
    imports_of.cache_clear()
    environment_dirs.cache_clear()


def bench_closure(root: Path, repeat: int) -> None:
    loaded = load_config(start=root)
    registry = load_registry(root / loaded.config.hash_pin.registry)
    header = ("skill", "files", "sha256 only", "compute_pins", "ratio", "run check+compile")
    print("{:20s} {:>5s} {:>12s} {:>13s} {:>6s} {:>18s}".format(*header))
    for name, entry in registry.skills.items():
        files = [root / rel for rel in entry.pins]

        def hash_only(files: list[Path] = files) -> None:
            for file in files:
                hashlib.sha256(file.read_bytes()).digest()

        def pin(path: Path = root / entry.path) -> None:
            compute_pins(path, root)

        def run_check(entry: RegistryEntry = entry) -> None:
            compile_verified(root, read_pinned(entry, root))

        hashing = median_ms(hash_only, repeat)
        pins = median_ms(pin, repeat, clear_caches)
        check = median_ms(run_check, repeat, clear_caches)
        row = (name, len(files), hashing, pins, pins / hashing, check)
        print("{:20s} {:5d} {:10.3f}ms {:11.2f}ms {:5.0f}x {:16.2f}ms".format(*row))


def bench_diff(root: Path, repeat: int) -> None:
    loaded = load_config(start=root)
    plain = median_ms(lambda: collect_changes(root, None), repeat)
    guarded = median_ms(lambda: collect_changes(root, None, protection_for(loaded)), repeat)
    print(
        f"diff allowlist: git's view {plain:.1f} ms, plus protected paths from disk "
        f"{guarded:.1f} ms ({guarded / plain:.2f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        bench_yaml(root, Path(scratch), args.repeat)
    bench_closure(root, args.repeat)
    bench_diff(root, args.repeat)


if __name__ == "__main__":
    main()
