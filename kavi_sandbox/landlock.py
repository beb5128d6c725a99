"""Landlock, through ctypes: an unprivileged process restricting itself, irreversibly.

What it adds inside a bubblewrap sandbox (where it is a second layer, not the first):

- no filesystem writes at all, even where a bind mount or a private tmpfs would allow one
  (``/tmp``, the empty home, a writable path): every write-type access right is *handled*
  and no rule grants any of them back;
- (ABI 4+) no TCP ``bind``/``connect``, whatever the network namespace holds;
- (ABI 6+) scoping: no connecting to abstract unix sockets and no signals to processes
  outside the Landlock domain, which matters when the sandbox shares the host's network
  (abstract sockets live in the network namespace) or runs without bubblewrap.

Reads are left alone: what can be read is decided by what the sandbox mounts.
"""

from __future__ import annotations

import ctypes
import errno
import os
from dataclasses import dataclass

from kavi_sandbox.errors import SandboxUnavailable

_SYS_CREATE_RULESET = 444  # the same on every architecture (added in Linux 5.13)
_SYS_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1
_PR_SET_NO_NEW_PRIVS = 38

FS_WRITE_FILE = 1 << 1
FS_REMOVE_DIR = 1 << 4
FS_REMOVE_FILE = 1 << 5
FS_MAKE_CHAR = 1 << 6
FS_MAKE_DIR = 1 << 7
FS_MAKE_REG = 1 << 8
FS_MAKE_SOCK = 1 << 9
FS_MAKE_FIFO = 1 << 10
FS_MAKE_BLOCK = 1 << 11
FS_MAKE_SYM = 1 << 12
FS_REFER = 1 << 13  # ABI 2
FS_TRUNCATE = 1 << 14  # ABI 3
FS_IOCTL_DEV = 1 << 15  # ABI 5
NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1

_WRITES_V1 = (
    FS_WRITE_FILE
    | FS_REMOVE_DIR
    | FS_REMOVE_FILE
    | FS_MAKE_CHAR
    | FS_MAKE_DIR
    | FS_MAKE_REG
    | FS_MAKE_SOCK
    | FS_MAKE_FIFO
    | FS_MAKE_BLOCK
    | FS_MAKE_SYM
)


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


@dataclass(frozen=True)
class LandlockApplied:
    """What :func:`restrict_self` enforced (ABI 0 means the kernel has no Landlock)."""

    abi: int
    no_writes: bool
    no_tcp: bool
    scoped: bool


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def abi_version() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is absent or disabled."""
    result = _libc().syscall(
        ctypes.c_long(_SYS_CREATE_RULESET),
        ctypes.c_void_p(None),
        ctypes.c_size_t(0),
        ctypes.c_uint32(_CREATE_RULESET_VERSION),
    )
    return max(int(result), 0)


def write_rights(abi: int) -> int:
    """Every write-type filesystem right the given ABI knows."""
    rights = _WRITES_V1
    if abi >= 2:
        rights |= FS_REFER
    if abi >= 3:
        rights |= FS_TRUNCATE
    if abi >= 5:
        rights |= FS_IOCTL_DEV
    return rights


def restrict_self(
    *, no_writes: bool = True, no_tcp: bool = True, scope: bool = True
) -> LandlockApplied:
    """Restrict this process (all later children too) as far as the kernel's ABI allows.

    Raises :class:`SandboxUnavailable` only when Landlock exists and applying it fails; on a
    kernel without Landlock it returns ``abi=0`` and the caller decides (it is an extra layer).
    """
    abi = abi_version()
    if abi == 0:
        return LandlockApplied(0, False, False, False)
    attr = _RulesetAttr(
        write_rights(abi) if no_writes else 0,
        (NET_BIND_TCP | NET_CONNECT_TCP) if (no_tcp and abi >= 4) else 0,
        (SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL) if (scope and abi >= 6) else 0,
    )
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    if not (attr.handled_access_fs or attr.handled_access_net or attr.scoped):
        return LandlockApplied(abi, False, False, False)
    libc = _libc()
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise SandboxUnavailable(f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(ctypes.get_errno())}")
    fd = libc.syscall(
        ctypes.c_long(_SYS_CREATE_RULESET),
        ctypes.byref(attr),
        ctypes.c_size_t(size),
        ctypes.c_uint32(0),
    )
    if fd < 0:
        code = ctypes.get_errno()
        raise SandboxUnavailable(
            f"landlock_create_ruleset failed: {errno.errorcode.get(code, code)}"
        )
    try:
        if (
            libc.syscall(ctypes.c_long(_SYS_RESTRICT_SELF), ctypes.c_int(fd), ctypes.c_uint32(0))
            != 0
        ):
            code = ctypes.get_errno()
            raise SandboxUnavailable(
                f"landlock_restrict_self failed: {errno.errorcode.get(code, code)}"
            )
    finally:
        os.close(fd)
    return LandlockApplied(
        abi, bool(attr.handled_access_fs), bool(attr.handled_access_net), bool(attr.scoped)
    )
