"""What a sandboxed process can see, write and reach, tried as the process would."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kavi_sandbox import BubblewrapBackend, Limits, run

if TYPE_CHECKING:
    from conftest import Loopback, PolicyFactory


def py(code: str) -> list[str]:
    return [sys.executable, "-I", "-c", code]


def plant(marker: Path, after: float) -> str:
    """Code that sleeps, then writes ``marker``: what an escaping grandchild would do."""
    return f"import time; time.sleep({after}); open({str(marker)!r}, 'w').write('planted')"


def test_a_masked_file_under_a_visible_directory_is_unreadable(
    bwrap_backend: BubblewrapBackend, policy: PolicyFactory, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "notes.txt").write_text("public")
    (shared / "secrets.env").write_text("TOKEN=hunter2")
    (shared / "private").mkdir()
    (shared / "private" / "key").write_text("hunter2")
    code = (
        "import pathlib, sys\n"
        f"base = pathlib.Path({str(shared)!r})\n"
        "print(base.joinpath('notes.txt').read_text())\n"
        "print(repr(base.joinpath('secrets.env').read_text()))\n"
        "print(sorted(p.name for p in base.joinpath('private').iterdir()))\n"
    )
    result = run(
        py(code),
        policy(read_only=[shared], masked=[shared / "secrets.env", shared / "private"]),
        backend=bwrap_backend,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().splitlines() == ["public", "''", "[]"]
    assert b"hunter2" not in result.stdout + result.stderr


def test_a_path_outside_the_policy_does_not_exist_inside(
    bwrap_backend: BubblewrapBackend, policy: PolicyFactory, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("hunter2")
    checkout = Path(__file__).resolve().parents[2]
    home = Path.home()
    code = (
        "import os\n"
        f"print(os.path.exists({str(outside)!r}))\n"
        f"print(os.path.exists({str(checkout / 'pyproject.toml')!r}))\n"
        f"for d in ({str(checkout)!r}, {str(home)!r}):\n"
        "    print(sorted(os.listdir(d)) if os.path.isdir(d) else [])\n"
    )
    sandboxed = policy()
    result = run(py(code), sandboxed, backend=bwrap_backend)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert lines[:2] == ["False", "False"]

    def leading_to_bound(directory: Path) -> list[str]:
        """Only the names on the way to a bound path exist in a directory above it."""
        names = set()
        for bound in sandboxed.read_only:
            bound_path = Path(bound)
            if directory in bound_path.parents:
                names.add(bound_path.relative_to(directory).parts[0])
        return sorted(names)

    assert lines[2] == str(leading_to_bound(checkout))
    assert lines[3] == str(leading_to_bound(home))
    assert "hunter2" not in result.stdout.decode()


def test_read_only_is_read_only(
    bwrap_backend: BubblewrapBackend, policy: PolicyFactory, tmp_path: Path
) -> None:
    target = tmp_path / "ro"
    target.mkdir()
    (target / "file.txt").write_text("original")
    code = (
        "import pathlib\n"
        f"base = pathlib.Path({str(target)!r})\n"
        "for attempt in (lambda: base.joinpath('file.txt').write_text('changed'),\n"
        "                lambda: base.joinpath('new.txt').write_text('x'),\n"
        "                lambda: base.joinpath('file.txt').unlink()):\n"
        "    try:\n"
        "        attempt()\n"
        "        print('WROTE')\n"
        "    except OSError as err:\n"
        "        print(err.errno)\n"
    )
    result = run(py(code), policy(read_only=[target]), backend=bwrap_backend)
    assert result.returncode == 0, result.stderr
    assert b"WROTE" not in result.stdout
    assert (target / "file.txt").read_text() == "original"
    assert sorted(p.name for p in target.iterdir()) == ["file.txt"]


def test_a_writable_path_takes_writes_and_the_root_and_tmp_stay_private(
    bwrap_backend: BubblewrapBackend, policy: PolicyFactory, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    code = (
        "import pathlib\n"
        f"pathlib.Path({str(out)!r}, 'result.txt').write_text('from the sandbox')\n"
        "pathlib.Path('/tmp/scratch.txt').write_text('private')\n"
        "try:\n"
        "    pathlib.Path('/planted').write_text('x')\n"
        "except OSError as err:\n"
        "    print('root', err.errno)\n"
    )
    result = run(py(code), policy(writable=[out]), backend=bwrap_backend)
    assert result.returncode == 0, result.stderr
    assert (out / "result.txt").read_text() == "from the sandbox"
    assert b"root 30" in result.stdout  # EROFS
    assert not Path("/tmp/scratch.txt").exists() and not Path("/planted").exists()


def test_the_environment_is_exactly_the_mapping_given(
    bwrap_backend: BubblewrapBackend, policy: PolicyFactory, monkeypatch: object
) -> None:
    os.environ["KAVI_TEST_PARENT_SECRET"] = "hunter2"
    try:
        env_binary = shutil.which("env") or "/usr/bin/env"
        given = {"ONLY": "this", "LC_ALL": "C.UTF-8"}
        result = run([env_binary, "-0"], policy(env=given), backend=bwrap_backend)
    finally:
        del os.environ["KAVI_TEST_PARENT_SECRET"]
    assert result.returncode == 0, result.stderr
    seen = dict(item.split("=", 1) for item in result.stdout.decode().split("\0") if item)
    # bubblewrap always sets PWD to the working directory it changed into
    assert seen == {**given, "PWD": "/home/sandbox"}
    assert b"hunter2" not in result.stdout


def test_network_none_cannot_reach_a_loopback_server_of_the_parent(
    bwrap_backend: BubblewrapBackend, policy: PolicyFactory, loopback: Loopback
) -> None:
    code = (
        "import urllib.request\n"
        "try:\n"
        f"    print(urllib.request.urlopen({loopback.url!r}, timeout=3).read())\n"
        "except OSError as err:\n"
        "    print('refused', type(err).__name__)\n"
    )
    result = run(py(code), policy(network="none"), backend=bwrap_backend)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"refused")
    assert loopback.hits == []


def test_network_host_reaches_the_same_server(
    bwrap_backend: BubblewrapBackend, policy: PolicyFactory, loopback: Loopback
) -> None:
    code = (
        f"import urllib.request; print(urllib.request.urlopen({loopback.url!r}, timeout=5).read())"
    )
    result = run(py(code), policy(network="host"), backend=bwrap_backend)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == b"b'reached'"
    assert loopback.hits == ["/"]


def test_the_parents_proc_entries_and_cwd_are_unreachable(
    bwrap_backend: BubblewrapBackend, policy: PolicyFactory, tmp_path: Path
) -> None:
    (tmp_path / "repo-marker").write_text("x")
    code = (
        "import os\n"
        f"for pid in ({os.getpid()}, {os.getppid()}, os.getppid()):\n"
        "    try:\n"
        "        print(pid, os.readlink(f'/proc/{pid}/cwd'))\n"
        "    except OSError as err:\n"
        "        print(pid, 'unreachable', err.errno)\n"
        "print('pids', sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))\n"
    )
    result = run(py(code), policy(), backend=bwrap_backend)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert str(tmp_path) not in out
    lines = out.splitlines()
    assert lines[0] == f"{os.getpid()} unreachable 2"
    assert lines[1] == f"{os.getppid()} unreachable 2"
    pids = eval(lines[-1].split(" ", 1)[1])  # a list literal we printed ourselves
    assert max(pids) < 10  # only the sandbox's own init and command


def test_a_detached_grandchild_never_outlives_the_sandbox(
    bwrap_backend: BubblewrapBackend, policy: PolicyFactory, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    marker = out / "MARKER"
    code = (
        "import subprocess, sys\n"
        f"subprocess.Popen([sys.executable, '-c', {plant(marker, 1.5)!r}],"
        " start_new_session=True)\n"
        "print('returned')\n"
    )
    result = run(py(code), policy(writable=[out]), backend=bwrap_backend)
    assert result.returncode == 0, result.stderr
    time.sleep(3)
    assert not marker.exists()


def test_the_same_detached_grandchild_does_write_without_a_sandbox(
    policy: PolicyFactory, tmp_path: Path
) -> None:
    """The control: the move above is real, and only the sandbox stops it."""
    from kavi_sandbox import NoSandboxBackend

    marker = tmp_path / "MARKER"
    code = (
        "import subprocess, sys\n"
        f"subprocess.Popen([sys.executable, '-c', {plant(marker, 0.5)!r}],"
        " start_new_session=True)\n"
    )
    result = run(py(code), policy(), backend=NoSandboxBackend())
    assert result.returncode == 0 and not result.sandboxed
    deadline = time.monotonic() + 10
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert marker.read_text().strip() == "planted"


def test_the_wall_time_kills_the_whole_sandbox(
    bwrap_backend: BubblewrapBackend, policy: PolicyFactory, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    marker = out / "MARKER"
    code = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', {plant(marker, 2)!r}])\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    result = run(
        py(code), policy(writable=[out], limits=Limits(wall_time=1.0)), backend=bwrap_backend
    )
    assert result.timed_out and result.returncode != 0
    assert time.monotonic() - started < 10
    time.sleep(2.5)
    assert not marker.exists()


def test_the_memory_limit_stops_a_large_allocation(
    bwrap_backend: BubblewrapBackend, policy: PolicyFactory
) -> None:
    code = "data = bytearray(768 * 1024 * 1024); print('allocated', len(data))"
    limited = run(py(code), policy(limits=Limits(memory_bytes=256 << 20)), backend=bwrap_backend)
    assert limited.returncode != 0 and b"MemoryError" in limited.stderr
    roomy = run(py(code), policy(limits=Limits(memory_bytes=2 << 30)), backend=bwrap_backend)
    assert roomy.returncode == 0 and roomy.stdout.startswith(b"allocated")


def test_output_beyond_the_limit_is_cut_and_the_process_killed(
    bwrap_backend: BubblewrapBackend, policy: PolicyFactory
) -> None:
    code = "import sys, time\nwhile True:\n    sys.stdout.write('x' * 65536)\n"
    result = run(
        py(code), policy(limits=Limits(output_bytes=1000, wall_time=20)), backend=bwrap_backend
    )
    assert result.output_exceeded and not result.timed_out
    assert result.stdout == b"x" * 1000


def test_an_extra_descriptor_reaches_the_sandbox_at_the_same_number(
    bwrap_backend: BubblewrapBackend, policy: PolicyFactory
) -> None:
    read_end, write_end = os.pipe()
    try:
        code = f"import os; os.write({write_end}, b'through the broker pipe')"
        result = run(py(code), policy(pass_fds=(write_end,)), backend=bwrap_backend)
        os.close(write_end)
        write_end = -1
        assert result.returncode == 0, result.stderr
        assert os.read(read_end, 100) == b"through the broker pipe"
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


@pytest.mark.skipif(os.getuid() == 0, reason="Linux does not apply RLIMIT_NPROC to root")
def test_the_process_limit_stops_a_fork_bomb(
    bwrap_backend: BubblewrapBackend, policy: PolicyFactory
) -> None:
    code = (
        "import os, time\n"
        "started = 0\n"
        "for _ in range(400):\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(5); os._exit(0)\n"
        "        started += 1\n"
        "    except OSError:\n"
        "        break\n"
        "print(started)\n"
    )
    # RLIMIT_NPROC counts the user's processes machine-wide: room for other tests' processes.
    result = run(py(code), policy(limits=Limits(processes=50)), backend=bwrap_backend)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) <= 50
