"""Clear refusals inside a skill's child: an audit hook and guarded environment mappings.

This layer explains; it does not enforce. The OS layers (bubblewrap, seccomp, Landlock)
are what stop a skill that goes around Python (``ctypes``, a C extension): they refuse the
same moves with a bare ``EPERM``/``EACCES``/``EROFS``. Here the refusal names the attempt
and what the skill's class grants, so the execution record says what the skill tried.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_PROCESS_EVENTS = {
    "os.system": "os.system",
    "subprocess.Popen": "subprocess",
    "os.exec": "os.exec*",
    "os.posix_spawn": "os.posix_spawn",
    "os.spawn": "os.spawn*",
    "os.fork": "os.fork",
    "os.forkpty": "os.forkpty",
    "pty.spawn": "pty.spawn",
}
_SOCKET_EVENTS = ("socket.__new__", "socket.connect", "socket.bind", "socket.getaddrinfo")
_FS_EVENTS = (
    "os.remove",
    "os.rename",
    "os.mkdir",
    "os.rmdir",
    "os.link",
    "os.symlink",
    "os.truncate",
    "os.chmod",
    "os.chown",
    "os.utime",
    "os.mkfifo",
    "os.mknod",
    "shutil.rmtree",
    "shutil.copyfile",
    "shutil.move",
)


class CapabilityDenied(PermissionError):
    """A skill tried something its side-effect class does not grant."""


def _describe(event: str, args: tuple[Any, ...]) -> str:
    """``event 'first argument'``, cut to a readable length."""
    if not args:
        return event
    text = repr(args[0])
    return f"{event} {text if len(text) <= 120 else text[:117] + '...'}"


def install_audit_hook(skill: str, side_effect_class: str) -> None:
    """Refuse, with a message naming the attempt, every process, socket and file write."""
    who = f"{skill} ({side_effect_class})"

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in _PROCESS_EVENTS:
            raise CapabilityDenied(
                f"{who} tried to start a process ({_describe(_PROCESS_EVENTS[event], args)}): "
                "no skill may start processes"
            )
        if event in _SOCKET_EVENTS:
            raise CapabilityDenied(
                f"{who} tried to open a socket ({_describe(event, args)}): skills reach the "
                "network only through self.context.http, which NETWORK skills get"
            )
        if event == "open" and len(args) >= 3:
            flags = args[2] if isinstance(args[2], int) else 0
            mode = args[1] if isinstance(args[1], str) else ""
            if flags & _WRITE_FLAGS or any(c in mode for c in "wax+"):
                raise CapabilityDenied(
                    f"{who} tried to write a file ({_describe('open', args)}): skills write only "
                    "through self.context.files, which FILE_WRITE skills get"
                )
        if event in _FS_EVENTS:
            raise CapabilityDenied(
                f"{who} tried to change the file system ({_describe(event, args)}): skills "
                "write only through self.context.files, which FILE_WRITE skills get"
            )
        if event in ("os.kill", "os.killpg", "signal.pthread_kill"):
            raise CapabilityDenied(f"{who} tried to send a signal ({_describe(event, args)})")

    sys.addaudithook(hook)


class DeclaredSecrets(Mapping[str, str]):
    """``self.context.secrets``: the declared secrets; any other name is a clear refusal."""

    def __init__(self, skill: str, values: Mapping[str, str]) -> None:
        self._skill = skill
        self._values = dict(values)

    def __getitem__(self, name: str) -> str:
        if name not in self._values:
            declared = ", ".join(sorted(self._values)) or "none"
            raise KeyError(
                f"secret {name!r} is not declared by {self._skill}'s trusted registry entry "
                f"(declared: {declared}); undeclared secrets never reach a skill"
            )
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class GuardedEnviron(MutableMapping[str, str]):
    """``os.environ`` of the child: what the sandbox built (the declared secrets and a few
    settings); reading any other variable by ``os.environ[name]`` says why it is absent."""

    def __init__(self, skill: str, inner: MutableMapping[str, str], declared: tuple[str, ...]):
        self._skill = skill
        self._inner = inner
        self._declared = declared

    def __getitem__(self, name: str) -> str:
        try:
            return self._inner[name]
        except KeyError:
            declared = ", ".join(self._declared) or "none"
            raise KeyError(
                f"environment variable {name!r} is not available to {self._skill}: a skill's "
                f"environment holds only the secrets its trusted entry declares ({declared})"
            ) from None

    def __setitem__(self, name: str, value: str) -> None:
        self._inner[name] = value

    def __delitem__(self, name: str) -> None:
        del self._inner[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._inner)

    def __len__(self) -> int:
        return len(self._inner)

    def copy(self) -> dict[str, str]:
        """A plain dict, like ``os.environ.copy()``."""
        return dict(self._inner)


def guard_environment(skill: str, declared: tuple[str, ...]) -> None:
    """Replace ``os.environ`` with a :class:`GuardedEnviron` over the real one."""
    # Replacing (not clearing) is the point: the values stay, the refusals get a message.
    os.environ = GuardedEnviron(skill, os.environ, declared)  # type: ignore[assignment]  # noqa: B003
