"""``process: deny``: what starts, signals or runs beside the current process (another
process or another interpreter), by qualified name."""

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
        # Other interpreters in this process run code of their own (PEP 554/734).
        "_xxsubinterpreters",
        "_xxinterpchannels",
        "_interpreters",
        "_interpchannels",
        "_interpqueues",
        "interpreters",
        "concurrent.interpreters",
        # Third-party process runners.
        "invoke",
        "ptyprocess",
        "sarge",
        "delegator",
        "envoy",
        "nmap",
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
        # Signals to other processes.
        "os.kill",
        "os.killpg",
        "posix.kill",
        "posix.killpg",
        "nt.kill",
        "signal.pidfd_send_signal",
        # platform.py runs ``uname -p`` (processor(), platform(), a uname() result read as a
        # tuple) and ``file -b EXECUTABLE`` (architecture()); Windows' ``ver`` (win32_ver()).
        "platform.processor",
        "platform.platform",
        "platform.uname",
        "platform.architecture",
        "platform.win32_ver",
        "platform._syscmd_ver",
        "platform._syscmd_file",
        "platform._Processor",
        # Test-only C helpers that run source in a new interpreter.
        "_testcapi.run_in_subinterp",
        "_testinternalcapi.run_in_subinterp_with_config",
        "sys.remote_exec",
        "psutil.Popen",
        "asyncio.create_subprocess_exec",
        "asyncio.create_subprocess_shell",
        "concurrent.futures.ProcessPoolExecutor",
        "platform.popen",
    }
)
# Event-loop methods reached on objects we cannot type (``loop.subprocess_exec(...)``).
PROCESS_METHODS = frozenset({"subprocess_exec", "subprocess_shell"})
