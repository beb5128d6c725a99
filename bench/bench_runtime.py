"""Cost of running skills sandboxed: ``kavi run`` of each first-party skill, sandboxed vs not.

Usage: ``python bench/bench_runtime.py [--repeat N] [--baseline-src DIR] [--only NAME]...``.

The repo's six first-party skills and their registry are copied into a scratch project with
a small vault and signed with a bench key; the LLM endpoint is the loopback stand-in from
``tests/llm_server.py`` (so ``search_notes`` and ``summarize_note`` go through the broker to
a live endpoint), and ``http_get_json`` is re-promoted for ``127.0.0.1`` so it GETs from the
same server. Each measurement is the wall time of a fresh ``kavi run NAME --json ...
--yes --no-log`` process, as a user types it: ``sandboxed`` (bubblewrap, seccomp, Landlock)
vs ``--no-sandbox`` (the same child process without isolation). Runs alternate so load on a
shared machine hits both alike. Prints medians, the ratio and the milliseconds added (of
the medians, and of the fastest runs, which load on a shared machine disturbs least).

``--baseline-src DIR`` adds a third column: the same command run with ``PYTHONPATH=DIR``,
where DIR holds an older Kavi (e.g. ``git archive <commit> | tar -x -C DIR``) whose runtime
executed skills in-process.
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
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
# The checkout first (tests/kavi_gates must not shadow the real package as a namespace).
sys.path[:0] = [str(REPO), str(REPO / "bench")]
sys.path.append(str(REPO / "tests"))
from bench_attestation import make_key, sign_project  # noqa: E402
from llm_server import StandIn, _Server  # noqa: E402  (the tests' loopback stand-in)

from kavi_gates.hash_pin import sha256_bytes  # noqa: E402

NOTES = {
    "gates.md": "---\ntags: [kavi]\n---\n# Gates\n\nKavi has four gates. They fail closed.\n",
    "ledger.md": "# Ledger\n\nThe ledger is SQLite. #kavi\n",
}


def inputs(base_url: str) -> dict[str, dict[str, object]]:
    """One representative input per first-party skill."""
    return {
        "read_notes_by_tag": {"tag": "kavi"},
        "search_notes": {"query": "gates fail closed"},
        "summarize_note": {"path": "gates.md"},
        "write_note": {"path": "bench/note.md", "title": "Bench", "overwrite": True},
        "create_daily_note": {"body": "bench"},
        "http_get_json": {"url": f"{base_url}/models"},
    }


def scratch_project(work: Path) -> Path:
    """The first-party skills in a project of their own, signed with a bench key;
    ``http_get_json`` is promoted again for the loopback host instead of api.github.com."""
    root = work / "project"
    shutil.copytree(REPO / "skills", root / "skills", ignore=shutil.ignore_patterns("__pycache__"))
    source = root / "skills" / "http_get_json.py"
    source.write_text(source.read_text().replace('("api.github.com",)', '("127.0.0.1",)'))
    registry_file = root / "skills" / "registry.yaml"
    registry = yaml.safe_load(registry_file.read_text())
    entry = registry["skills"]["http_get_json"]
    entry["allowed_hosts"] = ["127.0.0.1"]
    entry["pins"] = {"skills/http_get_json.py": sha256_bytes(source.read_bytes())}
    registry_file.write_text(yaml.safe_dump(registry, sort_keys=False))
    (root / "kavi.yaml").write_text("hash_pin:\n  registry: skills/registry.yaml\n")
    sign_project(root, make_key(work / "key"))
    vault = work / "xdg" / "data" / "kavi" / "vault"
    vault.mkdir(parents=True, exist_ok=True)
    for note, text in NOTES.items():
        (vault / note).write_text(text)
    return root


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    """Milliseconds of one command, which must succeed."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = (time.perf_counter() - start) * 1000
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed ({proc.returncode}): {proc.stderr[-500:]}")
    return elapsed


def start_stand_in() -> tuple[StandIn, _Server]:
    """The tests' loopback LLM stand-in, serving in a daemon thread (shut it down after)."""
    import threading

    state = StandIn()
    server = _Server(state)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    return state, server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--baseline-src", type=Path, help="an older Kavi source tree")
    parser.add_argument("--only", action="append", help="measure only this skill (repeatable)")
    args = parser.parse_args(argv)
    state, server = start_stand_in()
    work = Path(tempfile.mkdtemp(prefix="kavi-bench-runtime-"))
    try:
        root = scratch_project(work)
        env = {
            **os.environ,
            "XDG_DATA_HOME": str(work / "xdg" / "data"),
            "XDG_CONFIG_HOME": str(work / "xdg" / "config"),
            "XDG_CACHE_HOME": str(work / "xdg" / "cache"),
            "KAVI_LLM_BASE_URL": state.base_url,
        }
        kavi = str(Path(sys.executable).parent / "kavi")
        variants: dict[str, tuple[list[str], dict[str, str], Path]] = {
            "sandboxed": ([], env, root),
            "--no-sandbox": (["--no-sandbox"], env, root),
        }
        if args.baseline_src is not None:
            baseline_env = {**env, "PYTHONPATH": str(args.baseline_src.resolve())}
            variants["in-process (baseline)"] = ([], baseline_env, root)
        header = "".join(f"{name:>24}" for name in variants)
        print(
            f"{'skill':<20}{header}{'ratio':>8}{'added':>9}{'added/min':>10}"
            f"   (median ms, n={args.repeat}; added/min: between the fastest runs)"
        )
        worst_ratio = worst_added = 0.0
        for skill, data in inputs(state.base_url).items():
            if args.only and skill not in args.only:
                continue
            samples: dict[str, list[float]] = {name: [] for name in variants}
            for _ in range(args.repeat):
                for name, (extra, run_env, cwd) in variants.items():
                    cmd = [kavi, "run", skill, "--json", json.dumps(data), "--yes", "--no-log"]
                    samples[name].append(timed([*cmd, *extra], run_env, cwd))
            medians = {n: statistics.median(v) if v else None for n, v in samples.items()}
            fastest = {n: min(v) for n, v in samples.items() if v}
            boxed, plain = samples["sandboxed"], samples["--no-sandbox"]
            boxed_ms, plain_ms = statistics.median(boxed), statistics.median(plain)
            worst_ratio = max(worst_ratio, boxed_ms / plain_ms)
            worst_added = max(worst_added, boxed_ms - plain_ms)
            cells = "".join(f"{'n/a' if m is None else f'{m:.0f}':>24}" for m in medians.values())
            ratio, added = boxed_ms / plain_ms, boxed_ms - plain_ms
            best = fastest["sandboxed"] - fastest["--no-sandbox"]
            print(f"{skill:<20}{cells}{ratio:>7.2f}x{added:>+8.0f}{best:>+10.0f}")
        verdict = "within" if worst_ratio <= 1.3 and worst_added <= 60 else "OVER"
        print(
            f"worst: {worst_ratio:.2f}x, {worst_added:+.0f} ms sandboxed vs --no-sandbox "
            f"({verdict} the 1.3x / 60 ms goal)"
        )
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
