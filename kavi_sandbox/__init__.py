"""Kavi's OS sandbox layer: a policy, a bubblewrap backend, seccomp and Landlock layers.

A leaf package: it imports no other Kavi package (the repository checks this with its own
contracts), so every part of Kavi, and a sandboxed child before anything else, can use it.

Layers, outermost first:

1. bubblewrap (:mod:`kavi_sandbox.bwrap`) — namespaces: what exists for the process at all.
2. seccomp (:mod:`kavi_sandbox.seccomp`) — which kernel interfaces it may call; with
   ``allow_processes=False``, no new processes.
3. in-child confinement (:mod:`kavi_sandbox.confine`) — a Python child locks itself further
   once its interpreter is up: no exec, optionally no sockets, Landlock (no writes, scoping).

Where no sandbox can start, :func:`select_backend` raises :class:`SandboxUnavailable` with
the fix; the only way around it is asking for the ``none`` backend, which callers record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kavi_sandbox.backend import (
        Backend,
        BubblewrapBackend,
        NoSandboxBackend,
        run,
        select_backend,
    )
    from kavi_sandbox.errors import PolicyError, SandboxError, SandboxUnavailable
    from kavi_sandbox.interpreter import package_dir, python_read_only_paths
    from kavi_sandbox.policy import SANDBOX_HOME, SANDBOX_TMP, Limits, Network, SandboxPolicy
    from kavi_sandbox.process import SandboxedProcess, SandboxResult

# Imported on first use: a sandboxed child imports kavi_sandbox.confine first thing, and
# should not pay for subprocess, threading and the rest of the parent's side.
_WHERE = {
    "Backend": "backend",
    "BubblewrapBackend": "backend",
    "NoSandboxBackend": "backend",
    "run": "backend",
    "select_backend": "backend",
    "PolicyError": "errors",
    "SandboxError": "errors",
    "SandboxUnavailable": "errors",
    "package_dir": "interpreter",
    "python_read_only_paths": "interpreter",
    "SANDBOX_HOME": "policy",
    "SANDBOX_TMP": "policy",
    "Limits": "policy",
    "Network": "policy",
    "SandboxPolicy": "policy",
    "SandboxedProcess": "process",
    "SandboxResult": "process",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'kavi_sandbox' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"kavi_sandbox.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "SANDBOX_HOME",
    "SANDBOX_TMP",
    "Backend",
    "BubblewrapBackend",
    "Limits",
    "Network",
    "NoSandboxBackend",
    "PolicyError",
    "SandboxError",
    "SandboxPolicy",
    "SandboxResult",
    "SandboxUnavailable",
    "SandboxedProcess",
    "package_dir",
    "python_read_only_paths",
    "run",
    "select_backend",
]
