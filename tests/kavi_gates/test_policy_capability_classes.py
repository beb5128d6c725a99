"""Writers, process starters, network clients and imports by string the policy gate did not
know (issue 13, item 1), each reached the ways an attacker would, beside look-alikes
that must pass. Runs ``check_source`` under the project's default policy."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kavi_gates.config import PolicyConfig
from kavi_gates.policy.check import check_source
from kavi_gates.policy.rules import BUILTIN_RULES

POLICY = PolicyConfig(
    forbidden_imports=("subprocess", "pty", "paramiko"),
    forbidden_calls=("os.system",),
)


def rules(code: str) -> set[str]:
    return {f.rule for f in check_source(code.encode(), "skills/s.py", POLICY, BUILTIN_RULES)}


WRITERS = [
    (
        "import fileinput\nfor line in fileinput.input('notes.md', inplace=True):\n    pass\n",
        "KAV501",
    ),
    (
        "import fileinput as fi\nfor line in fi.FileInput(['a', 'b'], inplace=1):\n    pass\n",
        "KAV501",
    ),
    ("from fileinput import input as lines\nfor x in lines('n.md', True):\n    pass\n", "KAV501"),
    ("import fileinput\ndef f(p):\n    return fileinput.input(p, inplace=True)\n", "KAV502"),
    ("import fileinput\nfileinput.input(inplace=True)\n", "KAV502"),
    ("import fileinput\nkw = {'inplace': True}\nfileinput.input('n.md', **kw)\n", "KAV501"),
    ("import mailbox\nbox = mailbox.mbox('/tmp/box')\n", "KAV501"),
    ("from mailbox import Maildir\nbox = Maildir('/tmp/mail')\n", "KAV501"),
    ("import http.cookiejar\njar = http.cookiejar.MozillaCookieJar('cookies.txt')\n", "KAV501"),
    ("from http.cookiejar import LWPCookieJar\njar = LWPCookieJar()\n", "KAV502"),
    (
        "from six.moves import http_cookiejar\njar = http_cookiejar.MozillaCookieJar('c')\n",
        "KAV501",
    ),
    ("import torch\ntorch.save({}, 'model.pt')\n", "KAV501"),
    ("from torch import save as keep\nkeep({}, '/tmp/m.pt')\n", "KAV501"),
    ("import torch\ndef f(p):\n    torch.save({}, p)\n", "KAV502"),
    ("import compileall\ncompileall.compile_dir('skills')\n", "KAV501"),
    ("import compileall\ncompileall.compile_path()\n", "KAV502"),
    ("import py_compile\npy_compile.compile('skills/x.py')\n", "KAV501"),
    ("import py_compile\npy_compile.compile('vault_out/x.py', cfile='/tmp/x.pyc')\n", "KAV501"),
    ("import zipapp\nzipapp.create_archive('app', '/tmp/app.pyz')\n", "KAV501"),
    ("import zipapp\nzipapp.create_archive('app')\n", "KAV501"),
    ("import dbm.dumb\ndb = dbm.dumb.open('/tmp/db')\n", "KAV501"),
    ("import wave\nw = wave.open('/tmp/a.wav', 'wb')\n", "KAV501"),
    ("import uu\nuu.decode('vault_out/a.uu')\n", "KAV502"),
    ("import operator, torch\noperator.methodcaller('save', {}, '/tmp/m')(torch)\n", "KAV502"),
]


@pytest.mark.parametrize(("code", "rule"), WRITERS)
def test_writers_are_checked_like_open(code: str, rule: str) -> None:
    assert rule in rules(code)


@pytest.mark.parametrize(
    "code",
    [
        "import fileinput\nfor line in fileinput.input('notes.md'):\n    print(line)\n",
        "import fileinput\nfor line in fileinput.input('notes.md', inplace=False):\n    pass\n",
        "import torch\ntorch.save({}, 'vault_out/model.pt')\n",
        "import mailbox\nbox = mailbox.mbox('vault_out/box')\n",
        "import wave\nw = wave.open('data/a.wav')\n",
        "import dbm.dumb\ndb = dbm.dumb.open('artifacts_out/db')\n",
        "import py_compile\npy_compile.compile('vault_out/x.py')\n",
    ],
)
def test_reads_and_writes_inside_the_allowed_paths_pass(code: str) -> None:
    assert rules(code) == set()


PROCESS = [
    ("import os\nos.kill(1, 9)\n", "KAV202"),
    ("from os import killpg as k\nk(1, 9)\n", "KAV202"),
    ("import os\ngetattr(os, 'ki' + 'll')(1, 9)\n", "KAV202"),
    ("import signal\nsignal.pidfd_send_signal(3, 9)\n", "KAV202"),
    ("import posix\nposix.kill(1, 9)\n", "KAV202"),
    ("import _xxsubinterpreters\n", "KAV201"),
    ("import _interpreters as i\n", "KAV201"),
    ("from concurrent import interpreters\n", "KAV201"),
    ("m = __import__('_xxsubinterpreters')\n", "KAV201"),
    ("import _testcapi\n_testcapi.run_in_subinterp('import os')\n", "KAV202"),
    ("import _testcapi\n", "KAV405"),
    ("import platform\ncpu = platform.processor()\n", "KAV202"),
    ("import platform\nprint(platform.platform())\n", "KAV202"),
    (
        "from platform import uname\nsystem, node, release, version, machine, cpu = uname()\n",
        "KAV202",
    ),
    ("import platform\nbits = platform.architecture('/bin/ls')\n", "KAV202"),
    ("from platform import *\nprint(processor())\n", "KAV202"),
    ("import invoke\ninvoke.run('id')\n", "KAV201"),
]


@pytest.mark.parametrize(("code", "rule"), PROCESS)
def test_process_starters_and_signals_are_caught(code: str, rule: str) -> None:
    assert rule in rules(code)


@pytest.mark.parametrize(
    "code",
    [
        "import platform\nprint(platform.system(), platform.machine(), platform.python_version())\n",
        "import os\nprint(os.getpid())\n",
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_DFL)\n",
    ],
)
def test_platform_queries_that_do_not_shell_out_pass(code: str) -> None:
    assert rules(code) == set()


NETWORK = [
    "from huggingface_hub import hf_hub_download\n",
    "import huggingface_hub as hub\nhub.snapshot_download('a/b')\n",
    "import torch\nmodel = torch.hub.load('a/b', 'm')\n",
    "import torch.hub\n",
    "from torch import hub\n",
    "from fabric import Connection\n",
    "import fabric\nfabric.Connection('host').run('id')\n",
    "from pysnmp.hlapi import getCmd\n",
    "import paramiko\n",
    "from six.moves.urllib.request import urlopen\n",
    "from six.moves import urllib\nurllib.request.urlopen('http://x')\n",
    "from six.moves import http_client\n",
    "import six\nsix.moves.urllib.request.urlopen('http://x')\n",
    "from six.moves import BaseHTTPServer\n",
    "from future.moves.urllib.request import urlopen\n",
    "import redis\n",
    "import nltk\nnltk.download('punkt')\n",
    "from sklearn.datasets import fetch_openml\n",
]


@pytest.mark.parametrize("code", NETWORK)
def test_network_clients_are_caught(code: str) -> None:
    assert rules(code) & {"KAV301", "KAV302"}


@pytest.mark.parametrize(
    "code",
    [
        "from six.moves.urllib.parse import quote\n",
        "from six.moves import range\nfor i in range(3):\n    pass\n",
        "import torch\nx = torch.zeros(3)\n",
    ],
)
def test_their_harmless_neighbours_pass(code: str) -> None:
    assert rules(code) == set()


def test_six_moves_builtins_and_pickle_are_their_standard_modules() -> None:
    assert "KAV401" in rules("from six.moves import builtins\nbuiltins.eval('1')\n")
    assert "KAV404" in rules("from six.moves import cPickle\n")
    assert "KAV401" in rules("import six\nsix.exec_('x = 1')\n")


IMPORTS_BY_STRING = [
    (
        "from pydantic import BaseModel, ImportString\nclass M(BaseModel):\n    f: ImportString\n",
        "KAV402",
    ),
    (
        "import pydantic\nclass M(pydantic.BaseModel):\n    f: pydantic.types.ImportString\n",
        "KAV402",
    ),
    ("import pydantic\nclass M(pydantic.BaseModel):\n    f: 'pydantic.ImportString'\n", "KAV402"),
    (
        "from typing import Annotated, Optional\nfrom pydantic import BaseModel, ImportString\n"
        "class M(BaseModel):\n    f: Optional[Annotated[ImportString, 'doc']] = None\n",
        "KAV402",
    ),
    (
        "from pydantic import BaseModel, ImportString\nclass M(BaseModel):\n"
        "    f: dict[str, list['ImportString']]\n",
        "KAV402",
    ),
    ("from pydantic import TypeAdapter, ImportString as I\nTypeAdapter(I)\n", "KAV402"),
    ("import pydantic as p\nta = p.TypeAdapter(list[p.ImportString])\n", "KAV402"),
    (
        "from pydantic import TypeAdapter\nta = TypeAdapter('ImportString')\nfrom pydantic import ImportString\n",
        "KAV402",
    ),
    ("from pydantic import *\nclass M(BaseModel):\n    f: ImportString\n", "KAV402"),
    ("from pydantic.v1 import PyObject\n", "KAV402"),
    (
        "import importlib.metadata as md\nfor ep in md.entry_points(group='x'):\n    ep.load()\n",
        "KAV402",
    ),
    (
        "from importlib import metadata\nd = metadata.distribution('x')\neps = d.entry_points\n",
        "KAV402",
    ),
    ("import pkg_resources\n", "KAV402"),
    ("from hydra.utils import instantiate\nobj = instantiate(cfg)\n", "KAV402"),
    ("import importlib\nm = importlib.import_module('sub' + 'process')\n", "KAV101"),
    ("import importlib.resources\nt = importlib.resources.files('subprocess')\n", "KAV101"),
    ("from importlib.resources import files\ndef f(pkg):\n    return files(pkg)\n", "KAV102"),
    ("import pkgutil\nf = pkgutil.resolve_name('os:system')\n", "KAV111"),
    ("import pydoc\nf = pydoc.locate('os.sys' + 'tem')\n", "KAV111"),
    ("from werkzeug.utils import import_string\nrun = import_string('subprocess.run')\n", "KAV101"),
    ("from django.utils.module_loading import import_string as i\nf = i(name)\n", "KAV102"),
    ("from hydra.utils import get_method\nf = get_method('os.system')\n", "KAV111"),
    ("from unittest import mock\np = mock.patch('subprocess.run')\n", "KAV101"),
    ("m = __import__('o' 's').popen('id')\n", "KAV202"),
    (
        "from pydantic import BaseModel\nclass M(BaseModel):\n    x: \"__import__('os').system('id') or int\"\n",
        "KAV401",
    ),
    ("import typing\nr = typing.ForwardRef(\"eval('1')\")\n", "KAV401"),
]


@pytest.mark.parametrize(("code", "rule"), IMPORTS_BY_STRING)
def test_imports_by_string_are_caught(code: str, rule: str) -> None:
    assert rule in rules(code)


@pytest.mark.parametrize(
    "code",
    [
        "from pydantic import BaseModel\nclass M(BaseModel):\n    f: 'int | None' = None\n",
        "from typing import Literal\nfrom pydantic import BaseModel\nclass M(BaseModel):\n"
        "    kind: Literal[\"__import__('os')\"] = \"__import__('os')\"\n",
        "from typing import Annotated\nfrom pydantic import BaseModel\nclass M(BaseModel):\n"
        "    n: Annotated[int, 'how many (per day); see eval()'] = 0\n",
        "import importlib.metadata\nv = importlib.metadata.version('attrs')\n",
        "from importlib.metadata import PackageNotFoundError, version\n",
        "from importlib import resources\nt = resources.files(__package__).joinpath('a.txt')\n",
        "import importlib.resources\nimport mypkg\nt = importlib.resources.files(mypkg)\n",
        "import importlib.resources\nt = importlib.resources.read_text('mypkg.data', 'a.txt')\n",
        "from pydantic import TypeAdapter\nta = TypeAdapter(list[int])\n",
    ],
)
def test_type_expressions_and_read_only_importlib_pass(code: str) -> None:
    assert rules(code) == set()


AMBIGUOUS_PRIVATE = """from kavi_skills import BaseSkill


class S(BaseSkill):
    def execute(self, data):
        c = self.context
        if data:
            c = c.files
        elif data is None:
            c = c.http
        return c._roots
"""


def test_a_finding_names_the_same_place_whatever_the_hash_seed() -> None:
    """A name that may hold several capabilities is reported by the first in order: the
    message (a baseline's and a reviewer's anchor) must not change from run to run."""
    probe = (
        "import sys\n"
        "from kavi_gates.config import PolicyConfig\n"
        "from kavi_gates.policy.check import check_source\n"
        "from kavi_gates.policy.rules import BUILTIN_RULES\n"
        "found = check_source(sys.stdin.buffer.read(), 's.py', PolicyConfig(), BUILTIN_RULES)\n"
        "print([f.message for f in found if f.rule == 'KAV122'])\n"
    )
    seen = set()
    for seed in range(4):
        env = {**os.environ, "PYTHONHASHSEED": str(seed)}
        done = subprocess.run(
            [sys.executable, "-c", probe],
            input=AMBIGUOUS_PRIVATE.encode(),
            capture_output=True,
            env=env,
            check=True,
        )
        seen.add(done.stdout)
    assert len(seen) == 1 and b"self.context._roots" in seen.pop()
