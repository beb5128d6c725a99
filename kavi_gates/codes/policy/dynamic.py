"""``forbid_dynamic_exec``: code that runs code — eval/exec, the import machinery,
namespace and frame escapes, code-running deserialisers and native code."""

from __future__ import annotations

from kavi_gates.models import Code
from kavi_gates.policy.catalog import (
    DESERIALIZER_FUNCTIONS,
    DESERIALIZER_MODULES,
    DYNAMIC_BUILTINS,
    ESCAPE_ATTRIBUTES,
    IMPORT_MACHINERY_MODULES,
    IMPORT_MACHINERY_NAMES,
    INDIRECTION_WORDS,
    INTROSPECTION_NAMES,
    MODULE_HOSTS,
    NATIVE_MODULES,
    YAML_LOADERS,
    words_of,
)

GATE = "policy"
CATEGORY = "dynamic-exec"
# Namespace escapes also come through these, and any imported module can be monkeypatched
# (``import json; json.dumps = f``): a file with an import statement may need this rule.
_ESCAPE_WORDS = frozenset(
    {
        "import",
        "builtins",
        "getattr",
        "setattr",
        "delattr",
        "vars",
        "globals",
        "locals",
        "attrgetter",
        "methodcaller",
    }
)

DYNAMIC_EXEC_BUILTIN = Code(
    id="KAV401",
    gate=GATE,
    category=CATEGORY,
    title="dynamic code execution",
    doc="""
        A builtin that runs or compiles code is referenced: eval, exec, compile,
        ``__import__``, breakpoint — by any route, including ``builtins.eval``,
        ``__builtins__.exec``, ``e = eval`` and ``getattr(builtins, "eval")``.

        A parameter, local function or method with one of these names is not the builtin,
        and neither is ``re.compile`` or ``ast.literal_eval``.
        """,
    fix="""
        Parse data instead of running it (json.loads, ast.literal_eval), and call functions
        directly instead of building code in strings.
        """,
    valid=(
        "import re\npattern = re.compile('a+')\n",
        "from re import compile\npattern = compile('a+')\n",
        "import ast\nvalue = ast.literal_eval('[1, 2]')\n",
        "def run(model):\n    model.eval()\n",
        "def apply(eval, x):\n    return eval(x)\n",
        "def open_it():\n    def exec(q):\n        return q\n    return exec('x')\n",
    ),
    invalid=(
        "eval('1 + 1')\n",
        "exec('x = 1')\n",
        "code = compile('1', '<s>', 'eval')\n",
        "runner = eval\n",
        "import builtins\nbuiltins.exec('x = 1')\n",
        "from builtins import eval as e\n",
        "__builtins__.eval('1')\n",
        "import builtins\ngetattr(builtins, 'ev' 'al')('1')\n",
        "def f():\n    return eval('1')\n",
        "x = eval('1')\neval = len\n",
        "if False:\n    def eval(s):\n        return s\neval('1')\n",
    ),
    triggers=tuple(sorted(words_of(DYNAMIC_BUILTINS) | INDIRECTION_WORDS)),
)
IMPORT_MACHINERY = Code(
    id="KAV402",
    gate=GATE,
    category=CATEGORY,
    title="use of the import machinery",
    doc="""
        The import machinery is used: importlib, imp, runpy, pkgutil, zipimport, code,
        ``sys.modules``, ``sys.meta_path`` — each can load or run code chosen at run time.
        """,
    fix="""
        Import modules statically. To choose among implementations, import each one and
        pick in code.
        """,
    valid=("import sys\nprint(sys.argv)\n", "import json\njson.loads('{}')\n"),
    invalid=(
        "import importlib\n",
        "from importlib import import_module\n",
        "import runpy\nrunpy.run_path('x.py')\n",
        "import sys\nmods = sys.modules\n",
        "import pkgutil\nf = pkgutil.resolve_name('os:system')\n",
    ),
    triggers=tuple(
        sorted(words_of(IMPORT_MACHINERY_MODULES, IMPORT_MACHINERY_NAMES) | INDIRECTION_WORDS)
    ),
)
INTROSPECTION_ESCAPE = Code(
    id="KAV403",
    gate=GATE,
    category=CATEGORY,
    title="namespace or frame escape",
    doc="""
        A namespace or frame is reached by value: ``globals()``, ``locals()``, ``vars()``
        of a module, ``__builtins__``, ``getattr`` on a module or builtin with a computed
        name, ``os.__dict__``, frames (``sys._getframe``, ``f_globals``),
        ``__subclasses__`` / ``__globals__`` / ``__code__`` chains, and
        ``operator.attrgetter`` on such names.

        These are how string-built names reach eval or os.system without naming them.
        """,
    fix="""
        Reach attributes by their literal names on your own objects; do not pass modules,
        namespaces, frames or code objects around, and do not assign to another module's
        attributes.
        """,
    valid=(
        "def describe(obj):\n    return getattr(obj, 'name', None)\n",
        "class A:\n    def get(self, key):\n        return getattr(self, key)\n",
        "def fields(obj):\n    return vars(obj)\n",
        "from operator import attrgetter\nkey = attrgetter('name')\n",
        "class A:\n    pass\nstate = A().__dict__\n",
    ),
    invalid=(
        "g = globals()\n",
        "b = __builtins__\n",
        "import os\nf = getattr(os, 'sys' + 'tem')\n",
        "import builtins\nf = getattr(builtins, name)\n",
        "import os\nf = os.__dict__['system']\n",
        "import os\nns = vars(os)\n",
        "import sys\nframe = sys._getframe()\n",
        "x = ().__class__.__bases__[0].__subclasses__()\n",
        "def f(fn):\n    return fn.__globals__\n",
        "from operator import attrgetter\nget = attrgetter('system')\n",
    ),
    triggers=tuple(
        sorted(
            words_of(INTROSPECTION_NAMES, ESCAPE_ATTRIBUTES, MODULE_HOSTS)
            | _ESCAPE_WORDS
            | INDIRECTION_WORDS
        )
    ),
)
DESERIALIZER = Code(
    id="KAV404",
    gate=GATE,
    category=CATEGORY,
    title="code-running deserialiser",
    doc="""
        A deserialiser that can run code is used: pickle, marshal, shelve, dill,
        cloudpickle, joblib, ``yaml.load`` without a safe Loader, ``yaml.unsafe_load``,
        ``numpy.load`` with ``allow_pickle``, ``torch.load``, ``pandas.read_pickle``.
        """,
    fix="""
        Store data in a format that cannot run code: json, yaml.safe_load (or yaml.load
        with Loader=yaml.SafeLoader), numpy.load without allow_pickle.
        """,
    valid=(
        "import json\ndata = json.loads('{}')\n",
        "import yaml\ndata = yaml.safe_load('a: 1')\n",
        "import yaml\ndata = yaml.load('a: 1', Loader=yaml.SafeLoader)\n",
        "import numpy as np\narr = np.load('x.npy')\n",
    ),
    invalid=(
        "import pickle\n",
        "from pickle import loads\n",
        "import marshal\n",
        "import yaml\ndata = yaml.load(text)\n",
        "import yaml\ndata = yaml.load(text, Loader=yaml.Loader)\n",
        "import yaml\ndata = yaml.unsafe_load(text)\n",
        "import numpy as np\narr = np.load('x.npy', allow_pickle=True)\n",
    ),
    triggers=tuple(
        sorted(
            words_of(DESERIALIZER_MODULES, DESERIALIZER_FUNCTIONS, YAML_LOADERS) | INDIRECTION_WORDS
        )
    ),
)
NATIVE_CODE = Code(
    id="KAV405",
    gate=GATE,
    category=CATEGORY,
    title="native code",
    doc="Native code is loaded: ctypes, cffi — they call any C function, bypassing policy.",
    fix="Use a pure-Python library, or a reviewed extension module imported normally.",
    valid=("import struct\nstruct.pack('i', 1)\n",),
    invalid=("import ctypes\n", "from ctypes import CDLL\n", "import cffi\n"),
    triggers=tuple(sorted(words_of(NATIVE_MODULES) | INDIRECTION_WORDS)),
)
