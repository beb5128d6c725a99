"""seccomp and Landlock, tried from inside: the calls an attacker would make fail."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kavi_sandbox import BubblewrapBackend, run
from kavi_sandbox.seccomp import base_filter, no_exec_filter
from kavi_sandbox.syscalls import AARCH64, X86_64, Arch

if TYPE_CHECKING:
    from conftest import PolicyFactory

PROBES = """
import ctypes, errno, json, os
libc = ctypes.CDLL(None, use_errno=True)

def call(fn, *args):
    ctypes.set_errno(0)
    result = fn(*args)
    return errno.errorcode.get(ctypes.get_errno(), 'OK') if result == -1 else 'OK'

PTRACE_TRACEME, CLONE_NEWUSER, CLONE_NEWNS = 0, 0x10000000, 0x00020000
out = {
    'ptrace': call(libc.ptrace, PTRACE_TRACEME, 0, None, None),
    'unshare_user': call(libc.unshare, CLONE_NEWUSER),
    'unshare_mount': call(libc.unshare, CLONE_NEWNS),
    'mount': call(libc.mount, b'none', b'/kavi-no-such-dir', b'tmpfs', 0, None),
    'keyctl': call(libc.syscall, {keyctl}, 0, 0, 0, 0, 0),
    'bpf': call(libc.syscall, {bpf}, 0, 0, 0),
}
print(json.dumps(out))
"""


def py(code: str) -> list[str]:
    return [sys.executable, "-I", "-c", code]


def _probes() -> str:
    table = X86_64 if X86_64.name == __import__("platform").machine() else AARCH64
    return PROBES.replace("{keyctl}", str(table.numbers["keyctl"])).replace(
        "{bpf}", str(table.numbers["bpf"])
    )


def test_the_filter_itself_turns_working_calls_into_eperm() -> None:
    """Outside any sandbox: the same calls succeed (or fail otherwise) until the filter loads."""
    install = "from kavi_sandbox import seccomp; seccomp.install(seccomp.base_filter())\n"
    plain = subprocess.run(py(_probes()), capture_output=True, text=True, check=True)
    filtered = subprocess.run(py(install + _probes()), capture_output=True, text=True, check=True)
    before, after = json.loads(plain.stdout), json.loads(filtered.stdout)
    assert before["ptrace"] == "OK" and before["unshare_user"] == "OK"
    assert before["mount"] != "EPERM" or after["mount"] == "EPERM"
    assert after == dict.fromkeys(after, "EPERM")


def test_inside_the_sandbox_ptrace_unshare_mount_and_friends_are_denied(
    bwrap_backend: BubblewrapBackend, policy: PolicyFactory
) -> None:
    code = (
        "import re\n"
        "status = open('/proc/self/status').read()\n"
        "print(re.search(r'Seccomp:\\s*(\\d)', status).group(1))\n" + _probes()
    )
    result = run(py(code), policy(), backend=bwrap_backend)
    assert result.returncode == 0, result.stderr
    mode, probes = result.stdout.decode().splitlines()
    assert mode == "2"  # filter mode
    assert json.loads(probes) == {
        "ptrace": "EPERM",
        "unshare_user": "EPERM",
        "unshare_mount": "EPERM",
        "mount": "EPERM",
        "keyctl": "EPERM",
        "bpf": "EPERM",
    }


NO_PROCESS_ATTEMPTS = """
import ctypes, os, subprocess, sys, threading
marker = {marker!r}
results = []
try:
    pid = os.fork()
    if pid == 0:
        open(marker, 'w').write('forked'); os._exit(0)
    results.append('fork OK')
except OSError as err:
    results.append(f'fork {{err.errno}}')
try:
    subprocess.run([sys.executable, '-c', f'open({{marker!r}}, "w").write("spawned")'])
    results.append('subprocess OK')
except OSError as err:
    results.append(f'subprocess {{err.errno}}')
results.append(f'system {{os.system("echo planted > " + marker)}}')
results.append(f'libc fork {{ctypes.CDLL(None).fork()}}')
box = []
thread = threading.Thread(target=lambda: box.append('thread ran'))
thread.start(); thread.join()
results.extend(box)
print('|'.join(results))
"""


def test_no_process_mode_makes_fork_subprocess_and_system_fail(
    bwrap_backend: BubblewrapBackend, policy: PolicyFactory, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    marker = out / "MARKER"
    code = NO_PROCESS_ATTEMPTS.format(marker=str(marker))
    result = run(py(code), policy(writable=[out], allow_processes=False), backend=bwrap_backend)
    assert result.returncode == 0, result.stderr
    fork, spawn, system, libc_fork, thread = result.stdout.decode().strip().split("|")
    assert (fork, spawn) == ("fork 1", "subprocess 1")  # EPERM
    assert system != "system 0" and libc_fork == "libc fork -1"
    assert thread == "thread ran"  # threads are not processes
    assert not marker.exists()


def test_processes_are_allowed_by_default(
    bwrap_backend: BubblewrapBackend, policy: PolicyFactory
) -> None:
    code = "import subprocess, sys; print(subprocess.run([sys.executable, '-c', 'print(7)'], capture_output=True).stdout)"
    result = run(py(code), policy(), backend=bwrap_backend)
    assert result.returncode == 0 and result.stdout.strip() == b"b'7\\n'", result.stderr


CONFINED = """
import os, socket, sys
print('tmp before', open('/tmp/a', 'w').write('x'))
from kavi_sandbox.confine import confine_self
applied = confine_self()
print('landlock abi', applied.landlock_abi)
def attempt(name, fn):
    try:
        fn()
        print(name, 'OK')
    except OSError as err:
        print(name, err.errno)
attempt('tmp write', lambda: open('/tmp/b', 'w'))
attempt('tmp unlink', lambda: os.unlink('/tmp/a'))
attempt('exec', lambda: os.execv(sys.executable, [sys.executable, '-c', 'pass']))
attempt('fork', os.fork)
attempt('socket', socket.socket)
attempt('signal init', lambda: os.kill(1, 0))
print('dumpable', __import__('ctypes').CDLL(None).prctl(3, 0, 0, 0, 0))
print('read', len(open('/proc/self/status').read()) > 0)
"""


def test_a_child_that_confines_itself_can_no_longer_write_exec_fork_or_open_sockets(
    bwrap_backend: BubblewrapBackend, policy: PolicyFactory
) -> None:
    result = run(py(CONFINED), policy(), backend=bwrap_backend)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert lines[0] == "tmp before 1"
    abi = int(lines[1].split()[-1])
    expected = {
        "tmp write": "13",  # EACCES from Landlock, on a tmpfs the sandbox may otherwise write
        "tmp unlink": "13",
        "exec": "1",  # EPERM from the second seccomp filter
        "fork": "1",
        "socket": "1",
    }
    got = dict(line.rsplit(" ", 1) for line in lines[2:7])
    if abi == 0:
        pytest.fail("this kernel has no Landlock; the no-write layer is missing")
    assert got == expected
    if abi >= 6:
        assert lines[7] == "signal init 1"  # signals outside the Landlock domain are scoped
    assert lines[-2] == "dumpable 0"  # no core dump, no ptrace by the same user
    assert lines[-1] == "read True"


def _header_numbers(header: Path) -> dict[str, int]:
    found = {}
    for line in header.read_text().splitlines():
        match = re.match(r"#define __NR(?:3264)?_(\w+)\s+(\d+)\s*$", line)
        if match:
            found[match.group(1)] = int(match.group(2))
    return found


@pytest.mark.parametrize(
    ("arch", "header"),
    [
        (X86_64, Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")),
        (AARCH64, Path("/usr/include/asm-generic/unistd.h")),
    ],
)
def test_syscall_tables_agree_with_the_kernel_headers(arch: Arch, header: Path) -> None:
    if not header.exists():
        pytest.skip(f"{header} is not installed on this machine")
    numbers = _header_numbers(header)
    wrong = {
        name: (number, numbers[name])
        for name, number in arch.numbers.items()
        if name in numbers and numbers[name] != number
    }
    assert wrong == {}
    assert len(set(arch.numbers) & set(numbers)) >= len(arch.numbers) - 8


def test_programs_are_whole_instructions_and_differ_by_mode() -> None:
    for program in (base_filter(), base_filter(allow_processes=False), no_exec_filter()):
        assert len(program) % 8 == 0 and 0 < len(program) // 8 < 4096
    assert base_filter() != base_filter(allow_processes=False)
    assert no_exec_filter() != no_exec_filter(deny_sockets=True)
