"""``process: deny``: what starts a process, by qualified name."""

from __future__ import annotations

_OS_EXEC = [f"os.exec{s}" for s in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")]
_OS_SPAWN = [f"os.spawn{s}" for s in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")]

PROCESS_MODULES = frozenset(
    {
        "subprocess",
        "_posixsubprocess",
        "pty",
        "multiprocessing",
        "asyncio.subprocess",
        "concurrent.futures.process",
        "webbrowser",
        "popen2",
        "commands",
        "pexpect",
        "sh",
        "plumbum",
        "distutils.spawn",
        "_winapi",
        "venv",
        "ensurepip",
        "antigravity",
        "pydoc",
        "pip",
    }
)
PROCESS_FUNCTIONS = frozenset(
    {
        "os.system",
        "os.popen",
        "os.popen2",
        "os.popen3",
        "os.popen4",
        "os.fork",
        "os.forkpty",
        "os.startfile",
        "os.posix_spawn",
        "os.posix_spawnp",
        "os.plock",
        *_OS_EXEC,
        *_OS_SPAWN,
        *(
            f"{mod}.{name.split('.', 1)[1]}"
            for mod in ("posix", "nt")
            for name in (
                "os.system",
                "os.popen",
                "os.fork",
                "os.forkpty",
                "os.posix_spawn",
                "os.posix_spawnp",
                "os.startfile",
                *_OS_EXEC,
                *_OS_SPAWN,
            )
        ),
        "asyncio.create_subprocess_exec",
        "asyncio.create_subprocess_shell",
        "concurrent.futures.ProcessPoolExecutor",
        "platform.popen",
    }
)
# Event-loop methods reached on objects we cannot type (``loop.subprocess_exec(...)``).
PROCESS_METHODS = frozenset({"subprocess_exec", "subprocess_shell"})
