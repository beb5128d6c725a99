"""Latency of one MCP tool call through ``kavi serve`` (stdio) vs ``kavi run`` of the same skill.

Usage: ``python bench/bench_serve.py [--repeat N] [--only NAME]...``.

The first-party skills in a signed scratch project (``bench_runtime.scratch_project``: the
loopback LLM stand-in answers ``search_notes`` and ``summarize_note``), with
``serve.allow: [write_note, create_daily_note]`` so the FILE_WRITE skills run over MCP too.
One ``kavi serve`` process is started and driven by the MCP SDK's own client over stdio;
each measurement is one ``tools/call`` round trip (verify pins and attestation, a fresh
sandboxed child, the record logged), alternated with a fresh ``kavi run NAME --json ...
--yes`` process (the same runtime plus the CLI's start-up), so load on a shared machine hits
both alike. Also printed: the server's start-up to its first ``tools/list`` (every skill
described in a sandboxed child) and a warm ``tools/list`` (every entry verified again).
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

import anyio
import yaml
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]
sys.path.append(str(REPO / "tests"))
from bench_runtime import inputs, scratch_project, start_stand_in  # noqa: E402

READ_ONLY = ("read_notes_by_tag", "search_notes", "summarize_note")
ALLOWED = ("write_note", "create_daily_note")


def kavi_run_ms(kavi: str, skill: str, data: object, env: dict[str, str], root: Path) -> float:
    start = time.perf_counter()
    cmd = [kavi, "run", skill, "--json", json.dumps(data), "--yes"]
    proc = subprocess.run(cmd, env=env, cwd=root, capture_output=True, text=True)
    elapsed = (time.perf_counter() - start) * 1000
    if proc.returncode != 0:
        raise SystemExit(f"kavi run {skill} failed ({proc.returncode}): {proc.stderr[-500:]}")
    return elapsed


async def measure(
    kavi: str, env: dict[str, str], root: Path, cases: dict[str, object], repeat: int
) -> None:
    params = StdioServerParameters(command=kavi, args=["serve"], env=env, cwd=root)
    started = time.perf_counter()
    async with Client(params, mode="legacy", cache=None, read_timeout_seconds=300) as client:
        listed = await client.list_tools()
        first_list = (time.perf_counter() - started) * 1000
        names = sorted(tool.name for tool in listed.tools)
        lists = []
        for _ in range(repeat):
            start = time.perf_counter()
            await client.list_tools()
            lists.append((time.perf_counter() - start) * 1000)
        print(f"start-up to the first tools/list ({len(names)} tools): {first_list:.0f} ms")
        print(f"warm tools/list (every entry verified again): {statistics.median(lists):.0f} ms")
        print(
            f"{'skill':<20}{'kavi serve call':>16}{'kavi run':>10}{'ratio':>8}"
            f"   (median ms, n={repeat}; fastest in brackets)"
        )
        for skill, data in cases.items():
            assert isinstance(data, dict)
            result = await client.call_tool(skill, data)  # warm: the first describe is done
            if result.is_error:
                raise SystemExit(f"{skill} failed over MCP: {result.content}")
            calls, runs = [], []
            for _ in range(repeat):
                start = time.perf_counter()
                result = await client.call_tool(skill, data)
                calls.append((time.perf_counter() - start) * 1000)
                if result.is_error:
                    raise SystemExit(f"{skill} failed over MCP: {result.content}")
                ran = await anyio.to_thread.run_sync(kavi_run_ms, kavi, skill, data, env, root)
                runs.append(ran)
            call, run = statistics.median(calls), statistics.median(runs)
            print(
                f"{skill:<20}{call:>10.0f} [{min(calls):.0f}]{run:>6.0f} [{min(runs):.0f}]"
                f"{call / run:>7.2f}x"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--only", action="append", help="measure only this skill (repeatable)")
    args = parser.parse_args(argv)
    state, server = start_stand_in()
    work = Path(tempfile.mkdtemp(prefix="kavi-bench-serve-"))
    try:
        root = scratch_project(work)
        config = yaml.safe_load((root / "kavi.yaml").read_text())
        config["serve"] = {"allow": list(ALLOWED)}
        (root / "kavi.yaml").write_text(yaml.safe_dump(config))
        env = {
            **os.environ,
            "XDG_DATA_HOME": str(work / "xdg" / "data"),
            "XDG_CONFIG_HOME": str(work / "xdg" / "config"),
            "XDG_CACHE_HOME": str(work / "xdg" / "cache"),
            "KAVI_LLM_BASE_URL": state.base_url,
        }
        kavi = str(Path(sys.executable).parent / "kavi")
        every = inputs(state.base_url)
        chosen = args.only or [*READ_ONLY, *ALLOWED]
        cases: dict[str, object] = {name: every[name] for name in chosen}
        anyio.run(measure, kavi, env, root, cases, args.repeat)
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
