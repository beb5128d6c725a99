"""A Python child confining itself once its interpreter is up, before untrusted code runs.

bubblewrap must ``exec`` the interpreter, so a filter that forbids ``execve`` cannot come
from outside; the child installs it on itself (:func:`confine_self`), irreversibly and for
every thread:

- seccomp: no ``execve``/``execveat``, no ``fork``/``vfork``/``clone`` of a process, no
  ``clone3``; optionally no ``socket`` at all (the broker's descriptor was inherited);
- Landlock: no filesystem writes anywhere, no TCP bind/connect, and (ABI 6+) no abstract
  unix sockets or signals outside the process — see :mod:`kavi_sandbox.landlock`;
- not dumpable: no core dump (which a ``core_pattern`` pipe helper outside the sandbox
  would receive, secrets and all) and no ptrace by another process of the same user;
- optionally its own address-space limit (cheaper than the parent's ``preexec_fn``).

Call it only in a process meant to be locked down: nothing undoes it.
"""

from __future__ import annotations

import ctypes
import resource
from dataclasses import dataclass

from kavi_sandbox import landlock, seccomp
from kavi_sandbox.errors import SandboxUnavailable

_PR_SET_DUMPABLE = 4


@dataclass(frozen=True)
class Confinement:
    """What :func:`confine_self` put in place (for the caller to report or record)."""

    seccomp: bool
    landlock_abi: int
    no_writes: bool
    sockets: bool


def limit_memory(memory_bytes: int) -> None:
    """``RLIMIT_AS`` (and no core dumps) for the calling process and its threads."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def confine_self(
    *, deny_sockets: bool = True, deny_writes: bool = True, memory_bytes: int | None = None
) -> Confinement:
    """Install the no-process/no-exec filter and Landlock on the calling process."""
    if memory_bytes is not None:
        limit_memory(memory_bytes)
    if ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise SandboxUnavailable("prctl(PR_SET_DUMPABLE, 0) failed")
    applied = landlock.restrict_self(no_writes=deny_writes, no_tcp=True, scope=True)
    seccomp.install(seccomp.no_exec_filter(deny_sockets=deny_sockets))
    return Confinement(
        seccomp=True,
        landlock_abi=applied.abi,
        no_writes=applied.no_writes,
        sockets=not deny_sockets,
    )
