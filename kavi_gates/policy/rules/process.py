"""``process: deny`` — nothing may start a process."""

from __future__ import annotations

from collections.abc import Iterator

from kavi_gates.policy.catalog import PROCESS_FUNCTIONS, PROCESS_METHODS, PROCESS_MODULES
from kavi_gates.policy.queries import method_hits, module_hits, name_hits
from kavi_gates.policy.resolution import ModuleFacts
from kavi_gates.policy.rule import Rule, Violation


class ProcessModule(Rule):
    """A module whose job is starting processes is imported (``process: deny``).

    subprocess, pty, multiprocessing, asyncio.subprocess, concurrent.futures.process,
    webbrowser, pexpect, sh, plumbum, … in every import form, including a submodule reached
    through an allowed parent (``import asyncio; asyncio.subprocess``).
    """

    id = "KAV201"
    category = "process"
    MESSAGE = "import of a process-spawning module"
    VALID = ["import os\nprint(os.getpid())\n", "import asyncio\nasyncio.run(main())\n"]
    INVALID = [
        "import multiprocessing\n",
        "from multiprocessing import Pool\n",
        "import asyncio\np = asyncio.subprocess.PIPE\n",
        "import webbrowser\n",
        "import importlib\nm = importlib.import_module('multiprocessing.pool')\n",
    ]

    def enabled(self) -> bool:
        return self.policy.process == "deny"

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for node, hit in module_hits(facts, PROCESS_MODULES):
            yield Violation(node, f"'{hit}' starts processes (policy.process: deny)")


class ProcessCall(Rule):
    """A function that starts a process is referenced (``process: deny``).

    os.system, os.popen, os.exec*, os.spawn*, os.posix_spawn*, os.fork, os.forkpty,
    asyncio.create_subprocess_exec/shell, concurrent.futures.ProcessPoolExecutor, … reached
    by any route (aliases, getattr with a literal name, star imports).
    """

    id = "KAV202"
    category = "process"
    MESSAGE = "reference to a process-spawning function"
    VALID = [
        "import os\nos.getcwd()\n",
        "from concurrent.futures import ThreadPoolExecutor\n",
        "class Shell:\n    def popen(self):\n        pass\n\nShell().popen()\n",
    ]
    INVALID = [
        "import os\nos.popen('ls')\n",
        "import os\nos.execv('/bin/sh', ['sh'])\n",
        "from os import spawnlp as go\n",
        "import os\npid = os.fork()\n",
        "import asyncio\nasyncio.create_subprocess_shell('ls')\n",
        "from concurrent.futures import ProcessPoolExecutor\n",
        "import os\ngetattr(os, 'posix_spawn')\n",
    ]

    def enabled(self) -> bool:
        return self.policy.process == "deny"

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for node, hit in name_hits(facts, PROCESS_FUNCTIONS):
            yield Violation(node, f"'{hit}' starts a process (policy.process: deny)")
        for node, method in method_hits(facts, PROCESS_METHODS):
            yield Violation(node, f"'.{method}()' starts a process (policy.process: deny)")
