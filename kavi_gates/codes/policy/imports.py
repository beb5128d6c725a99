"""Forbidden imports and calls named in the config (``forbidden_imports``, ``forbidden_calls``).

Their trigger words are the configured names, which the policy gate adds to these."""

from __future__ import annotations

from kavi_gates.models import Code
from kavi_gates.policy.catalog import INDIRECTION_WORDS

GATE = "policy"

FORBIDDEN_IMPORT = Code(
    id="KAV101",
    gate=GATE,
    category="forbidden-imports",
    title="import of a forbidden module",
    doc="""
        A module listed in ``policy.forbidden_imports`` is imported.

        Every import form counts: ``import a.b as c``, ``from a import b``, star imports,
        imports inside functions and ``try`` blocks, ``__import__("a")``,
        ``importlib.import_module("a")`` and ``sys.modules["a"]``. Naming a module forbids
        its submodules (``paramiko`` forbids ``paramiko.client``).
        """,
    fix="""
        Remove the import. If the project does allow the module, take it out of
        policy.forbidden_imports (or allow it for some paths with an override).
        """,
    valid=(
        "import os\nimport json\n",
        "from re import compile\n",
        "x = 'import subprocess'  # a string is not an import\n",
        "import subprocessing_helpers\n",
    ),
    invalid=(
        "import subprocess\n",
        "import subprocess as sp\n",
        "from subprocess import run\n",
        "from subprocess import *\n",
        "def f():\n    import pty\n",
        "try:\n    import paramiko.client\nexcept ImportError:\n    pass\n",
        "m = __import__('subprocess')\n",
        "import importlib\nm = importlib.import_module('pty')\n",
        "import sys\nm = sys.modules['subprocess']\n",
    ),
    triggers=tuple(sorted(INDIRECTION_WORDS)),
)
COMPUTED_IMPORT = Code(
    id="KAV102",
    gate=GATE,
    category="forbidden-imports",
    title="import of a computed module name",
    doc="""
        A module is imported by a name computed at run time, so it cannot be checked.

        ``importlib.import_module(name)``, ``__import__(prefix + "ocess")`` or
        ``sys.modules[key]`` could load any module, including forbidden ones: fail closed.
        """,
    fix="Import the module by its literal name (import json), so the gate can check it.",
    valid=("import importlib\nm = importlib.import_module('json')\n",),
    invalid=(
        "import importlib\nname = 'sub' + 'process'\nm = importlib.import_module(name)\n",
        "m = __import__('o' + 's')\n",
        "import sys\nm = sys.modules[k]\n",
    ),
    triggers=tuple(sorted(INDIRECTION_WORDS)),
)
FORBIDDEN_CALL = Code(
    id="KAV111",
    gate=GATE,
    category="forbidden-calls",
    title="reference to a forbidden function",
    doc="""
        A function listed in ``policy.forbidden_calls`` is referenced.

        Any reference counts, not only calls: ``f = os.system`` is already a finding.
        Names resolve through aliases (``import os as o; o.system``), ``from os import
        system as s``, star imports, assignments (``m = os; m.system``),
        ``getattr(os, "system")`` and ``__import__("os").system``. A local function or
        method of the same name is not it.
        """,
    fix="""
        Do without the function. If the project does allow it, take it out of
        policy.forbidden_calls (or allow it for some paths with an override).
        """,
    valid=(
        "class Box:\n    def system(self):\n        return 1\n\nBox().system()\n",
        "def system(cmd):\n    return cmd\n\nsystem('ls')\n",
        "import os\nprint(os.path.join('a', 'b'))\n",
        "# os.system('ls') in a comment\ns = 'os.system'\n",
    ),
    invalid=(
        "import os\nos.system('ls')\n",
        "import os as o\no.system('ls')\n",
        "from os import system\nsystem('ls')\n",
        "from os import system as run\nrun('ls')\n",
        "import os\nf = os.system\n",
        "import os\nm = os\nm.system('ls')\n",
        "from os import *\nsystem('ls')\n",
        "import os\ngetattr(os, 'system')('ls')\n",
        "__import__('os').system('ls')\n",
        "def f():\n    import os\n    return os.system\n",
    ),
    triggers=tuple(sorted(INDIRECTION_WORDS)),
)
