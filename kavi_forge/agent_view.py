"""What the coding agent sees in its sandbox: the copy, its own program, its login, no more.

- the sandbox copy of the repository: writable, its working directory;
- the system read-only: ``/usr``, ``/bin``, ``/sbin``, ``/lib*`` and the ``/etc`` files the
  loader, name resolution and TLS read (no other ``/etc``);
- its program: the executable found on PATH and the file that resolves to, and the
  interpreter a script's ``#!`` line names, each through its directory read-only — through
  the installation prefix instead when that directory is a ``bin/`` (a Python's stdlib,
  node's ``lib/node_modules``), unless the prefix is the home directory or one of its
  direct children (``~/.local`` holds far more than a program);
- the paths ``forge.agent_paths`` names (its login, e.g. ``~/.claude``), as configured.

Nothing it gets may expose the real repository, Kavi's data, config, cache or vault
directories, the sandbox's baseline, or the whole home directory: a program directory that
would is narrowed to the file itself; a configured path that would is refused (exit 2).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

from kavi_forge.errors import AgentConfigError, AgentNotInstalled
from kavi_gates.config import AgentPath
from kavi_sandbox import SANDBOX_HOME, SANDBOX_TMP, Limits, Network, SandboxPolicy

SYSTEM_READ_ONLY = (
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/localtime",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/host.conf",
    "/etc/gai.conf",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/pki",
)
AGENT_OUTPUT = 8 << 20
"""Bytes of stdout (and of stderr) the agent may write before it is stopped."""


def _within(path: PurePath, root: PurePath) -> bool:
    return path == root or root in path.parents


@dataclass(frozen=True)
class Protected:
    """What no bind may expose: ``whole`` paths (neither they, their insides, nor an ancestor
    of them) and ``home`` (neither it nor an ancestor; paths inside it are fine)."""

    whole: tuple[tuple[str, Path], ...]
    home: Path | None

    def conflict(self, path: Path) -> str | None:
        """What binding ``path`` would expose, or None."""
        real = Path(os.path.realpath(path))
        for what, root in self.whole:
            if _within(real, root) or _within(root, real):
                return f"{what} {root}"
        if self.home is not None and _within(self.home, real):
            return f"the home directory {self.home}"
        if real in (Path(SANDBOX_TMP), Path(SANDBOX_HOME)) or _within(Path(SANDBOX_HOME), real):
            return f"{real}, which is private to every sandbox"
        return None


def protected_paths(
    repository: Path, storage: Iterable[Path], home: Path | None, workspace: Path | None = None
) -> Protected:
    """The repository, Kavi's storage directories, the sandbox workspace and the home."""
    whole = [("the repository", repository)]
    whole += [("Kavi's storage directory", p) for p in storage]
    if workspace is not None:
        whole.append(("the sandbox workspace (its baseline)", workspace))
    resolved = tuple((what, Path(os.path.realpath(p))) for what, p in whole)
    return Protected(resolved, Path(os.path.realpath(home)) if home is not None else None)


def _interpreters(script: Path, search_path: str) -> list[Path]:
    """The interpreter files a ``#!`` line names (``env NAME`` resolved on ``search_path``)."""
    try:
        with script.open("rb") as handle:
            head = handle.read(512)
    except OSError:
        return []
    if not head.startswith(b"#!"):
        return []
    words = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").split()
    if not words:
        return []
    found = [Path(words[0])]
    if os.path.basename(words[0]) == "env":
        names = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
        located = shutil.which(names[0], path=search_path) if names else None
        if located is not None:
            found.append(Path(os.path.abspath(located)))
    return found + [Path(os.path.realpath(p)) for p in found]


def _bind_for(file: Path, protected: Protected, home: Path | None) -> Path:
    """The widest of prefix, directory, file that exposes nothing protected."""
    directory = file.parent
    prefix = directory.parent
    candidates: list[Path] = []
    too_wide = home is not None and home in (prefix, prefix.parent)
    if directory.name == "bin" and not too_wide:
        candidates.append(prefix)
    candidates += [directory, file]
    for candidate in candidates:
        if protected.conflict(candidate) is None:
            return candidate
    raise AgentConfigError(
        f"the agent program {file} would expose {protected.conflict(file)} to the agent; "
        "install the agent outside the repository and Kavi's storage"
    )


def program_binds(
    argv0: str, search_path: str, protected: Protected, home: Path | None
) -> tuple[str, tuple[Path, ...]]:
    """The absolute executable to start and the read-only paths that make it run."""
    located = shutil.which(argv0, path=search_path)
    if located is None:
        raise AgentNotInstalled(
            f"agent command {argv0!r} is not installed (not found on PATH); install it, "
            "or pass --agent CMD / set forge.agent in kavi.yaml or [tool.kavi.forge]"
        )
    executable = Path(os.path.abspath(located))
    files = [executable, Path(os.path.realpath(executable))]
    files += _interpreters(files[-1], search_path)
    binds = {_bind_for(f, protected, home) for f in files if os.path.lexists(f)}
    return str(executable), tuple(sorted(binds))


def expand(entry: AgentPath, home: Path | None) -> Path:
    """``~/x`` against the user's home (an absolute path stays as it is)."""
    if entry.path.startswith("~/"):
        if home is None:
            raise AgentConfigError(f"forge.agent_paths: {entry.path} needs HOME to be set")
        return home / entry.path[2:]
    return Path(entry.path)


@dataclass(frozen=True)
class AgentView:
    """The agent's sandbox, resolved once per build before anything runs."""

    executable: str
    read_only: tuple[Path, ...]
    writable: tuple[Path, ...]
    missing: tuple[str, ...]
    """Configured agent paths that do not exist (not bound; named in the build log)."""

    def policy(
        self,
        copy: Path,
        env: Mapping[str, str],
        *,
        network: Network,
        timeout: float,
        protected: Protected,
    ) -> SandboxPolicy:
        """The policy for one run in ``copy`` (every bind re-checked, the workspace too)."""
        for path in (*self.read_only, *self.writable):
            exposed = protected.conflict(path)
            if exposed is not None:
                raise AgentConfigError(f"{path} would expose {exposed} to the agent")
        writable = (copy, *self.writable)
        system = tuple(Path(p) for p in SYSTEM_READ_ONLY if os.path.lexists(p))
        read_only = tuple(p for p in {*system, *self.read_only} if p not in writable)
        return SandboxPolicy(
            read_only=read_only,
            writable=writable,
            network=network,
            env=env,
            cwd=copy,
            limits=Limits(wall_time=timeout, memory_bytes=None, output_bytes=AGENT_OUTPUT),
        )


def resolve_view(
    argv0: str,
    *,
    search_path: str,
    configured: Sequence[AgentPath],
    protected: Protected,
    home: Path | None,
) -> AgentView:
    """The agent's program and configured paths, refused when they would expose too much."""
    executable, binds = program_binds(argv0, search_path, protected, home)
    read_only: list[Path] = list(binds)
    writable: list[Path] = []
    missing: list[str] = []
    for entry in configured:
        path = expand(entry, home)
        if not os.path.lexists(path):
            missing.append(entry.path)
            continue
        exposed = protected.conflict(path)
        if exposed is not None:
            raise AgentConfigError(f"forge.agent_paths: {entry.path} would expose {exposed}")
        (writable if entry.mode == "rw" else read_only).append(path)
    return AgentView(
        executable,
        tuple(p for p in read_only if p not in writable),
        tuple(writable),
        tuple(missing),
    )


def agent_environment(
    environ: Mapping[str, str], names: Iterable[str], withhold: Iterable[str]
) -> tuple[dict[str, str], tuple[str, ...]]:
    """The agent's whole environment: exactly ``names`` from ``environ``, never a name in
    ``withhold`` (a declared skill secret); HOME is the sandbox's empty home unless listed.

    Returns the environment and the listed names that were withheld."""
    blocked = set(withhold)
    wanted = list(dict.fromkeys(names))
    env = {n: environ[n] for n in wanted if n in environ and n not in blocked}
    env.setdefault("HOME", str(SANDBOX_HOME))
    return env, tuple(sorted(n for n in wanted if n in blocked))
