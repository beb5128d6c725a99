"""``process: deny`` and ``network: deny``: nothing may start a process or open a
connection."""

from __future__ import annotations

from kavi_gates.models import Code
from kavi_gates.policy.catalog import (
    INDIRECTION_WORDS,
    NETWORK_FUNCTIONS,
    NETWORK_METHODS,
    NETWORK_MODULES,
    PROCESS_FUNCTIONS,
    PROCESS_METHODS,
    PROCESS_MODULES,
    words_of,
)

GATE = "policy"
_PROCESS_FIX = """
    Skills do not start processes: do the work in Python, or leave it to a tool outside
    the skill. Only code that may start processes belongs under policy.process: allow
    (an override for its paths).
    """
_NETWORK_FIX = """
    Use the runtime's guarded HTTP client (self.context.http) in a NETWORK skill: it
    limits requests to the hosts the skill declares. Only code that may open its own
    connections belongs under policy.network: allow (an override for its paths).
    """

PROCESS_MODULE = Code(
    id="KAV201",
    gate=GATE,
    category="process",
    title="import of a process-spawning module",
    doc="""
        A module whose job is starting processes is imported (``process: deny``).

        subprocess, pty, multiprocessing, asyncio.subprocess, concurrent.futures.process,
        webbrowser, pexpect, sh, plumbum, invoke, the subinterpreter modules
        (_xxsubinterpreters, _interpreters, concurrent.interpreters), … in every import
        form, including a submodule reached through an allowed parent (``import asyncio;
        asyncio.subprocess``). ``multiprocessing.dummy`` is threads, not processes.
        """,
    fix=_PROCESS_FIX,
    valid=(
        "import os\nprint(os.getpid())\n",
        "import asyncio\nasyncio.run(main())\n",
        "from multiprocessing.dummy import Pool\n",
    ),
    invalid=(
        "import multiprocessing\n",
        "import multiprocessing.dummy\np = multiprocessing.Process(target=print)\n",
        "import _xxsubinterpreters as interpreters\n",
        "from multiprocessing import Pool\n",
        "import asyncio\np = asyncio.subprocess.PIPE\n",
        "import webbrowser\n",
        "import importlib\nm = importlib.import_module('multiprocessing.pool')\n",
    ),
    triggers=tuple(sorted(words_of(PROCESS_MODULES) | INDIRECTION_WORDS)),
)
PROCESS_CALL = Code(
    id="KAV202",
    gate=GATE,
    category="process",
    title="reference to a process-spawning function",
    doc="""
        A function that starts a process is referenced (``process: deny``).

        os.system, os.popen, os.exec*, os.spawn*, os.posix_spawn*, os.fork, os.forkpty,
        asyncio.create_subprocess_exec/shell, concurrent.futures.ProcessPoolExecutor, signals
        to other processes (os.kill, os.killpg), the platform functions that run ``uname
        -p`` or ``file`` (processor, platform, uname, architecture), test helpers that run
        source in a new interpreter (_testcapi.run_in_subinterp), … reached by any route
        (aliases, getattr with a literal name, star imports, methodcaller).
        """,
    fix=_PROCESS_FIX,
    valid=(
        "import os\nos.getcwd()\n",
        "from concurrent.futures import ThreadPoolExecutor\n",
        "class Shell:\n    def popen(self):\n        pass\n\nShell().popen()\n",
        "import platform\nname = platform.system()\n",
    ),
    invalid=(
        "import os\nos.popen('ls')\n",
        "import os\nos.execv('/bin/sh', ['sh'])\n",
        "from os import spawnlp as go\n",
        "import os\npid = os.fork()\n",
        "import asyncio\nasyncio.create_subprocess_shell('ls')\n",
        "from concurrent.futures import ProcessPoolExecutor\n",
        "import os\ngetattr(os, 'posix_spawn')\n",
        "import os\nos.kill(1, 9)\n",
        "import platform\ncpu = platform.processor()\n",
        "import platform\nprint(platform.platform())\n",
    ),
    triggers=tuple(sorted(words_of(PROCESS_FUNCTIONS, PROCESS_METHODS) | INDIRECTION_WORDS)),
)
NETWORK_MODULE = Code(
    id="KAV301",
    gate=GATE,
    category="network",
    title="import of a networking module",
    doc="""
        A networking module is imported (``network: deny``).

        socket, ssl, http.client, http.server, urllib.request, ftplib, smtplib, xmlrpc,
        socketserver and the common third-party clients (requests, httpx, aiohttp,
        urllib3, websockets, paramiko, fabric, grpc, openai, boto3, huggingface_hub,
        torch.hub, pysnmp, database and queue clients, …), in every import form, also
        through ``six.moves`` (``six.moves.urllib.request``, ``six.moves.http_client``).
        ``urllib.parse`` and ``http.HTTPStatus`` are not network access.
        """,
    fix=_NETWORK_FIX,
    valid=(
        "from urllib.parse import urlparse\n",
        "import http\ncode = http.HTTPStatus.OK\n",
        "import json\n",
    ),
    invalid=(
        "import socket\n",
        "import requests\n",
        "from urllib.request import urlopen\n",
        "import urllib\nurllib.request.urlopen('http://x')\n",
        "import http.client as hc\n",
        "def fetch():\n    import httpx\n    return httpx.get('http://x')\n",
        "mod = __import__('socket')\n",
        "from six.moves.urllib.request import urlopen\n",
        "from huggingface_hub import hf_hub_download\n",
        "import torch\nmodel = torch.hub.load('a/b', 'm')\n",
    ),
    triggers=tuple(sorted(words_of(NETWORK_MODULES) | INDIRECTION_WORDS)),
)
NETWORK_CALL = Code(
    id="KAV302",
    gate=GATE,
    category="network",
    title="reference to a network function",
    doc="""
        A function that opens a network connection is referenced (``network: deny``).

        asyncio.open_connection / start_server, the socket-backed logging handlers, …
        """,
    fix=_NETWORK_FIX,
    valid=("import asyncio\nasyncio.sleep(1)\n", "import logging\nlogging.getLogger('x')\n"),
    invalid=(
        "import asyncio\nasyncio.open_connection('example.com', 80)\n",
        "from logging.handlers import HTTPHandler\n",
    ),
    triggers=tuple(sorted(words_of(NETWORK_FUNCTIONS, NETWORK_METHODS) | INDIRECTION_WORDS)),
)
