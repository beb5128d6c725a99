"""Attributes reached by a name in a string, namespaces and modules handed around as values
(issue 13, item 1): the attacker's moves, each with the benign code that looks like it.

Every case runs through ``check_source`` under the project's default policy (as in
``test_policy_adversarial``); a move has failed when its finding is reported.
"""

from __future__ import annotations

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


# -- dunders reached by name, on any object, however the name is built -----------------
DUNDERS_BY_NAME = [
    "x = getattr(object, '__subclasses__')()\n",
    "x = getattr(type, '__subclasses__')(object)\n",
    "def f(fn):\n    return getattr(fn, '__globals__')\n",
    "import math\nloader = getattr(math, '__loader__')\n",
    "import math\nspec = getattr(math, '__spec__')\n",
    "def f(fn):\n    return getattr(fn, '__glo' + 'bals__')\n",
    "def f(fn):\n    return getattr(fn, '__glo' 'bals__')\n",
    "def f(fn):\n    return getattr(fn, '_' * 2 + 'code' + '_' * 2)\n",
    "def f(fn):\n    return getattr(fn, '__%s__' % 'globals')\n",
    "def f(fn):\n    return getattr(fn, '__{}__'.format('globals'))\n",
    "def f(fn):\n    return getattr(fn, ''.join(['__glo', 'bals__']))\n",
    "def f(fn):\n    return getattr(fn, '__slabolg__'[::-1])\n",
    "def f(fn):\n    return getattr(fn, b'__globals__'.decode())\n",
    "def f(fn):\n    return getattr(fn, '__GLOBALS__'.lower())\n",
    "def f(fn):\n    return getattr(fn, f'__{\"globals\"}__')\n",
    "NAME = '__globals__'\ndef f(fn):\n    return getattr(fn, NAME)\n",
    "def f(fn):\n    name = '__code__'\n    return getattr(fn, name)\n",
    "import builtins\ndef f(fn):\n    return builtins.getattr(fn, '__globals__')\n",
    "g = getattr\ndef f(fn):\n    return g(fn, '__globals__')\n",
    "from builtins import getattr as ga\ndef f(fn):\n    return ga(fn, '__globals__')\n",
    "import inspect\ndef f(fn):\n    return inspect.getattr_static(fn, '__globals__')\n",
    "import operator\nget = operator.attrgetter('__globals__')\n",
    "from operator import attrgetter as ag\nget = ag('__init__.__globals__')\n",
    "import operator\ncall = operator.methodcaller('__subclasses__')\n",
    "import operator\nsubs = operator.methodcaller('__sub' + 'classes__')(object)\n",
    "def f(fn, code):\n    setattr(fn, '__code__', code)\n",
    "def f(m):\n    delattr(m, '__builtins__')\n",
    "import json\nb = vars(json)['__builtins__']\n",
    "import json\nb = json.__dict__['__builtins__']\n",
    "b = globals()['__builtins__']\n",
    "b = globals().get('__builtins__')\n",
    "import string\nf = string.Formatter().get_field('0.__globals__', [print], {})\n",
    "def f(fn):\n    return type(fn).__dict__['__globals__'].__get__(fn)\n",
    "def f(fn):\n    return vars(type(fn))['__glo' + 'bals__']\n",
    "def f(o):\n    return o.__dict__.get('__builtins__')\n",
    "def f(fn):\n    class K:\n        def go(self):\n            return getattr(fn, '__globals__')\n"
    "    return K\n",
    "h = lambda fn: getattr(fn, '__code__')\n",
]


@pytest.mark.parametrize("code", DUNDERS_BY_NAME)
def test_a_dunder_reached_by_name_is_kav403(code: str) -> None:
    assert "KAV403" in rules(code)


def test_the_attribute_and_the_by_name_forms_are_the_same_finding() -> None:
    attribute = check_source(
        b"def f(fn):\n    return fn.__globals__\n", "s.py", POLICY, BUILTIN_RULES
    )
    by_name = check_source(
        b"def f(fn):\n    return getattr(fn, '__glo' + 'bals__')\n", "s.py", POLICY, BUILTIN_RULES
    )
    assert [f.rule for f in attribute] == [f.rule for f in by_name] == ["KAV403"]


ORDINARY_NAMES = [
    "def f(fn):\n    return getattr(fn, '__name__', repr(fn))\n",
    "def f(cls):\n    return getattr(cls, '__annotations__', {})\n",
    "def f(obj):\n    return getattr(obj, '__dict__', {})\n",
    "def f(obj):\n    return hasattr(obj, '__globals__')\n",
    "class A:\n    def get(self, name):\n        return getattr(self, name)\n",
    "import operator\nby_name = operator.attrgetter('name', 'size')\n",
    "import operator\nstrip = operator.methodcaller('strip')\n",
    "x = '__globals__'\nprint(x)\n",
    "def f(fn):\n    return fn.__doc__, fn.__name__, fn.__qualname__\n",
    "def f(o):\n    return o.__dict__['name']\n",
    "if globals().get('__spec__') is not None:\n    pass\n",
    "def f(o):\n    return '__globals__' in o.__dict__ and o.__dict__['__loader__'] is None\n",
    "import string\ndef f(o):\n    return string.Formatter().get_field('0.name', [o], {})\n",
    # Django: any class may have a get_field (a crash on real code once: an empty path)
    "def f(model):\n    return model._meta.get_field('site')\n",
    "def f(model, name):\n    return model._meta.get_field(name)\n",
    "def f(o):\n    return getattr(o, '')\n",
    "import operator\nget = operator.attrgetter('')\n",
]


@pytest.mark.parametrize("code", ORDINARY_NAMES)
def test_ordinary_names_by_name_are_not_findings(code: str) -> None:
    assert rules(code) == set()


# -- a function called by name is the call ---------------------------------------------
CALLS_BY_NAME = [
    ("import operator, os\noperator.methodcaller('system', 'id')(os)\n", "KAV111"),
    ("import operator, os\noperator.methodcaller('sys' + 'tem', 'id')(os)\n", "KAV111"),
    ("import operator, os\noperator.methodcaller('popen', 'id')(os)\n", "KAV202"),
    ("import os\nSYS = 'system'\ngetattr(os, SYS)('id')\n", "KAV111"),
    ("import os\ngetattr(os, 'sys' + 'tem')('id')\n", "KAV111"),
    ("import builtins\ngetattr(builtins, '__imp' + 'ort__')('subprocess')\n", "KAV401"),
    ("import asyncio\ndef f(loop):\n    getattr(loop, 'subprocess_shell')(None, 'id')\n", "KAV202"),
    ("import operator\nopen_ = operator.methodcaller('create_connection', ('x', 80))\n", "KAV403"),
    ("import operator\nwrite = operator.methodcaller('write_text', 'x')\n", "KAV502"),
    ("def f(p):\n    getattr(p, 'write_text')('x')\n", "KAV502"),
    ("import operator\nput = operator.attrgetter('write_bytes')\n", "KAV502"),
    ("import operator, os\noperator.methodcaller('remove', '/etc/x')(os)\n", "KAV502"),
    ("import string, os\nf = string.Formatter().get_field('0.system', [os], {})\n", "KAV403"),
    (
        "import string, os\nmods = [os]\nf = string.Formatter().get_field('0.sys' + 'tem', mods, {})\n",
        "KAV403",
    ),
]


@pytest.mark.parametrize(("code", "rule"), CALLS_BY_NAME)
def test_a_method_called_by_name_is_the_call_by_attribute(code: str, rule: str) -> None:
    assert rule in rules(code)


# -- __self__: a known function's module is an escape, a bound method's object is not ---
@pytest.mark.parametrize(
    "code",
    [
        "m = len.__self__\n",
        "import os\nm = os.system.__self__\n",
        "f = print\nm = f.__self__\n",
        "import math\nm = getattr(math.sin, '__self__')\n",
        "from builtins import abs as a\nm = a.__self__\n",
    ],
)
def test_self_of_a_function_the_analysis_knows_is_kav403(code: str) -> None:
    assert "KAV403" in rules(code)


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("def f(m):\n    return m.__self__.eval('1')\n", "KAV401"),
        ("def f(m):\n    s = m.__self__\n    return s.exec('x = 1')\n", "KAV401"),
        ("def f(m, n):\n    return getattr(m.__self__, n)\n", "KAV403"),
        ("def f(m):\n    return vars(m.__self__)\n", "KAV403"),
        ("def f(m):\n    return m.__self__.__import__('subprocess')\n", "KAV101"),
    ],
)
def test_names_read_on_an_unknown_self_still_resolve_as_builtins(code: str, rule: str) -> None:
    assert rule in rules(code)


@pytest.mark.parametrize(
    "code",
    [
        "class A:\n    def m(self):\n        pass\nbound = A().m\nowner = bound.__self__\n",
        "def owner(method):\n    return method.__self__\n",
        "def same(method, obj):\n    return method.__self__ is obj\n",
        "def name(method):\n    return type(method.__self__).__name__\n",
    ],
)
def test_a_bound_methods_self_is_not_a_finding(code: str) -> None:
    assert rules(code) == set()


# -- namespaces: keys are harmless, values escaping are not -----------------------------
@pytest.mark.parametrize(
    "code",
    [
        "if 'x' not in globals():\n    x = 1\n",
        "names = [n for n in globals() if not n.startswith('_')]\n",
        "names = sorted(list(globals()))\n",
        "def f():\n    return len(locals())\n",
        "import json\nnames = sorted(vars(json))\n",
        "import json\nfor name in vars(json):\n    print(name)\n",
        "import json\nhas = 'dumps' in json.__dict__.keys()\n",
        "import json\ndumps = vars(json)['dumps']\n",
        "print(globals())\n",
        "def fields(obj):\n    return vars(obj)\n",
    ],
)
def test_namespace_keys_and_literal_reads_are_not_findings(code: str) -> None:
    assert rules(code) == set()


@pytest.mark.parametrize(
    "code",
    [
        "g = globals()\n",
        "for name, value in globals().items():\n    print(value)\n",
        "def f(name):\n    return globals()[name]\n",
        "def f(name):\n    return globals().get(name)\n",
        "def f(name, value):\n    globals()[name] = value\n",
        "globals().update({'x': 1})\n",
        "del globals()['x']\n",
        "import json\nfor name, obj in vars(json).items():\n    print(obj)\n",
        "import json\nd = dict(vars(json))\n",
        "import os\nnames = sorted(vars(os))\n",
        "import builtins\nnames = list(builtins.__dict__)\n",
        "import json\ndef f(k):\n    return json.__dict__[k]\n",
        "def f():\n    return locals().values()\n",
    ],
)
def test_namespace_values_changes_and_host_modules_are_kav403(code: str) -> None:
    assert "KAV403" in rules(code)


@pytest.mark.parametrize(
    "code",
    [
        "import os\nglobals()['os'].system('id')\n",
        "import os\ndef f():\n    return locals()['o'].system('id')\no = os\n",
        "import shutil\nvars(shutil)['os'].system('id')\n",
        "import shutil\nshutil.__dict__['os'].system('id')\n",
    ],
)
def test_a_literal_key_read_from_a_namespace_resolves_like_the_name(code: str) -> None:
    assert "KAV111" in rules(code)


# -- modules as values: an escape when something can use them by a name we cannot see --
@pytest.mark.parametrize(
    "code",
    [
        "import sys\nkinds = {sys: 'sys'}\n",
        "import os\nmods = [os]\n",
        "import os\ndef f(x, _os=os):\n    return _os.path.join(x, 'a')\n",
        "import sys\nprint(sys)\n",
        "import sys\ndef is_sys(m):\n    return m is sys\n",
        "import os, sys\ndef known(m):\n    return m in (os, sys)\n",
        "import types, sys\nok = isinstance(sys, types.ModuleType)\n",
        "import sys\nd = {}\nx = d[sys]\n",
    ],
)
def test_modules_compared_described_or_kept_are_not_findings(code: str) -> None:
    assert rules(code) == set()


@pytest.mark.parametrize(
    "code",
    [
        "import os\nmods = [os]\nfor m in mods:\n    m.system('id')\n",
        "import os\nkinds = {os: 1}\nfor k in kinds:\n    k.popen('id')\n",
        "import os\nmods = [os]\ndef f(n):\n    return getattr(mods[0], n)\n",
        "import os\nimport glom\nglom.glom(os, 'system')\n",
        "import os\nfrom helpers import run_by_name\nrun_by_name(os, 'system')\n",
        "import os\ndef f(m=os):\n    return m.remove('/etc/x')\n",
        "import builtins\nkinds = {builtins: 1}\n",
    ],
)
def test_modules_handed_on_or_used_by_an_unseen_name_are_kav403(code: str) -> None:
    assert "KAV403" in rules(code)


# -- monkeypatching ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "code",
    [
        "import json\njson.dumps = eval\n",
        "import os\nsetattr(os, 'O_RDONLY', 65)\n",
        "import json\ndelattr(json, 'dumps')\n",
        "import sys\nsys.path = ['/tmp']\n",
        "import typing\ntyping.TYPE_CHECKING = True\n",
        "import typing\nsetattr(typing, 'TYPE_CHECKING', True)\n",
    ],
)
def test_changing_a_modules_attributes_is_kav403(code: str) -> None:
    assert "KAV403" in rules(code)


@pytest.mark.parametrize(
    "code",
    [
        "import sys, io\nsys.stdout = io.StringIO()\n",
        "import sys\nold, sys.stderr = sys.stderr, None\n",
    ],
)
def test_redirecting_the_standard_streams_is_not_a_finding(code: str) -> None:
    assert rules(code) == set()
