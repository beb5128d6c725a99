"""What a sandboxed process may see and do: one frozen policy, validated when built.

Plain frozen dataclasses rather than pydantic models: a sandboxed Python child imports this
package before anything else, and it must stay a stdlib-only leaf.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath, PurePosixPath
from types import MappingProxyType
from typing import Literal

from kavi_sandbox.errors import PolicyError

Network = Literal["none", "host"]
NETWORK_MODES: tuple[Network, ...] = ("none", "host")
SANDBOX_HOME = PurePosixPath("/home/sandbox")
"""An empty tmpfs in every sandbox; a caller that wants ``HOME`` set puts it in ``env``."""
SANDBOX_TMP = PurePosixPath("/tmp")
"""A private tmpfs in every sandbox."""


@dataclass(frozen=True)
class Limits:
    """Resource limits; ``None`` means not limited by this layer.

    - ``wall_time`` (seconds): the whole sandbox (every process in it) is killed after it.
    - ``memory_bytes``: ``RLIMIT_AS`` of every process in it (address space, so leave room
      for shared libraries and thread stacks). Applied between fork and exec, which costs a
      large caller a full ``fork``; a Python child may apply it itself instead
      (:func:`kavi_sandbox.confine.confine_self`) and leave it ``None`` here.
    - ``processes``: ``RLIMIT_NPROC``. Linux counts it per real user across the machine and
      does not apply it to root, so it bounds a fork bomb where it is enforceable; a process
      that must not start processes at all uses ``allow_processes=False`` (seccomp) instead.
    - ``output_bytes``: stdout and stderr are each captured up to this many bytes; a process
      that writes more is killed and reported as such.
    """

    wall_time: float | None = 60.0
    memory_bytes: int | None = 2 << 30
    processes: int | None = None
    output_bytes: int = 1 << 20

    def __post_init__(self) -> None:
        for name in ("wall_time", "memory_bytes", "processes"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise PolicyError(f"limit {name} must be positive, got {value!r}")
        if self.output_bytes <= 0:
            raise PolicyError(f"limit output_bytes must be positive, got {self.output_bytes!r}")


def _absolute(path: str | os.PathLike[str], what: str) -> PurePosixPath:
    text = os.fspath(path)
    if not text or "\0" in text:
        raise PolicyError(f"{what} path {text!r} is empty or contains NUL")
    pure = PurePosixPath(text)
    if not pure.is_absolute():
        raise PolicyError(f"{what} path {text!r} must be absolute")
    if ".." in pure.parts:
        raise PolicyError(f"{what} path {text!r} must not contain '..'")
    return PurePosixPath(os.path.normpath(text))


def _paths(paths: Iterable[str | os.PathLike[str]], what: str) -> tuple[PurePosixPath, ...]:
    return tuple(sorted({_absolute(p, what) for p in paths}, key=lambda p: (len(p.parts), p)))


def is_within(path: PurePath, root: PurePath) -> bool:
    """True when ``path`` is ``root`` or lies below it (lexically)."""
    return path == root or root in path.parents


@dataclass(frozen=True)
class SandboxPolicy:
    """Everything a sandboxed process gets; anything not listed is invisible or refused.

    - ``read_only``: paths bound read-only at the same path.
    - ``writable``: paths bound read-write at the same path.
    - ``masked``: paths hidden even when they lie under a visible one (an empty tmpfs over a
      directory, an empty file over a file). A visible path may not lie under a masked one.
    - ``network``: ``none`` (a fresh network namespace: no interfaces but a down loopback)
      or ``host`` (the host's network).
    - ``env``: the whole environment, exactly; nothing is inherited.
    - ``cwd``: the working directory (default: the empty ``/home/sandbox``).
    - ``limits``: see :class:`Limits`.
    - ``allow_processes``: False adds a seccomp rule refusing fork/vfork/clone of a process.
    - ``pass_fds``: extra descriptors passed through at the same number (e.g. a broker pipe).
    """

    read_only: tuple[PurePath, ...] = ()
    writable: tuple[PurePath, ...] = ()
    masked: tuple[PurePath, ...] = ()
    network: Network = "none"
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: PurePath = SANDBOX_HOME
    limits: Limits = field(default_factory=Limits)
    allow_processes: bool = True
    pass_fds: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        read_only = _paths(self.read_only, "read-only")
        writable = _paths(self.writable, "writable")
        masked = _paths(self.masked, "masked")
        object.__setattr__(self, "read_only", read_only)
        object.__setattr__(self, "writable", writable)
        object.__setattr__(self, "masked", masked)
        object.__setattr__(self, "cwd", _absolute(self.cwd, "cwd"))
        if self.network not in NETWORK_MODES:
            raise PolicyError(f"network {self.network!r} is not one of {', '.join(NETWORK_MODES)}")
        both = set(read_only) & set(writable)
        if both:
            raise PolicyError(f"{sorted(map(str, both))[0]} is both read-only and writable")
        for visible in (*read_only, *writable):
            for hidden in masked:
                if is_within(visible, hidden):
                    raise PolicyError(f"{visible} is visible but lies under masked {hidden}")
            if is_within(visible, SANDBOX_HOME) or is_within(SANDBOX_HOME, visible):
                raise PolicyError(
                    f"{visible} would cover the sandbox's home {SANDBOX_HOME}, "
                    "an empty private tmpfs in every sandbox"
                )
            if visible == SANDBOX_TMP:
                raise PolicyError(
                    f"{SANDBOX_TMP} is a private tmpfs in every sandbox; bind a directory below it"
                )
        env = dict(self.env)
        for key, value in env.items():
            if not key or "=" in key or "\0" in key or "\0" in value:
                raise PolicyError(f"environment variable {key!r} is not a valid name/value")
        object.__setattr__(self, "env", MappingProxyType(env))
        if not self.cwd_visible():
            raise PolicyError(f"cwd {self.cwd} is not a visible path of the policy")
        if any(fd < 3 for fd in self.pass_fds):
            raise PolicyError("pass_fds are extra descriptors (3 and above)")
        object.__setattr__(self, "pass_fds", tuple(sorted(set(self.pass_fds))))

    def cwd_visible(self) -> bool:
        """True when ``cwd`` lies in a visible (and not masked) path or a private tmpfs."""
        roots = (*self.read_only, *self.writable, SANDBOX_HOME, SANDBOX_TMP)
        visible = any(is_within(self.cwd, root) for root in roots)
        return visible and not any(is_within(self.cwd, hidden) for hidden in self.masked)
