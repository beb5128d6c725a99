"""seccomp-BPF programs, assembled here in Python (no libseccomp, no C dependency).

What this layer adds on top of the namespaces: the namespaces decide what a sandboxed process
can *see*; the filter decides which kernel interfaces it can *call at all*. Attack surface
that namespaces leave open (ptrace of a sibling, ``process_vm_*``, new mounts or namespaces,
the keyring, eBPF, perf, userfaultfd, io_uring, kexec, kernel modules, the clock, ``TIOCSTI``)
is refused with ``EPERM`` before the kernel looks at the arguments. A syscall made through
another ABI (i386 ``int 0x80``, x32) kills the process: the tables below describe only the
native one.

Two programs:

- :func:`base_filter` — bubblewrap loads it (``--seccomp FD``) just before it executes the
  command, so it covers the whole sandboxed tree. With ``allow_processes=False`` it also
  refuses ``fork``, ``vfork``, ``clone`` without ``CLONE_THREAD`` and ``clone3`` (``ENOSYS``,
  so glibc falls back to ``clone`` for threads): the command can run threads, not processes.
- :func:`no_exec_filter` — installed from *inside* a Python child once the interpreter is up
  (:func:`install`, through ``prctl``/``seccomp`` via ctypes): it adds ``execve``/``execveat``
  (bubblewrap itself must exec the interpreter, so these cannot be in the first filter) and,
  optionally, ``socket``. Filters stack; a process can only ever add restrictions.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct
from collections.abc import Iterable, Sequence

from kavi_sandbox.errors import SandboxUnavailable
from kavi_sandbox.syscalls import Arch, native_arch

# struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6]
_OFF_NR = 0
_OFF_ARCH = 4
_OFF_ARG0_LO = 16
_OFF_ARG1_LO = 24

# classic BPF opcodes
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_JSET_K = 0x45
_RET_K = 0x06

SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000

CLONE_THREAD = 0x00010000
# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME
CLONE_NAMESPACE_FLAGS = (
    0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x80
)
TIOCSTI = 0x5412
TIOCLINUX = 0x541C
PERSONA_LINUX = 0x0
PERSONA_QUERY = 0xFFFFFFFF
X32_SYSCALL_BIT = 0x40000000


DENIED_ALWAYS = (
    # other processes' memory and state
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "pidfd_getfd",
    # mounts, namespaces, root changes
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    # the kernel keyring
    "keyctl",
    "add_key",
    "request_key",
    # kernel attack surface with a history
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "name_to_handle_at",
    "open_by_handle_at",
    "lookup_dcookie",
    "uselib",
    # the machine itself
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "create_module",
    "get_kernel_syms",
    "query_module",
    "acct",
    "swapon",
    "swapoff",
    "reboot",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "syslog",
    "quotactl",
    "quotactl_fd",
    "nfsservctl",
    "_sysctl",
    "iopl",
    "ioperm",
    "vhangup",
    "sethostname",
    "setdomainname",
)
DENIED_PROCESS_CREATION = ("fork", "vfork")
DENIED_EXEC = ("execve", "execveat")


class _Program:
    """A tiny assembler: instructions with symbolic forward jumps, resolved at the end."""

    def __init__(self) -> None:
        self._code: list[tuple[int, object, object, int]] = []
        self._labels: dict[str, int] = {}

    def load(self, offset: int) -> None:
        self._code.append((_LD_W_ABS, 0, 0, offset))

    def jump(self, op: int, k: int, if_true: str | int, if_false: str | int) -> None:
        self._code.append((op, if_true, if_false, k))

    def ret(self, value: int) -> None:
        self._code.append((_RET_K, 0, 0, value))

    def label(self, name: str) -> None:
        self._labels[name] = len(self._code)

    def assemble(self) -> bytes:
        out = bytearray()
        for index, (op, jt, jf, k) in enumerate(self._code):
            out += struct.pack("=HBBI", op, self._offset(index, jt), self._offset(index, jf), k)
        return bytes(out)

    def _offset(self, index: int, target: object) -> int:
        if isinstance(target, int):
            return target
        distance = self._labels[str(target)] - index - 1
        if not 0 <= distance <= 255:
            raise ValueError(f"seccomp jump to {target} out of range ({distance})")
        return distance


def _errno(code: int) -> int:
    return SECCOMP_RET_ERRNO | (code & 0xFFFF)


def _build(
    arch: Arch, deny: Iterable[str], *, threads_only: bool, extra_enosys: Sequence[str]
) -> bytes:
    prog = _Program()
    eperm = _errno(errno.EPERM)
    prog.load(_OFF_ARCH)
    prog.jump(_JEQ_K, arch.audit_arch, 1, 0)
    prog.ret(SECCOMP_RET_KILL_PROCESS)
    prog.load(_OFF_NR)
    if arch.x32_bit:
        prog.jump(_JGE_K, X32_SYSCALL_BIT, "kill", 0)
    numbers = sorted({arch.numbers[name] for name in deny if name in arch.numbers})
    for number in numbers:
        prog.jump(_JEQ_K, number, "deny", 0)
    for name in extra_enosys:
        if name in arch.numbers:
            prog.jump(_JEQ_K, arch.numbers[name], "enosys", 0)
    # clone: threads only (no CLONE_THREAD means a new process), and never new namespaces
    prog.jump(_JEQ_K, arch.numbers["clone"], 0, "not_clone")
    prog.load(_OFF_ARG0_LO)
    prog.jump(_JSET_K, CLONE_NAMESPACE_FLAGS, "deny", 0)
    if threads_only:
        prog.jump(_JSET_K, CLONE_THREAD, "allow", "deny")
    else:
        prog.ret(SECCOMP_RET_ALLOW)
    prog.label("not_clone")
    # ioctl: no faking terminal input (TIOCSTI) or the console's TIOCLINUX
    prog.jump(_JEQ_K, arch.numbers["ioctl"], 0, "not_ioctl")
    prog.load(_OFF_ARG1_LO)
    prog.jump(_JEQ_K, TIOCSTI, "deny", 0)
    prog.jump(_JEQ_K, TIOCLINUX, "deny", "allow")
    prog.label("not_ioctl")
    # personality: only the default persona (or a query); no switching ASLR off
    prog.jump(_JEQ_K, arch.numbers["personality"], 0, "allow")
    prog.load(_OFF_ARG0_LO)
    prog.jump(_JEQ_K, PERSONA_LINUX, "allow", 0)
    prog.jump(_JEQ_K, PERSONA_QUERY, "allow", "deny")
    prog.label("allow")
    prog.ret(SECCOMP_RET_ALLOW)
    prog.label("deny")
    prog.ret(eperm)
    prog.label("enosys")
    prog.ret(_errno(errno.ENOSYS))
    prog.label("kill")
    prog.ret(SECCOMP_RET_KILL_PROCESS)
    return prog.assemble()


def base_filter(*, allow_processes: bool = True, arch: Arch | None = None) -> bytes:
    """The program bubblewrap loads for the whole sandbox (raw ``struct sock_filter`` array)."""
    deny = list(DENIED_ALWAYS)
    if not allow_processes:
        deny += DENIED_PROCESS_CREATION
    # clone3's flags sit behind a pointer the filter cannot read (a thread, a process or new
    # namespaces?): ENOSYS makes glibc fall back to clone, whose flags it can check.
    return _build(
        arch or native_arch(), deny, threads_only=not allow_processes, extra_enosys=["clone3"]
    )


def no_exec_filter(*, deny_sockets: bool = False, arch: Arch | None = None) -> bytes:
    """The second program, installed by a Python child on itself: no processes, no exec."""
    deny = [*DENIED_ALWAYS, *DENIED_PROCESS_CREATION, *DENIED_EXEC]
    if deny_sockets:
        deny.append("socket")
    return _build(arch or native_arch(), deny, threads_only=True, extra_enosys=["clone3"])


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


PR_SET_NO_NEW_PRIVS = 38
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_TSYNC = 1
_SYS_SECCOMP = {"x86_64": 317, "aarch64": 277}


def install(program: bytes) -> None:
    """Load ``program`` on this process, every thread (``TSYNC``); irreversible.

    Sets ``no_new_privs`` first (required for an unprivileged filter).
    """
    arch = native_arch()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        code = ctypes.get_errno()
        raise SandboxUnavailable(f"prctl(PR_SET_NO_NEW_PRIVS) failed: {os.strerror(code)}")
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    result = libc.syscall(
        ctypes.c_long(_SYS_SECCOMP[arch.name]),
        ctypes.c_long(SECCOMP_SET_MODE_FILTER),
        ctypes.c_long(SECCOMP_FILTER_FLAG_TSYNC),
        ctypes.byref(fprog),
    )
    if result != 0:
        code = ctypes.get_errno()
        raise SandboxUnavailable(f"seccomp(SET_MODE_FILTER) failed: {os.strerror(code)}")
