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
    key_words,
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
        "get_field",
        "TYPE_CHECKING",
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
        and neither is ``re.compile`` or ``ast.literal_eval`` (also after ``from re import
        *``, which certainly binds ``compile``).

        A quoted annotation that calls anything is code too: pydantic, dataclasses and
        ``typing.get_type_hints`` evaluate it (``x: "__import__('os').system('id')"``).
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
        "from re import *\npattern = compile('a+')\n",
        "from typing import Optional\nimport builtins\ndef f(x: 'Optional[int]') -> None:\n"
        "    pass\n",
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
        "from re import *\nif flag:\n    from builtins import *\ncompile('1', 's', 'eval')\n",
        "from pydantic import BaseModel\nclass M(BaseModel):\n"
        "    x: \"__import__('os').system('id') or int\"\n",
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
        pkg_resources, ``sys.modules``, ``sys.meta_path`` — each can load or run code chosen
        at run time. So do the APIs that import what *data* names: pydantic's
        ``ImportString`` (as an annotation, quoted or not, inside ``Optional``/``Annotated``/
        containers, or given to ``TypeAdapter``), ``PyObject`` (pydantic v1), entry points
        (``importlib.metadata.entry_points``, a distribution's ``entry_points``) and hydra's
        ``instantiate``/``call``.

        ``importlib.metadata`` and ``importlib.resources`` only read package metadata and
        data: importing them is not a finding. The anchor given to ``importlib.resources``
        (``files("pkg")``) is imported, so it is checked like any import by name (a forbidden
        anchor is KAV101, a computed one KAV102); ``files(__package__)`` imports nothing new.
        """,
    fix="""
        Import modules statically. To choose among implementations, import each one and
        pick in code.
        """,
    valid=(
        "import sys\nprint(sys.argv)\n",
        "import json\njson.loads('{}')\n",
        "from importlib.metadata import version\nv = version('attrs')\n",
        "import importlib.resources\nt = importlib.resources.files(__package__)\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import importlib\n"
        "def f(m: 'importlib.abc.Loader') -> None:\n    pass\n",
    ),
    invalid=(
        "import importlib\n",
        "from importlib import import_module\n",
        "import runpy\nrunpy.run_path('x.py')\n",
        "import sys\nmods = sys.modules\n",
        "import pkgutil\nf = pkgutil.resolve_name('os:system')\n",
        "from pydantic import BaseModel, ImportString\nclass M(BaseModel):\n    f: ImportString\n",
        "import pydantic\nclass M(pydantic.BaseModel):\n    f: 'pydantic.ImportString'\n",
        "from pydantic import TypeAdapter, ImportString\nTypeAdapter(ImportString)\n",
        "import importlib.metadata\neps = importlib.metadata.entry_points(group='x')\n",
    ),
    triggers=tuple(
        sorted(
            words_of(IMPORT_MACHINERY_MODULES)
            | key_words(IMPORT_MACHINERY_NAMES)
            | {"entry_points"}
            | INDIRECTION_WORDS
        )
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

        The same names reached by a string are the same finding, however the string is
        built: ``getattr(object, "__subclasses__")``, ``getattr(f, "__glo" + "bals__")``,
        ``operator.attrgetter("f.__globals__")``, ``methodcaller("__subclasses__")``,
        ``inspect.getattr_static``, ``vars(m)["__builtins__"]``, a format field's
        ``get_field("0.__globals__")``. ``x.__self__`` is a finding when ``x`` is a function
        the analysis knows (``len.__self__`` is the builtins module); a bound method's
        ``__self__`` is its object, and names read on it still resolve as builtins.

        A namespace view (``globals()``, ``vars(m)``, ``m.__dict__``) used only for its keys
        (``k in globals()``, ``sorted(vars(m))``, ``.keys()``) or one literal, ordinary key
        is not a finding; its values escaping, a computed key or a change is. A module that
        hosts capabilities used as a value is a finding when it is handed to a function
        defined elsewhere, or when the file also reads, on objects it cannot follow, a name
        that module's capabilities go by (``m.system``, ``getattr(x, name)``); comparing or
        printing it is not. Assigning to a module's attributes is a finding (redirecting
        ``sys.stdout``/``stderr``/``stdin`` aside), and so is assigning ``TYPE_CHECKING``.

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
        "def f(fn):\n    return getattr(fn, '__name__', '?')\n",
        "class A:\n    def m(self):\n        return self.m.__self__\n",
        "if 'x' not in globals():\n    x = 1\n",
        "import json\nnames = sorted(vars(json))\n",
        "import sys\nkinds = {sys: 'sys'}\nprint(sys)\n",
        "import sys\nsys.stdout = open('vault_out/log.txt', 'w')\n",
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
        "x = getattr(object, '__subclasses__')()\n",
        "def f(fn):\n    return getattr(fn, '__glo' + 'bals__')\n",
        "import math\nloader = getattr(math, '__loader__')\n",
        "import operator\nget = operator.attrgetter('__init__.__globals__')\n",
        "x = len.__self__\n",
        "import json\nb = vars(json)['__builtins__']\n",
        "import os\nmods = [os]\nfor m in mods:\n    m.system('id')\n",
        "import typing\ntyping.TYPE_CHECKING = True\n",
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
        ``numpy.load`` with ``allow_pickle``, ``torch.load`` without ``weights_only=True``,
        ``pandas.read_pickle``. ``numpy.load`` or ``torch.load`` handed on as a value is a
        finding too: its arguments cannot be checked.
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
        "import torch\nstate = torch.load('m.pt', weights_only=True)\n",
    ),
    invalid=(
        "import pickle\n",
        "from pickle import loads\n",
        "import marshal\n",
        "import yaml\ndata = yaml.load(text)\n",
        "import yaml\ndata = yaml.load(text, Loader=yaml.Loader)\n",
        "import yaml\ndata = yaml.unsafe_load(text)\n",
        "import numpy as np\narr = np.load('x.npy', allow_pickle=True)\n",
        "import torch\nstate = torch.load('m.pt')\n",
        "import torch\nstate = torch.load('m.pt', weights_only=False)\n",
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
    doc="""
        Native code is loaded: ctypes, cffi — they call any C function, bypassing policy —
        and CPython's test-only C modules (_testcapi, _testinternalcapi), which read and
        write raw memory and run source in new interpreters.
        """,
    fix="Use a pure-Python library, or a reviewed extension module imported normally.",
    valid=("import struct\nstruct.pack('i', 1)\n",),
    invalid=("import ctypes\n", "from ctypes import CDLL\n", "import cffi\n"),
    triggers=tuple(sorted(words_of(NATIVE_MODULES) | INDIRECTION_WORDS)),
)
