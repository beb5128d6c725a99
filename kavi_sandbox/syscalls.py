"""Native syscall numbers for the architectures the seccomp filter knows (x86_64, aarch64).

Only the syscalls :mod:`kavi_sandbox.seccomp` names; a test checks them against the kernel
headers where those are installed. aarch64 has no ``fork``/``vfork`` (only ``clone``).
"""

from __future__ import annotations

import platform
from dataclasses import dataclass

from kavi_sandbox.errors import SandboxUnavailable


@dataclass(frozen=True)
class Arch:
    """One native syscall ABI: its audit architecture and the numbers this module uses."""

    name: str
    audit_arch: int
    numbers: dict[str, int]
    x32_bit: bool = False


_COMMON_NEW = {  # numbered alike on every architecture since Linux 5.1
    "io_uring_setup": 425,
    "io_uring_enter": 426,
    "io_uring_register": 427,
    "open_tree": 428,
    "move_mount": 429,
    "fsopen": 430,
    "fsconfig": 431,
    "fsmount": 432,
    "fspick": 433,
    "clone3": 435,
    "pidfd_getfd": 438,
    "mount_setattr": 442,
    "quotactl_fd": 443,
}

X86_64 = Arch(
    "x86_64",
    0xC000003E,
    {
        "ioctl": 16,
        "socket": 41,
        "clone": 56,
        "fork": 57,
        "vfork": 58,
        "execve": 59,
        "ptrace": 101,
        "syslog": 103,
        "uselib": 134,
        "personality": 135,
        "vhangup": 153,
        "pivot_root": 155,
        "_sysctl": 156,
        "adjtimex": 159,
        "chroot": 161,
        "acct": 163,
        "settimeofday": 164,
        "mount": 165,
        "umount2": 166,
        "swapon": 167,
        "swapoff": 168,
        "reboot": 169,
        "sethostname": 170,
        "setdomainname": 171,
        "iopl": 172,
        "ioperm": 173,
        "create_module": 174,
        "init_module": 175,
        "delete_module": 176,
        "get_kernel_syms": 177,
        "query_module": 178,
        "quotactl": 179,
        "nfsservctl": 180,
        "lookup_dcookie": 212,
        "clock_settime": 227,
        "kexec_load": 246,
        "add_key": 248,
        "request_key": 249,
        "keyctl": 250,
        "unshare": 272,
        "perf_event_open": 298,
        "name_to_handle_at": 303,
        "open_by_handle_at": 304,
        "clock_adjtime": 305,
        "setns": 308,
        "process_vm_readv": 310,
        "process_vm_writev": 311,
        "kcmp": 312,
        "finit_module": 313,
        "kexec_file_load": 320,
        "bpf": 321,
        "execveat": 322,
        "userfaultfd": 323,
        **_COMMON_NEW,
    },
    x32_bit=True,
)

AARCH64 = Arch(
    "aarch64",
    0xC00000B7,
    {
        "lookup_dcookie": 18,
        "ioctl": 29,
        "umount2": 39,
        "mount": 40,
        "pivot_root": 41,
        "nfsservctl": 42,
        "chroot": 51,
        "vhangup": 58,
        "quotactl": 60,
        "acct": 89,
        "personality": 92,
        "unshare": 97,
        "kexec_load": 104,
        "init_module": 105,
        "delete_module": 106,
        "clock_settime": 112,
        "syslog": 116,
        "ptrace": 117,
        "reboot": 142,
        "sethostname": 161,
        "setdomainname": 162,
        "settimeofday": 170,
        "adjtimex": 171,
        "socket": 198,
        "add_key": 217,
        "request_key": 218,
        "keyctl": 219,
        "clone": 220,
        "execve": 221,
        "swapon": 224,
        "swapoff": 225,
        "perf_event_open": 241,
        "name_to_handle_at": 264,
        "open_by_handle_at": 265,
        "clock_adjtime": 266,
        "setns": 268,
        "process_vm_readv": 270,
        "process_vm_writev": 271,
        "kcmp": 272,
        "finit_module": 273,
        "execveat": 281,
        "bpf": 280,
        "userfaultfd": 282,
        "kexec_file_load": 294,
        **_COMMON_NEW,
    },
)

ARCHES = {"x86_64": X86_64, "amd64": X86_64, "aarch64": AARCH64, "arm64": AARCH64}


def native_arch() -> Arch:
    """The syscall table of this machine, or a clear refusal on an architecture without one."""
    machine = platform.machine().lower()
    arch = ARCHES.get(machine)
    if arch is None:
        raise SandboxUnavailable(
            f"no seccomp syscall table for the {machine or 'unknown'} architecture "
            "(Kavi has x86_64 and aarch64)"
        )
    return arch
