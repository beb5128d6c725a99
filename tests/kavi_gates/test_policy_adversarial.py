"""Adversarial corpus for the policy gate: evasions it must catch, look-alikes it must pass.

Every case runs through ``check_source`` with the project's default policy (the same as this
kavi.yaml)::

    include: ["**/*.py"]
    policy:
      forbidden_imports: [subprocess, pty, paramiko]
      forbidden_calls: [os.system]
      forbid_dynamic_exec: true
      network: deny
      process: deny
      allowed_write_paths: [vault_out/, artifacts_out/]

``CAUGHT`` / ``BENIGN`` hold today's behaviour. ``MISSED`` (false negatives) and
``FLAGGED_BENIGN`` (false positives) record known gaps as ``xfail(strict=True)``: when the
analysis is fixed the case XPASSes, the suite fails, and the case moves to CAUGHT / BENIGN.
"""

from __future__ import annotations

import base64

import pytest

from kavi_gates.codes.policy import RULE_ERROR
from kavi_gates.config import PolicyConfig
from kavi_gates.policy.check import check_source
from kavi_gates.policy.rules import BUILTIN_RULES

POLICY = PolicyConfig(
    forbidden_imports=("subprocess", "pty", "paramiko"),
    forbidden_calls=("os.system",),
    forbid_dynamic_exec=True,
    network="deny",
    process="deny",
    allowed_write_paths=("vault_out/", "artifacts_out/"),
)


def _rules(code: str | bytes) -> set[str]:
    source = code if isinstance(code, bytes) else code.encode()
    found = check_source(source, "skills/adversarial.py", POLICY, BUILTIN_RULES)
    # A built-in rule that raises is a bug, never a clean result for a benign case.
    assert [f.message for f in found if f.rule == RULE_ERROR.id] == []
    return {f.rule for f in found}


def _utf7(text: str) -> bytes:
    """Encode every letter in UTF-7's base64 form, so no ASCII keyword survives in the bytes."""
    return "".join(
        "+" + base64.b64encode(c.encode("utf-16-be")).decode().rstrip("=") + "-"
        if c.isalpha()
        else c
        for c in text
    ).encode()


# ======================================================================================
# CAUGHT: (code, rule that must fire)
# ======================================================================================
CAUGHT: list[tuple[str | bytes, str]] = [
    # -- forbidden imports: every static form -----------------------------------------
    ("import subprocess\n", "KAV101"),
    ("import subprocess as sp\n", "KAV101"),
    ("import os, subprocess\n", "KAV101"),
    ("import pty as _p\n", "KAV101"),
    ("from subprocess import Popen as P\n", "KAV101"),
    ("from subprocess import *\n", "KAV101"),
    ("import paramiko.client\n", "KAV101"),
    ("from paramiko import client\n", "KAV101"),
    ("def f():\n    import subprocess\n    return subprocess\n", "KAV101"),
    ("class K:\n    import subprocess\n", "KAV101"),
    ("if True:\n    import pty\n", "KAV101"),
    ("try:\n    import subprocess\nexcept ImportError:\n    subprocess = None\n", "KAV101"),
    # -- forbidden imports: by value ----------------------------------------------------
    ("m = __import__('subprocess')\n", "KAV101"),
    ("m = __import__('sub' 'process')\n", "KAV101"),
    ("m = __import__(name='subprocess')\n", "KAV101"),
    ("import importlib\nm = importlib.import_module('subprocess')\n", "KAV101"),
    ("from importlib import import_module as im\nm = im('pty')\n", "KAV101"),
    ("import sys\nm = sys.modules['subprocess']\n", "KAV101"),
    ("import sys\nm = sys.modules.get('subprocess')\n", "KAV101"),
    ("from sys import modules\nm = modules['subprocess']\n", "KAV101"),
    ("import sys\nt = sys.modules\nm = t['subprocess']\n", "KAV101"),
    ("import builtins\nm = builtins.__import__('subprocess')\n", "KAV101"),
    # an encoding that does not read ASCII as ASCII is refused (what runs is not what the
    # bytes show)
    (b"# coding: utf-7\n" + _utf7("import subprocess\n") + b"# open\n", "KAV002"),
    (b"# coding: unicode_escape\n\\x69mport \\x73ubprocess\n# open\n", "KAV002"),
    # -- computed imports ---------------------------------------------------------------
    ("m = __import__('o' + 's')\n", "KAV102"),
    ("import importlib\ndef f(n):\n    return importlib.import_module(n)\n", "KAV102"),
    ("import sys\ndef f(k):\n    return sys.modules[k]\n", "KAV102"),
    ("m = __import__(f'{\"sub\"}process')\n", "KAV102"),
    ("import importlib\nm = importlib.import_module('subprocess'.upper().lower())\n", "KAV102"),
    # -- forbidden calls: aliases, module aliases, plain references -------------------
    ("import os\nos.system('id')\n", "KAV111"),
    ("import os as o\no.system('id')\n", "KAV111"),
    ("from os import system\n", "KAV111"),
    ("from os import system as s\ns('id')\n", "KAV111"),
    ("from os import *\nsystem('id')\n", "KAV111"),
    ("import os\nf = os.system\n", "KAV111"),
    ("import os\nos.system\n", "KAV111"),
    ("import os\nm = os\nm.system('id')\n", "KAV111"),
    ("import os\nm = n = os\nn.system('id')\n", "KAV111"),
    ("import os\nx: object = os.system\n", "KAV111"),
    ("import os\nif (s := os.system):\n    s('id')\n", "KAV111"),
    ("import os\nrun = os.system if True else print\n", "KAV111"),
    (
        "import os\ntry:\n    run = os.system\nexcept Exception:\n    run = print\nrun('id')\n",
        "KAV111",
    ),
    # ... in functions, classes, lambdas, defaults, decorators, comprehensions, match
    ("import os\ndef f():\n    return os.system('id')\n", "KAV111"),
    ("import os\nclass K:\n    run = os.system\n", "KAV111"),
    ("import os\nclass K:\n    def m(self):\n        return os.system('id')\n", "KAV111"),
    ("import os\nf = lambda c: os.system(c)\n", "KAV111"),
    ("import os\ndef f(run=os.system):\n    run('id')\n", "KAV111"),
    ("import os\nr = [os.system(c) for c in ['id']]\n", "KAV111"),
    ("import os\n@os.system\ndef f():\n    pass\n", "KAV111"),
    ("import os\nmatch 1:\n    case 1:\n        os.system('id')\n", "KAV111"),
    (
        "def f():\n    import os\n    g = os\n    def h():\n        return g.system\n    return h\n",
        "KAV111",
    ),
    ("import os\ndef f():\n    global o\n    o = os\no.system('id')\n", "KAV111"),
    # ... handed to higher-order helpers
    ("import os\nimport functools\np = functools.partial(os.system, 'id')\n", "KAV111"),
    ("import os\nimport threading\nthreading.Thread(target=os.system, args=('id',))\n", "KAV111"),
    ("import os\nimport atexit\natexit.register(os.system, 'id')\n", "KAV111"),
    # ... by literal name
    ("import os\ngetattr(os, 'system')('id')\n", "KAV111"),
    ("import os\ngetattr(os, 'sys' 'tem')('id')\n", "KAV111"),
    ("import operator, os\noperator.attrgetter('system')(os)('id')\n", "KAV111"),
    ("__import__('os').system('id')\n", "KAV111"),
    ("import importlib\nimportlib.import_module('os').system('id')\n", "KAV111"),
    ("import sys\nsys.modules['os'].system('id')\n", "KAV111"),
    # -- process spawning ---------------------------------------------------------------
    ("import subprocess\n", "KAV201"),
    ("import multiprocessing\n", "KAV201"),
    ("import asyncio\nasyncio.subprocess.PIPE\n", "KAV201"),
    ("from concurrent.futures import process\n", "KAV201"),
    ("import webbrowser\nwebbrowser.open('http://x')\n", "KAV201"),
    ("import importlib\nm = importlib.import_module('multiprocessing.pool')\n", "KAV201"),
    ("import os\nos.system('id')\n", "KAV202"),
    ("import os\nos.popen('id')\n", "KAV202"),
    ("import os\nos.execvp('sh', ['sh'])\n", "KAV202"),
    ("import os\nos.spawnlp(os.P_WAIT, 'sh', 'sh')\n", "KAV202"),
    ("import os\nos.posix_spawn('/bin/sh', ['sh'], {})\n", "KAV202"),
    ("import os\npid = os.fork()\n", "KAV202"),
    ("import os\nos.forkpty()\n", "KAV202"),
    ("import posix\nposix.system('id')\n", "KAV202"),
    ("import asyncio\nasyncio.create_subprocess_exec('id')\n", "KAV202"),
    ("from asyncio import create_subprocess_shell as c\n", "KAV202"),
    ("from concurrent.futures import ProcessPoolExecutor\n", "KAV202"),
    ("import os\ngetattr(os, 'popen')('id')\n", "KAV202"),
    ("import os\nf = getattr(os, 'exec' + 'v')\n", "KAV403"),
    # -- network --------------------------------------------------------------------------
    ("import socket\n", "KAV301"),
    ("import socket as s\n", "KAV301"),
    ("from socket import create_connection\n", "KAV301"),
    ("import http.client\n", "KAV301"),
    ("from http import client\n", "KAV301"),
    ("import http\nhttp.client.HTTPConnection('x')\n", "KAV301"),
    ("import urllib\nurllib.request.urlopen('http://x')\n", "KAV301"),
    ("import urllib.request as ur\n", "KAV301"),
    ("from urllib import request\n", "KAV301"),
    ("import ssl\n", "KAV301"),
    ("import requests\nrequests.get('http://x')\n", "KAV301"),
    ("def f():\n    import httpx\n", "KAV301"),
    ("import xmlrpc.client\n", "KAV301"),
    ("import smtplib\n", "KAV301"),
    ("import ftplib\n", "KAV301"),
    ("import paramiko\n", "KAV301"),
    ("m = __import__('socket')\n", "KAV301"),
    ("import asyncio\nasyncio.open_connection('x', 80)\n", "KAV302"),
    ("import asyncio\nasyncio.start_server(None, 'x', 80)\n", "KAV302"),
    ("import logging.handlers\nh = logging.handlers.SocketHandler('x', 1)\n", "KAV302"),
    ("from logging.handlers import HTTPHandler\n", "KAV302"),
    ("import logging.config\nlogging.config.listen(9999)\n", "KAV302"),
    # -- dynamic exec: the builtins by any route --------------------------------------
    ("eval('1')\n", "KAV401"),
    ("exec('x = 1')\n", "KAV401"),
    ("c = compile('1', '<s>', 'eval')\n", "KAV401"),
    ("breakpoint()\n", "KAV401"),
    ("e = eval\n", "KAV401"),
    ("m = __import__('json')\n", "KAV401"),
    ("import builtins\nbuiltins.eval('1')\n", "KAV401"),
    ("import builtins as b\nb.exec('1')\n", "KAV401"),
    ("from builtins import exec as run\n", "KAV401"),
    ("from builtins import *\neval('1')\n", "KAV401"),
    ("__builtins__.eval('1')\n", "KAV401"),
    ("import builtins\ngetattr(builtins, 'ev' 'al')('1')\n", "KAV401"),
    ("import builtins\nbuiltins.__dict__['eval']('1')\n", "KAV403"),
    ("__builtins__['eval']('1')\n", "KAV403"),
    ("def f(x=eval):\n    return x('1')\n", "KAV401"),
    ("f = lambda s: eval(s)\n", "KAV401"),
    ("r = [eval(s) for s in ['1']]\n", "KAV401"),
    ("@eval\ndef f():\n    pass\n", "KAV401"),
    ("class K(eval('object')):\n    pass\n", "KAV401"),
    ("def f() -> eval('int'):\n    pass\n", "KAV401"),
    ("match 1:\n    case 1:\n        exec('x=1')\n", "KAV401"),
    ("import functools\nfunctools.partial(eval, '1')()\n", "KAV401"),
    ("import operator\noperator.call(exec, 'x=1')\n", "KAV401"),
    ("m = map(eval, ['1'])\n", "KAV401"),
    # ... shadowing that does not (certainly) hold
    ("class K:\n    def m(self):\n        return eval('1')\n    eval = len\n", "KAV401"),
    ("if False:\n    eval = len\neval('1')\n", "KAV401"),
    ("try:\n    eval = len\nexcept Exception:\n    pass\neval('1')\n", "KAV401"),
    ("x = eval('1')\neval = len\n", "KAV401"),
    ("def f():\n    global eval\n    eval = len\neval('1')\n", "KAV401"),
    ("if False:\n    def eval(s):\n        return s\neval('1')\n", "KAV401"),
    # -- dynamic exec: import machinery -------------------------------------------------
    ("import importlib\n", "KAV402"),
    ("import importlib.util\n", "KAV402"),
    ("import runpy\nrunpy.run_path('x.py')\n", "KAV402"),
    ("import code\ncode.InteractiveInterpreter().runsource('x=1')\n", "KAV402"),
    ("import codeop\n", "KAV402"),
    ("import pkgutil\npkgutil.resolve_name('os:system')\n", "KAV402"),
    ("import zipimport\n", "KAV402"),
    ("import sys\nm = sys.modules\n", "KAV402"),
    ("import sys\nsys.meta_path.insert(0, object())\n", "KAV402"),
    # -- dynamic exec: namespace and frame escapes -----------------------------------
    ("g = globals()\n", "KAV403"),
    ("l = locals()\n", "KAV403"),
    ("v = vars()\n", "KAV403"),
    ("g = vars\n", "KAV403"),
    ("import os\nvars(os)['system']\n", "KAV403"),
    ("import os\nos.__dict__['system']\n", "KAV403"),
    ("b = __builtins__\n", "KAV403"),
    ("import json\nb = json.__builtins__\n", "KAV403"),
    ("import os\nf = getattr(os, name)\n", "KAV403"),
    ("import builtins\nf = getattr(builtins, 'e' + 'val')\n", "KAV403"),
    ("import os\nf = object.__getattribute__(os, 'system')\n", "KAV403"),
    ("import sys\nf = sys._getframe()\n", "KAV403"),
    ("import inspect\nf = inspect.currentframe()\n", "KAV403"),
    ("def f(fn):\n    return fn.__globals__\n", "KAV403"),
    ("x = ().__class__.__base__.__subclasses__()\n", "KAV403"),
    ("x = object.__subclasses__()\n", "KAV403"),
    (
        "try:\n    1/0\nexcept Exception as e:\n    g = e.__traceback__.tb_frame.f_globals\n",
        "KAV403",
    ),
    ("c = (lambda: 0).__code__\n", "KAV403"),
    ("import types\nt = types.FunctionType\n", "KAV403"),
    ("import operator\nget = operator.attrgetter('system')\n", "KAV403"),
    ("import operator\nget = operator.methodcaller('popen', 'id')\n", "KAV403"),
    ("from operator import attrgetter\nk = 'sys'\nget = attrgetter(k + 'tem')\n", "KAV403"),
    ("import gc\no = gc.get_objects()\n", "KAV403"),
    # f_builtins is caught once any trigger word (here "eval" in a string) is in the file
    ("g = (i for i in [1])\ng.gi_frame.f_builtins['ev' 'al']('print(\"eval\")')\n", "KAV403"),
    # -- dynamic exec: deserialisers and native code -----------------------------------
    ("import pickle\n", "KAV404"),
    ("from pickle import loads\n", "KAV404"),
    ("import marshal\nmarshal.loads(b'')\n", "KAV404"),
    ("import _pickle\n", "KAV404"),
    ("import shelve\n", "KAV404"),
    ("import dill\n", "KAV404"),
    ("import yaml\nyaml.load('a: 1')\n", "KAV404"),
    ("import yaml\nyaml.load('a: 1', yaml.Loader)\n", "KAV404"),
    ("import yaml\nyaml.load('a: 1', Loader=yaml.FullLoader)\n", "KAV404"),
    ("import yaml\nyaml.load('a', Loader=yaml.Loader if False else yaml.SafeLoader)\n", "KAV404"),
    ("import yaml\nyaml.unsafe_load('a: 1')\n", "KAV404"),
    (
        "import yaml\nclass SafeLoader(yaml.UnsafeLoader):\n    pass\n"
        "yaml.load('a', Loader=SafeLoader)\n",
        "KAV404",
    ),
    ("import numpy as np\nnp.load('x.npy', allow_pickle=True)\n", "KAV404"),
    ("import pandas as pd\npd.read_pickle('x.pkl')\n", "KAV404"),
    ("import torch\ntorch.load('m.pt')\n", "KAV404"),
    ("import ctypes\n", "KAV405"),
    ("from ctypes import CDLL\n", "KAV405"),
    ("m = __import__('ctypes')\n", "KAV405"),
    # -- writes: literal paths outside the allowed roots -------------------------------
    ("open('notes.md', 'w')\n", "KAV501"),
    ("open('vault_out/../x.md', 'w')\n", "KAV501"),
    ("open('vault_outside/x.md', 'w')\n", "KAV501"),
    ("open('vault_out/./../../etc/passwd', 'a')\n", "KAV501"),
    ("open('vault_out\\\\..\\\\x', 'w')\n", "KAV501"),
    ("open('/vault_out/x', 'w')\n", "KAV501"),
    ("open('~/x', 'w')\n", "KAV501"),
    ("open('vault_out', 'w')\n", "KAV501"),
    ("open('vault_out/' '../x', 'w')\n", "KAV501"),
    ("open(b'/etc/x', 'w')\n", "KAV501"),
    # ... write modes given every way
    ("open('x', mode='w')\n", "KAV501"),
    ("open(file='x', mode='r+')\n", "KAV501"),
    ("open('x', 'rb+')\n", "KAV501"),
    ("open('x', 'x')\n", "KAV501"),
    ("MODE = 'w'\nopen('/etc/x', MODE)\n", "KAV501"),
    ("open('/etc/x', 'r' if False else 'w')\n", "KAV501"),
    ("open('/etc/x', **{'mode': 'w'})\n", "KAV501"),
    ("open('/etc/x', *['w'])\n", "KAV501"),
    ("OUT = '/etc/x'\nopen(OUT, 'w')\n", "KAV501"),
    ("o = open\no('/etc/x', 'w')\n", "KAV501"),
    ("print('x', file=open('/etc/x', 'a'))\n", "KAV501"),
    ("import sys\nsys.stdout = open('/etc/x', 'w')\n", "KAV501"),
    ("import json\njson.dump({}, open('/etc/x', 'w'))\n", "KAV501"),
    # ... other openers
    ("import builtins\nbuiltins.open('/etc/x', 'w')\n", "KAV501"),
    ("import io\nio.open('/etc/x', 'wb')\n", "KAV501"),
    ("import io\nio.FileIO('/etc/x', 'w')\n", "KAV501"),
    ("import codecs\ncodecs.open('/etc/x', 'w', 'utf-8')\n", "KAV501"),
    ("import gzip\ngzip.open('/etc/x.gz', 'wb')\n", "KAV501"),
    ("import tarfile\ntarfile.open('/tmp/x.tar', 'w')\n", "KAV501"),
    ("import zipfile\nzipfile.ZipFile('/tmp/x.zip', 'w')\n", "KAV501"),
    ("import dbm\ndbm.open('/tmp/x', 'c')\n", "KAV501"),
    ("import sqlite3\nsqlite3.connect('/tmp/x.db')\n", "KAV501"),
    ("import logging\nlogging.FileHandler('/tmp/x.log')\n", "KAV501"),
    # ... os.open flags and os / shutil operations
    ("import os\nos.open('/etc/x', os.O_WRONLY | os.O_CREAT)\n", "KAV501"),
    ("import os\nos.open('/etc/x', flags=os.O_RDWR)\n", "KAV501"),
    ("import os\nos.open('/etc/x', 0)\n", "KAV501"),
    ("import os\nos.remove('config.yaml')\n", "KAV501"),
    ("from os import unlink as rm\nrm('/etc/x')\n", "KAV501"),
    ("import os\nos.rename('vault_out/a', '/etc/a')\n", "KAV501"),
    ("import os\nos.replace(src='vault_out/a', dst='/etc/a')\n", "KAV501"),
    ("import os\nos.makedirs(os.path.join('vault_out', '..', 'x'))\n", "KAV501"),
    ("import os\nos.makedirs(os.path.join('vault_out', '/etc/x'))\n", "KAV501"),
    ("import os\nos.chmod('/etc/x', 0o777)\n", "KAV501"),
    ("import os\nos.symlink('/etc', 'link')\n", "KAV501"),
    ("import os\nos.link('vault_out/x', '/etc/x')\n", "KAV501"),
    ("import os\nos.truncate('/etc/x', 0)\n", "KAV501"),
    ("import os\nos.utime('/etc/x')\n", "KAV501"),
    ("import os\nos.mkfifo('/tmp/f')\n", "KAV501"),
    ("import os\nos.mknod('/tmp/n')\n", "KAV501"),
    ("import shutil\nshutil.rmtree('vault_out/..')\n", "KAV501"),
    ("import shutil\nshutil.copy('vault_out/a', '/etc/a')\n", "KAV501"),
    ("import shutil\nshutil.copyfile(src='vault_out/a', dst='/etc/a')\n", "KAV501"),
    ("import shutil\nshutil.move('vault_out/a', '/etc/a')\n", "KAV501"),
    ("import shutil\nshutil.copytree('vault_out', '/etc/x')\n", "KAV501"),
    ("import shutil\nshutil.unpack_archive('vault_out/a.zip', '/etc')\n", "KAV501"),
    ("import shutil\nshutil.make_archive('/tmp/a', 'zip', 'vault_out')\n", "KAV501"),
    # ... pathlib
    ("from pathlib import Path\nPath('/tmp/x').write_text('x')\n", "KAV501"),
    ("import pathlib\npathlib.Path('x').write_bytes(b'x')\n", "KAV501"),
    ("from pathlib import Path\n(Path('vault_out') / '..' / 'x').write_text('x')\n", "KAV501"),
    ("from pathlib import Path\n(Path('vault_out') / '/etc/passwd').write_text('x')\n", "KAV501"),
    ("from pathlib import Path\nPath('vault_out', '..', 'x').touch()\n", "KAV501"),
    ("from pathlib import Path\nPath('x').open('w')\n", "KAV501"),
    ("from pathlib import Path\nPath('x').open(mode='a')\n", "KAV501"),
    ("from pathlib import Path\nPath.write_text(Path('x'), 'data')\n", "KAV501"),
    ("from pathlib import Path\nPath('vault_out/a').rename('/etc/a')\n", "KAV501"),
    ("from pathlib import Path\nPath('x').unlink()\n", "KAV501"),
    ("from pathlib import Path\nPath('x').mkdir()\n", "KAV501"),
    ("from pathlib import Path\nP = Path('/etc/x')\nP.write_text('x')\n", "KAV501"),
    # ... data savers
    ("import numpy as np\nnp.save('/tmp/x.npy', [1])\n", "KAV501"),
    ("import pandas as pd\npd.DataFrame().to_csv('/tmp/x.csv')\n", "KAV501"),
    # -- writes: computed paths ---------------------------------------------------------
    ("def save(name, text):\n    open('vault_out/' + name, 'w').write(text)\n", "KAV502"),
    ("def save(p, mode):\n    open(p, mode)\n", "KAV502"),
    ("def save(p):\n    p.write_text('x')\n", "KAV502"),
    ("def save(name):\n    open(f'vault_out/{name}', 'w')\n", "KAV502"),
    ("open('vault_out/%s' % '../x', 'w')\n", "KAV502"),
    ("open('/'.join(['vault_out', '..', 'x']), 'w')\n", "KAV502"),
    ("open(*['x', 'w'])\n", "KAV502"),
    ("import tempfile\nfd, name = tempfile.mkstemp()\n", "KAV502"),
    ("import tempfile\ntempfile.NamedTemporaryFile()\n", "KAV502"),
    ("from pathlib import Path\nPath('vault_out').joinpath('..', 'x').write_text('x')\n", "KAV502"),
    ("import os\nos.open(name, os.O_WRONLY)\n", "KAV502"),
    ("def f(df, out):\n    df.to_csv(out)\n", "KAV502"),
    ("def f(p, q):\n    p.rename(q)\n", "KAV502"),
    ("OUT = 'vault_out/x'\nfor OUT in ['/etc/passwd']:\n    pass\nopen(OUT, 'w')\n", "KAV502"),
    # -- suppressions: misuse is reported and does not suppress -------------------------
    ("x = eval('1')  # kavi: allow[KAV401]\n", "KAV003"),
    ("x = eval('1')  # kavi: allow[KAV401]\n", "KAV401"),
    ("x = eval('1') # kavi:allow[KAV401]  \n", "KAV003"),
    ("x = 1  # kavi: allow[KAV401] nothing here\n", "KAV004"),
    ("open('x', 'w')  # kavi: allow[KAV001] no\n", "KAV004"),
    ("x = eval('1')  # kavi: allow[KAV999] typo\n", "KAV401"),
    ("x = eval('1')  # kavi: allow[kav401] lowercase\n", "KAV401"),
    ("x = eval('1')  # kavi: allow[KAV111] wrong rule\n", "KAV401"),
    ("x = eval('1')  # kavi: allow[KAV003] not the finding's rule\n", "KAV401"),
    ("x = eval('1')  # kavi: allow[KAV401, KAV403] one is unused\n", "KAV004"),
    ("import subprocess  # kavi: allow[KAV101] needed\n", "KAV201"),
    ("# kavi: allow[KAV401] blank line breaks the link\n\nx = eval('1')\n", "KAV401"),
    ("x = 1\n# kavi: allow[KAV401] own line\n# another comment\nx = eval('1')\n", "KAV401"),
    (
        "def f():\n    pass  # kavi: allow[KAV401] trailing covers only its line\nx = eval('1')\n",
        "KAV401",
    ),
    ("s = '# kavi: allow[KAV401] in a string'; x = eval('1')\n", "KAV401"),
    ("x = '''\n# kavi: allow[KAV401] in a docstring\n'''\ny = eval('1')\n", "KAV401"),
    ("x = (  # kavi: allow[KAV401] reason\n    1)\ny = eval('1')\n", "KAV401"),
    ("x = eval(\n    '1')  # kavi: allow[KAV401] not the finding's line\n", "KAV401"),
    # -- parse failures and unreadable input -------------------------------------------
    ("def broken(:\n    pass\n", "KAV001"),
    ("def broken(:  # kavi: allow[KAV001] no\n    pass\n", "KAV001"),
    ("x = (1,\n", "KAV001"),
    (b"\x00\x01binary", "KAV002"),
    (b"s = '\xff\xfe'\n", "KAV002"),
]


# ======================================================================================
# BENIGN: look-alikes that must produce no finding at all
# ======================================================================================
BENIGN: list[str] = [
    # -- methods and locals that share a dangerous name -------------------------------
    "def run(model):\n    model.eval()\n",
    "import torch\nnet = torch.nn.Linear(1, 1)\nnet.eval()\n",
    "class Box:\n    def system(self):\n        return 1\nBox().system()\n",
    "class Shell:\n    def popen(self, c):\n        return c\nShell().popen('x')\n",
    "def system(cmd):\n    return cmd\nsystem('ls')\n",
    "def f(session):\n    return session.system\n",
    "def load(open):\n    return open('x', 'w')\n",
    "def go(eval, x):\n    return eval(x)\n",
    "def f(compile):\n    return compile('x')\n",
    "def outer():\n    def eval(s):\n        return s\n    return eval('x')\n",
    "def eval(s):\n    return s\neval('1')\n",
    "class K:\n    eval = len\n    n = eval('ab')\n",
    "x = eval_score = 3\ny = executor = None\n",
    # -- same-named library functions -------------------------------------------------
    "import ast\nv = ast.literal_eval('[1, 2]')\n",
    "import re\np = re.compile('a+')\n",
    "from re import compile\np = compile('a+')\n",
    "import re\nfrom re import compile as c\np = c('x')\n",
    "import re\nt = re.sub('a', 'b', 'abc')\nt = t.replace('x', 'y')\n",
    "import datetime\nd = datetime.datetime.now().replace(hour=1)\n",
    # -- strings, comments and docstrings naming banned things ------------------------
    "x = 'import subprocess; os.system(\"ls\"); eval(1)'\n",
    "# os.system('ls') and eval('x') and import subprocess\nx = 1\n",
    'def f():\n    """Never call eval() or exec() or os.system."""\n    return 1\n',
    "x = {'exec': 1, 'eval': 2}\ny = x['exec']\n",
    "def f(**kw):\n    return kw.get('open')\n",
    "match {'open': 1}:\n    case {'open': v}:\n        print(v)\n",
    "import subprocessing_helpers\n",
    # -- introspection on own objects -------------------------------------------------
    "class A:\n    def get(self, name):\n        return getattr(self, name)\n",
    "class A:\n    def state(self):\n        return vars(self)\n",
    "def fields(obj):\n    return vars(obj)\n",
    "def describe(obj):\n    return getattr(obj, 'name', None)\n",
    "class A:\n    pass\nstate = A().__dict__\n",
    "import operator\nk = operator.attrgetter('name')\nm = operator.methodcaller('strip')\n",
    "import inspect\nsig = inspect.signature(print)\n",
    "g = (i for i in range(3))\nnext(g)\n",
    # -- safe stdlib / third-party use ------------------------------------------------
    "from urllib.parse import urlparse, quote\nu = urlparse('http://x')\n",
    "import urllib.parse\nq = urllib.parse.quote('a b')\n",
    "import json\nd = json.loads('{}')\ns = json.dumps(d)\n",
    "import http\ncode = http.HTTPStatus.OK\n",
    "import asyncio\nasyncio.run(asyncio.sleep(0))\n",
    "from concurrent.futures import ThreadPoolExecutor\n",
    "import os\np = os.path.join('a', 'b')\n"
    "print(os.getcwd(), os.listdir('.'), os.environ.get('HOME'))\n",
    "import os\nos.getpid()\n",
    "import os\nos.path.exists('/etc/x')\n",
    "import sys\nprint(sys.argv, sys.version)\n",
    "import yaml\nd = yaml.safe_load('a: 1')\n",
    "import yaml\nd = yaml.load('a: 1', Loader=yaml.SafeLoader)\n",
    "import numpy as np\na = np.load('x.npy')\n",
    "import logging\nlog = logging.getLogger(__name__)\nlog.info('x')\n",
    "import logging\nlogging.basicConfig(level=logging.INFO)\n",
    "import dataclasses\n@dataclasses.dataclass\nclass P:\n    x: int = 0\n",
    "import string\nt = string.Template('$a').substitute(a=1)\n",
    "import typing\nx: typing.Optional[int] = None\n",
    "import hashlib\nh = hashlib.sha256(b'x').hexdigest()\n",
    "import functools\n@functools.lru_cache\ndef f(x):\n    return x\n",
    "import sqlite3\nc = sqlite3.connect(':memory:')\n",
    "import io\nb = io.StringIO()\nb.write('x')\n",
    "items = {}\nitems.setdefault('k', []).append(1)\n",
    # -- reads ------------------------------------------------------------------------
    "with open('data.txt') as f:\n    text = f.read()\n",
    "data = open('/etc/hosts', 'r').read()\n",
    "data = open('/etc/hosts', mode='rb').read()\n",
    "from pathlib import Path\nt = Path('notes.md').read_text()\n",
    "from pathlib import Path\nb = Path('/etc/hosts').read_bytes()\n",
    "from pathlib import Path\nfor p in Path('.').glob('*.md'):\n    print(p.name)\n",
    "from pathlib import Path\np = Path('notes.md').with_suffix('.txt')\nprint(p)\n",
    "import codecs\nt = codecs.open('x.txt', 'r', 'utf-8').read()\n",
    "import os\nfd = os.open('x', os.O_RDONLY)\n",
    "s = 'a-b'.replace('-', '_')\n",
    "def f(name):\n    return name.replace('a', 'b')\n",
    # -- writes inside the allowed roots ----------------------------------------------
    "with open('vault_out/note.md', 'w') as f:\n    f.write('x')\n",
    "open('artifacts_out/r.json', 'a').close()\n",
    "open('./vault_out/x.md', 'w')\n",
    "open('vault_out/sub/../x.md', 'w')\n",
    "from pathlib import Path\n(Path('vault_out') / 'a.md').write_text('x')\n",
    "import os\nos.makedirs(os.path.join('vault_out', 'daily'), exist_ok=True)\n",
    "OUT = 'vault_out/log.txt'\nopen(OUT, 'a').close()\n",
    "import shutil\nshutil.copy('/etc/hosts', 'vault_out/hosts')\n",
    "import os\nfd = os.open('vault_out/x', os.O_WRONLY)\nos.fdopen(fd, 'w')\n",
    "def f(fig):\n    fig.savefig('vault_out/plot.png')\n",
    "import pandas as pd\ndf = pd.read_csv('data.csv')\ndf.to_csv('artifacts_out/out.csv')\n",
    "def f(ctx, text):\n    ctx.files.write('note.md', text)\n",
    # -- well-formed suppressions ------------------------------------------------------
    "x = eval('1')  # kavi: allow[KAV401] fixture\n",
    "# kavi: allow[KAV401] the test needs the real builtin\nx = eval('1')\n",
    "x = 1 \\\n  + eval('1')  # kavi: allow[KAV401] continuation line\n",
    "x = eval('1');  y = 2  # kavi: allow[KAV401] same line\n",
]


def _fixed(code: str | bytes, rule: str, why: str) -> object:
    """A gap the review found and the analysis now closes: kept as a regression test."""
    return pytest.param(code, rule)


def _fixed_fp(code: str, why: str) -> object:
    """A false positive the review found and the analysis no longer reports."""
    return pytest.param(code)


def _xf(code: str | bytes, rule: str, why: str) -> object:
    return pytest.param(code, rule, marks=pytest.mark.xfail(strict=True, reason=why))


# ======================================================================================
# MISSED (false negatives): the rule should fire and does not today
# ======================================================================================
_PREFILTER = "check._TRIGGERS prefilter skips files whose raw bytes hold no trigger word"
_NFKC = "identifiers are NFKC-normalised by Python; libcst Name.value is the raw text"
_VALUE_FLOW = "a module object flows through a value the scope model does not follow"

MISSED = [
    # -- source-level blind spots (critical: any payload passes) ----------------------
    # (now refused: an encoding that does not read ASCII as ASCII is KAV002)
    _fixed(
        b"# coding: utf-7\n" + _utf7("import subprocess\n"),
        "KAV002",
        f"{_PREFILTER}; a utf-7 cookie hides every keyword",
    ),
    _fixed(
        b"# coding: utf-7\n" + _utf7("import os\nos.system('id')\n"),
        "KAV002",
        f"{_PREFILTER}; a utf-7 cookie hides every keyword",
    ),
    _fixed(
        b"# coding: unicode_escape\n\\x69mport \\x73ubprocess\n",
        "KAV002",
        f"{_PREFILTER}; unicode_escape cookie",
    ),
    _fixed(
        "g = (i for i in [1])\ng.gi_frame.f_builtins['ev' 'al']('1')\n",
        "KAV403",
        f"{_PREFILTER}; gi_frame/f_builtins/split strings contain no trigger",
    ),
    _fixed(
        "g = (i for i in [1])\ng.gi_frame.f_builtins['_' '_imp' 'ort_' '_']('subprocess')\n",
        "KAV403",
        f"{_PREFILTER}; reaches __import__ with no trigger word",
    ),
    _fixed("ｅｖａｌ('1')\n", "KAV401", f"{_NFKC}; also no trigger in the bytes"),
    _fixed("x = 1  # import\nｅｖａｌ('1')\n", "KAV401", _NFKC),
    _fixed("__builtins__.ｅｖａｌ('1')\n", "KAV401", _NFKC),
    _fixed("import ｓｕｂｐｒｏｃｅｓｓ\n", "KAV101", _NFKC),
    _fixed("import os\nos.ｓｙｓｔｅｍ('id')\n", "KAV111", _NFKC),
    _fixed("from os import ｓｙｓｔｅｍ\n", "KAV111", _NFKC),
    _fixed("ｏｐｅｎ('/etc/x', 'w')\n", "KAV501", _NFKC),
    _fixed("import os\nｏｐｅｎ('/etc/x', 'w')\n", "KAV501", _NFKC),
    # -- builtins module reached without naming it ------------------------------------
    _fixed(
        "len.__self__.eval('1')\n",
        "KAV403",
        "builtin_function.__self__ is the builtins module; __self__ not an escape attribute",
    ),
    _fixed("print.__self__.exec('x=1')\n", "KAV403", "__self__ of a builtin is builtins"),
    _fixed(
        "abs.__self__.__import__('subprocess')\n", "KAV403", "__self__ of a builtin is builtins"
    ),
    _fixed("getattr(len.__self__, 'eval')('1')\n", "KAV403", "__self__ of a builtin is builtins"),
    # -- shadowing assumed but undone ---------------------------------------------------
    _fixed(
        "def eval(s):\n    return s\ndel eval\neval('1')\n",
        "KAV401",
        "`del` is not modelled: the builtin is visible again",
    ),
    _fixed(
        "class K:\n    eval = len\n    del eval\n    x = eval('1')\n",
        "KAV401",
        "`del` in a class body is not modelled",
    ),
    _fixed(
        "def system(c):\n    return c\nfrom os import *\nsystem('id')\n",
        "KAV111",
        "a later star import rebinds a shadowed name; _shadowed ignores star-import order",
    ),
    _fixed(
        "def eval(s):\n    return s\nfrom builtins import *\neval('1')\n",
        "KAV401",
        "a later `from builtins import *` rebinds eval",
    ),
    _fixed("from builtins import *\n", "KAV403", "star import of builtins is not reported"),
    # -- re-exported modules (attribute chains through another module) ----------------
    _fixed(
        "import shutil\nshutil.os.system('id')\n",
        "KAV111",
        "shutil.os is os; qualnames are not canonicalised through module re-exports",
    ),
    _fixed("import shutil\nshutil.os.system('id')\n", "KAV202", "shutil.os is os"),
    _fixed("import os.path\nos.path.os.system('id')\n", "KAV111", "posixpath.os is os"),
    _fixed("import os\nos.sys.modules['subprocess']\n", "KAV402", "os.sys is sys"),
    _fixed("import os\nos.sys.modules['subprocess']\n", "KAV101", "os.sys is sys"),
    _fixed("import shutil\nshutil.os.remove('/etc/passwd')\n", "KAV501", "shutil.os is os"),
    _fixed(
        "import sys\nsys.modules.get('os').system('id')\n",
        "KAV111",
        "_resolve_call_value does not return sys.modules.get(...) (KAV402 does fire)",
    ),
    # -- module objects through values --------------------------------------------------
    _fixed("import os\ndef m():\n    return os\nm().system('id')\n", "KAV403", _VALUE_FLOW),
    _fixed("import os\n(lambda: os)().system('id')\n", "KAV403", _VALUE_FLOW),
    _fixed("import os\nclass K:\n    o = os\nK.o.system('id')\n", "KAV403", _VALUE_FLOW),
    _fixed("import os\nmods = [os]\nmods[0].system('id')\n", "KAV403", _VALUE_FLOW),
    _fixed("import os\nd = {'o': os}\nd['o'].system('id')\n", "KAV403", _VALUE_FLOW),
    _fixed(
        "import os\na, b = os, 1\na.system('id')\n",
        "KAV403",
        "tuple unpacking binds 'local', not an alias of the paired element",
    ),
    _fixed(
        "import os\n(o := os).system('id')\n",
        "KAV111",
        "Attribute on a NamedExpr base records no Ref",
    ),
    _fixed(
        "import os\n(os if True else None).system('id')\n",
        "KAV111",
        "Attribute on an IfExp base records no Ref",
    ),
    _fixed("import os\nfor m in [os]:\n    m.system('id')\n", "KAV403", _VALUE_FLOW),
    _fixed(
        "import os\ndef f(m=os):\n    m.system('id')\n",
        "KAV403",
        "a parameter defaulting to a module is not followed",
    ),
    _fixed(
        "import os\n(lambda m=os: m.system('id'))()\n",
        "KAV403",
        "a lambda parameter defaulting to a module is not followed",
    ),
    _fixed(
        "import os\n[o := os for _ in '1']\no.system('id')\n",
        "KAV111",
        "walrus in a comprehension binds in the enclosing scope (PEP 572), analysis binds it "
        "in the comprehension scope",
    ),
    _fixed(
        "import os, contextlib\nwith contextlib.nullcontext(os) as m:\n    m.system('id')\n",
        "KAV403",
        _VALUE_FLOW,
    ),
    _fixed(
        "import os\nclass K:\n    def __init__(self):\n        self.o = os\n"
        "    def go(self):\n        self.o.system('id')\n",
        "KAV403",
        _VALUE_FLOW,
    ),
    # -- getattr without a getattr call -----------------------------------------------
    _fixed(
        "import os, functools\nfunctools.reduce(getattr, ['system'], os)('id')\n",
        "KAV403",
        "getattr used as a value is not an escape (only getattr calls are checked)",
    ),
    _fixed(
        "import os\nlist(map(getattr, [os], ['system']))[0]('id')\n",
        "KAV403",
        "getattr used as a value",
    ),
    _fixed(
        "import os\ngetattr(*[os, 'system'])('id')\n",
        "KAV403",
        "a starred single argument hides both getattr arguments",
    ),
    _fixed(
        "import os\ngetattr.__call__(os, 'system')('id')\n", "KAV403", "getattr.__call__ is getattr"
    ),
    _fixed(
        "import os, inspect\ninspect.getattr_static(os, 'system')('id')\n",
        "KAV403",
        "inspect.getattr_static is a getattr",
    ),
    _fixed(
        "import os, inspect\ndict(inspect.getmembers(os))['system']('id')\n",
        "KAV403",
        "inspect.getmembers(module) is vars(module)",
    ),
    # -- stdlib helpers that eval/exec strings ----------------------------------------
    _fixed(
        "import typing\ndef f(x: \"__import__('os').system('id')\"):\n    pass\n"
        "typing.get_type_hints(f)\n",
        "KAV401",
        "get_type_hints evals string annotations",
    ),
    _fixed(
        'import inspect\ndef f(x: "1"):\n    pass\ninspect.get_annotations(f, eval_str=True)\n',
        "KAV401",
        "get_annotations(eval_str=True) evals strings",
    ),
    _fixed(
        "import timeit\ntimeit.timeit('1', number=1)\n",
        "KAV401",
        "timeit compiles and runs strings",
    ),
    _fixed("import cProfile\ncProfile.run('1')\n", "KAV401", "cProfile.run execs a string"),
    _fixed("import profile\nprofile.run('1')\n", "KAV401", "profile.run execs a string"),
    _fixed("import pdb\npdb.run('1')\n", "KAV401", "pdb.run execs a string"),
    _fixed("import trace\ntrace.Trace().run('1')\n", "KAV401", "trace.Trace.run execs a string"),
    _fixed(
        "import doctest\ndoctest.run_docstring_examples(print, {})\n",
        "KAV401",
        "doctest execs docstring examples",
    ),
    _fixed(
        "import logging.config\nlogging.config.fileConfig('vault_out/log.ini')\n",
        "KAV401",
        "fileConfig evals handler args from the file",
    ),
    _fixed(
        "import os, sys\nos.environ['PYTHONBREAKPOINT'] = 'os.system'\nsys.breakpointhook('id')\n",
        "KAV401",
        "sys.breakpointhook is breakpoint(); PYTHONBREAKPOINT names any callable",
    ),
    _fixed(
        "import pydoc\nf = pydoc.locate('subprocess.run')\n",
        "KAV101",
        "pydoc.locate imports a dotted name (like pkgutil.resolve_name)",
    ),
    _fixed("import pydoc\nf = pydoc.locate('os.system')\n", "KAV201", "pydoc.locate"),
    _fixed(
        "import logging.config\nlogging.config.BaseConfigurator({}).resolve('subprocess.run')\n",
        "KAV402",
        "BaseConfigurator.resolve imports a dotted name",
    ),
    _fixed(
        "import sys\nsys.__loader__.load_module('posix').system('id')\n",
        "KAV402",
        "__loader__ / __spec__.loader are import machinery",
    ),
    _fixed(
        "g = (lambda: (yield))()\nc = g.gi_code\nf = type(lambda: 0)(c, {})\n",
        "KAV403",
        "gi_code/f_code/cr_code and type(func)(code, globals) build functions from code",
    ),
    _fixed(
        "import gc\nr = gc.get_referents(print)\n", "KAV403", "gc.get_referents walks namespaces"
    ),
    _xf("help('os')\n", "KAV202", "help() can start $PAGER (low: only on a tty)"),
    # -- processes ----------------------------------------------------------------------
    _fixed(
        "import pydoc\npydoc.pipepager('x', 'id')\n",
        "KAV201",
        "pydoc.pipepager runs a shell command",
    ),
    _fixed(
        "import asyncio\nasyncio.get_event_loop().subprocess_shell(asyncio.SubprocessProtocol, "
        "'id')\n",
        "KAV202",
        "event-loop methods subprocess_shell/exec are not covered",
    ),
    _fixed(
        "import posix\nposix.execv('/bin/sh', ['sh'])\n",
        "KAV202",
        "catalog lists only posix.system/fork/posix_spawn, not the exec*/spawn* aliases",
    ),
    _fixed("import posix\nposix.posix_spawnp('sh', ['sh'], {})\n", "KAV202", "posix aliases"),
    _fixed("import antigravity\n", "KAV201", "importing antigravity opens a web browser"),
    _fixed(
        "import venv\nvenv.create('vault_out/v', with_pip=True)\n",
        "KAV201",
        "venv with_pip runs a subprocess",
    ),
    _fixed("import ensurepip\nensurepip.bootstrap()\n", "KAV201", "ensurepip runs pip in-process"),
    # -- network ------------------------------------------------------------------------
    _fixed(
        "import asyncio\nasyncio.get_event_loop().create_connection(asyncio.Protocol, 'x', 80)\n",
        "KAV302",
        "event-loop methods create_connection/create_server/sock_connect",
    ),
    _fixed(
        "from asyncio.streams import open_connection\n",
        "KAV302",
        "asyncio.streams.open_connection is asyncio.open_connection",
    ),
    _fixed(
        "from asyncio import streams\nstreams.open_connection('x', 80)\n",
        "KAV302",
        "asyncio.streams re-export",
    ),
    _fixed("from pip._vendor import requests\n", "KAV201", "vendored copies of network libraries"),
    _fixed("import pip._vendor.urllib3\n", "KAV201", "vendored urllib3"),
    _fixed(
        "import pydoc\npydoc.browse(port=8080)\n", "KAV201", "pydoc.browse starts an HTTP server"
    ),
    # -- deserialisers ------------------------------------------------------------------
    _fixed(
        "import numpy as np\nnp.load('x.npy', None, True)\n",
        "KAV404",
        "allow_pickle given positionally (3rd argument) is not checked",
    ),
    _fixed(
        "import yaml\nyaml.UnsafeLoader('a: 1').get_single_data()\n",
        "KAV404",
        "using an unsafe Loader class directly",
    ),
    # -- writes: path constants that are not what they seem ----------------------------
    _fixed(
        "OUT = 'vault_out/x'\ndef f(OUT='/etc/passwd'):\n    open(OUT, 'w')\n",
        "KAV502",
        "literal_path uses module_constant without scope: a parameter shadows it",
    ),
    _fixed(
        "OUT = 'vault_out/x'\ndef f(OUT):\n    open(OUT, 'w')\n",
        "KAV502",
        "a parameter named like a module constant is treated as that constant",
    ),
    _fixed(
        "OUT = 'vault_out/x'\ndef f():\n    OUT = '/etc/passwd'\n    open(OUT, 'w')\n",
        "KAV502",
        "a function local shadows the module constant",
    ),
    _fixed(
        "OUT = 'vault_out/x'\nclass K:\n    OUT = '/etc/passwd'\n    open(OUT, 'w')\n",
        "KAV502",
        "a class attribute shadows the module constant",
    ),
    _fixed(
        "OUT = 'vault_out/x'\n[OUT := '/etc/passwd' for _ in '1']\nopen(OUT, 'w')\n",
        "KAV502",
        "comprehension walrus rebinds the module constant",
    ),
    _fixed(
        "import os\nos.O_RDONLY = os.O_WRONLY | os.O_CREAT\nos.open('/etc/x', os.O_RDONLY)\n",
        "KAV403",
        "module attributes can be reassigned; O_RDONLY is trusted by name",
    ),
    _fixed(
        "import os\nos.chdir('/etc')\nopen('vault_out/x', 'w')\n",
        "KAV501",
        "relative allowed paths assume the cwd; os.chdir is not flagged",
    ),
    # -- writes: openers and writers not in the tables ---------------------------------
    _fixed(
        "import functools\nfunctools.partial(open, mode='w')('/etc/x')\n",
        "KAV502",
        "open through functools.partial",
    ),
    _fixed(
        "import functools\nw = functools.partial(open, '/etc/x', 'w')\nw()\n",
        "KAV502",
        "open through functools.partial",
    ),
    _fixed("import _io\n_io.open('/etc/x', 'w')\n", "KAV501", "_io.open is io.open"),
    _fixed("import _io\n_io.FileIO('/etc/x', 'w')\n", "KAV501", "_io.FileIO is io.FileIO"),
    _fixed("import tarfile\ntarfile.TarFile('/tmp/x.tar', 'w')\n", "KAV501", "tarfile.TarFile"),
    _fixed("import zipfile\nzipfile.PyZipFile('/tmp/x.zip', 'w')\n", "KAV501", "zipfile.PyZipFile"),
    _fixed(
        "import zipfile\nzipfile.ZipFile('vault_out/a.zip').extractall('/etc')\n",
        "KAV501",
        "extractall/extract write to their path argument",
    ),
    _fixed(
        "import tarfile\ntarfile.open('vault_out/a.tar').extractall('/')\n",
        "KAV501",
        "extractall writes to its path argument",
    ),
    _fixed(
        "import logging\nlogging.basicConfig(filename='/etc/x.log')\n",
        "KAV501",
        "basicConfig(filename=) opens a FileHandler",
    ),
    _fixed(
        "from pathlib import Path\nPath('vault_out/a').rename(target='/etc/a')\n",
        "KAV501",
        "Path.rename(target=...) by keyword: only positional targets are checked",
    ),
    _fixed(
        "from pathlib import Path\nPath('vault_out/a').replace(target='/etc/a')\n",
        "KAV501",
        "Path.replace(target=...) by keyword is taken for str.replace and skipped",
    ),
    _fixed(
        "import settings\nsettings.OUT.write_text('x')\n",
        "KAV502",
        "_method_writes only runs when the callee resolves to nothing",
    ),
    _fixed(
        "from settings import OUT\nOUT.write_text('x')\n",
        "KAV502",
        "_method_writes only runs when the callee resolves to nothing",
    ),
]


def _fp(code: str, why: str) -> object:
    return pytest.param(code, marks=pytest.mark.xfail(strict=True, reason=why))


# ======================================================================================
# FLAGGED_BENIGN (false positives): no finding expected, one is reported today
# ======================================================================================
_RECEIVER = "path-method writes are receiver-agnostic; the receiver is a local class instance"
FLAGGED_BENIGN = [
    _fixed_fp(
        "class Config:\n    def open(self, mode):\n        return mode\nConfig().open('w')\n",
        _RECEIVER,
    ),
    _fixed_fp(
        "class Doc:\n    def write_text(self, s):\n        return s\nDoc().write_text('x')\n",
        _RECEIVER,
    ),
    _fixed_fp("class Job:\n    def touch(self):\n        pass\nJob().touch()\n", _RECEIVER),
    _fixed_fp(
        "class Pool:\n    def rename(self, new):\n        self.name = new\nPool().rename('x')\n",
        _RECEIVER,
    ),
    _fixed_fp(
        "import datetime\nd = datetime.date.today().replace(2020)\n",
        "date.replace(year) with one positional argument is taken for Path.replace",
    ),
    _fixed_fp(
        "def f(dataset):\n    return dataset.rename({'a': 'b'})\n",
        "a dict literal cannot be a path target (DataFrame/Dataset.rename)",
    ),
    _fixed_fp("def f(queue):\n    queue.replace(1)\n", "an int literal cannot be a path target"),
]


@pytest.mark.parametrize(("code", "rule"), CAUGHT)
def test_caught(code: str | bytes, rule: str) -> None:
    assert rule in _rules(code)


@pytest.mark.parametrize("code", BENIGN)
def test_benign(code: str) -> None:
    assert _rules(code) == set()


@pytest.mark.parametrize(("code", "rule"), MISSED)
def test_missed_evasion(code: str | bytes, rule: str) -> None:
    assert rule in _rules(code)


@pytest.mark.parametrize("code", FLAGGED_BENIGN)
def test_flagged_benign(code: str) -> None:
    assert _rules(code) == set()


def test_corpus_size() -> None:
    assert len(CAUGHT) >= 80
    assert len(BENIGN) >= 30
