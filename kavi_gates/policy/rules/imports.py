"""Forbidden imports and calls named in the config (``forbidden_imports``, ``forbidden_calls``)."""

from __future__ import annotations

from collections.abc import Iterator

from kavi_gates.policy.catalog import builtin_qualname
from kavi_gates.policy.queries import dynamic_imports, module_hits, name_hits
from kavi_gates.policy.resolution import ModuleFacts
from kavi_gates.policy.rule import Rule, Violation


class ForbiddenImport(Rule):
    """A module listed in ``policy.forbidden_imports`` is imported.

    Every import form counts: ``import a.b as c``, ``from a import b``, star imports,
    imports inside functions and ``try`` blocks, ``__import__("a")``,
    ``importlib.import_module("a")`` and ``sys.modules["a"]``. Naming a module forbids
    its submodules (``paramiko`` forbids ``paramiko.client``).
    """

    id = "KAV101"
    category = "forbidden-imports"
    MESSAGE = "import of a forbidden module"
    VALID = [
        "import os\nimport json\n",
        "from re import compile\n",
        "x = 'import subprocess'  # a string is not an import\n",
        "import subprocessing_helpers\n",
    ]
    INVALID = [
        "import subprocess\n",
        "import subprocess as sp\n",
        "from subprocess import run\n",
        "from subprocess import *\n",
        "def f():\n    import pty\n",
        "try:\n    import paramiko.client\nexcept ImportError:\n    pass\n",
        "m = __import__('subprocess')\n",
        "import importlib\nm = importlib.import_module('pty')\n",
        "import sys\nm = sys.modules['subprocess']\n",
    ]

    def enabled(self) -> bool:
        return bool(self.policy.forbidden_imports)

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for node, hit in module_hits(facts, self.policy.forbidden_imports):
            yield Violation(node, f"import of forbidden module '{hit}' (policy.forbidden_imports)")


class ComputedImport(Rule):
    """A module is imported by a name computed at run time, so it cannot be checked.

    ``importlib.import_module(name)``, ``__import__(prefix + "ocess")`` or
    ``sys.modules[key]`` could load any module, including forbidden ones: fail closed.
    """

    id = "KAV102"
    category = "forbidden-imports"
    MESSAGE = "import of a computed module name"
    VALID = ["import importlib\nm = importlib.import_module('json')\n"]
    INVALID = [
        "import importlib\nname = 'sub' + 'process'\nm = importlib.import_module(name)\n",
        "m = __import__('o' + 's')\n",
        "import sys\nm = sys.modules[k]\n",
    ]

    def enabled(self) -> bool:
        p = self.policy
        return bool(p.forbidden_imports) or p.process == "deny" or p.network == "deny"

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for node, target in dynamic_imports(facts):
            if target is None:
                yield Violation(node, "module imported by a computed name cannot be checked")


class ForbiddenCall(Rule):
    """A function listed in ``policy.forbidden_calls`` is referenced.

    Any reference counts, not only calls: ``f = os.system`` is already a finding. Names
    resolve through aliases (``import os as o; o.system``), ``from os import system as s``,
    star imports, assignments (``m = os; m.system``), ``getattr(os, "system")`` and
    ``__import__("os").system``. A local function or method of the same name is not it.
    """

    id = "KAV111"
    category = "forbidden-calls"
    MESSAGE = "reference to a forbidden function"
    VALID = [
        "class Box:\n    def system(self):\n        return 1\n\nBox().system()\n",
        "def system(cmd):\n    return cmd\n\nsystem('ls')\n",
        "import os\nprint(os.path.join('a', 'b'))\n",
        "# os.system('ls') in a comment\ns = 'os.system'\n",
    ]
    INVALID = [
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
    ]

    def enabled(self) -> bool:
        return bool(self.policy.forbidden_calls)

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        names = [builtin_qualname(n) for n in self.policy.forbidden_calls]
        for node, hit in name_hits(facts, names):
            yield Violation(
                node, f"reference to forbidden function '{hit}' (policy.forbidden_calls)"
            )
