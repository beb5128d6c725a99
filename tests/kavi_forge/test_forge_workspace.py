"""The sandbox copy after the agent: planted bytecode removed, special files refused, and
the tools' sandbox (no network, only the copy writable, no bytecode written)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from kavi_forge.checks import SubprocessToolRunner
from kavi_forge.isolation import scrub_bytecode, tool_env, tool_policy
from kavi_forge.sandbox import MAX_NEW_FILE, create_sandbox, unsafe_entries
from kavi_sandbox import run, select_backend


def test_planted_bytecode_is_removed_without_following_links(tmp_path: Path) -> None:
    root = tmp_path / "copy"
    (root / "skills" / "__pycache__").mkdir(parents=True)
    (root / "skills" / "__pycache__" / "shout.cpython-311.pyc").write_bytes(b"x")
    (root / "loose.pyc").write_bytes(b"x")
    outside = tmp_path / "outside"
    (outside / "__pycache__").mkdir(parents=True)
    (outside / "__pycache__" / "keep.pyc").write_bytes(b"x")
    os.symlink(outside / "__pycache__", root / "__pycache__")
    removed = scrub_bytecode(root)
    assert sorted(removed) == ["__pycache__", "loose.pyc", "skills/__pycache__"]
    assert (outside / "__pycache__" / "keep.pyc").exists()
    assert not any(p.name.endswith(".pyc") for p in root.rglob("*"))


def test_special_and_oversized_files_are_named_before_anything_reads_them(
    tmp_path: Path,
) -> None:
    source = tmp_path / "src"
    (source / "skills").mkdir(parents=True)
    (source / "skills" / "big.bin").write_bytes(b"\0" * 10)
    sandbox = create_sandbox(source, prefix="test")
    try:
        os.mkfifo(sandbox.repo / "skills" / "shout.py")
        with (sandbox.repo / "skills" / "big.bin").open("r+b") as handle:
            handle.truncate(MAX_NEW_FILE + 1)  # sparse: grown past the limit
        found = unsafe_entries(sandbox)
    finally:
        sandbox.remove()
    assert sorted(found) == [
        f"skills/big.bin holds {MAX_NEW_FILE + 1} bytes (limit {MAX_NEW_FILE})",
        "skills/shout.py is a special file (FIFO, socket or device)",
    ]


def test_a_tool_sandbox_writes_only_the_copy_and_has_no_network(tmp_path: Path) -> None:
    copy, outside = tmp_path / "copy", tmp_path / "outside"
    copy.mkdir()
    outside.mkdir()
    code = (
        "import os, socket, sys\n"
        "open('inside', 'w').write('x')\n"
        "try:\n"
        f"    open({str(outside / 'planted')!r}, 'w').write('x')\n"
        "except OSError as err:\n"
        "    print('outside', type(err).__name__)\n"
        "try:\n"
        "    socket.create_connection(('1.1.1.1', 53), timeout=2)\n"
        "except OSError as err:\n"
        "    print('network', type(err).__name__)\n"
        "print('bytecode', os.environ['PYTHONDONTWRITEBYTECODE'], sys.dont_write_bytecode)\n"
    )
    policy = tool_policy(copy, tool_env(), 60)
    done = run([sys.executable, "-c", code], policy, backend=select_backend())
    lines = done.stdout.decode().splitlines()
    assert done.returncode == 0, done.stderr
    assert lines[0].startswith("outside ") and lines[1].startswith("network ")
    assert lines[2] == "bytecode 1 True"
    assert (copy / "inside").exists() and not (outside / "planted").exists()


def test_the_tools_run_sandboxed_by_default(tmp_path: Path) -> None:
    """A runner built without a backend picks the sandbox (and would refuse without one)."""
    (tmp_path / "skills").mkdir()
    (tmp_path / "skills" / "a.py").write_text("import os\n")
    outcome = SubprocessToolRunner().run("ruff", ["skills/a.py"], tmp_path, tool_env(), 60)
    assert outcome.returncode == 1 and "F401" in outcome.output
