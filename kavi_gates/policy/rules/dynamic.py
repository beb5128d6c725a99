"""``forbid_dynamic_exec`` — code that runs code: eval/exec, import machinery,
namespace escapes, code-running deserialisers and native code."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from kavi_gates.policy.catalog import (
    DESERIALIZER_FUNCTIONS,
    DESERIALIZER_MODULES,
    DYNAMIC_BUILTINS,
    ESCAPE_ATTRIBUTES,
    IMPORT_MACHINERY_MODULES,
    IMPORT_MACHINERY_NAMES,
    INTROSPECTION_NAMES,
    MODULE_HOSTS,
    NATIVE_MODULES,
    NETWORK_FUNCTIONS,
    PROCESS_FUNCTIONS,
    YAML_LOADERS,
    YAML_SAFE_LOADERS,
    matches,
)
from kavi_gates.policy.queries import module_hits, name_hits
from kavi_gates.policy.resolution import ModuleFacts, Site, literal_string
from kavi_gates.policy.rule import Rule, Violation

# Attribute names whose literal use in attrgetter/methodcaller is a way to reach a banned
# function without naming it in an attribute chain.
_DANGEROUS_ATTRS = frozenset(
    q.rsplit(".", 1)[-1] for q in (*PROCESS_FUNCTIONS, *NETWORK_FUNCTIONS, *DYNAMIC_BUILTINS)
) | {"system", "popen", "modules", "__dict__"}


class _DynamicRule(Rule):
    category = "dynamic-exec"

    def enabled(self) -> bool:
        return self.policy.forbid_dynamic_exec


class DynamicExecBuiltin(_DynamicRule):
    """A builtin that runs or compiles code is referenced: eval, exec, compile,
    ``__import__``, breakpoint — by any route, including ``builtins.eval``,
    ``__builtins__.exec``, ``e = eval`` and ``getattr(builtins, "eval")``.

    A parameter, local function or method with one of these names is not the builtin,
    and neither is ``re.compile`` or ``ast.literal_eval``.
    """

    id = "KAV401"
    MESSAGE = "dynamic code execution"
    VALID = [
        "import re\npattern = re.compile('a+')\n",
        "from re import compile\npattern = compile('a+')\n",
        "import ast\nvalue = ast.literal_eval('[1, 2]')\n",
        "def run(model):\n    model.eval()\n",
        "def apply(eval, x):\n    return eval(x)\n",
        "def open_it():\n    def exec(q):\n        return q\n    return exec('x')\n",
    ]
    INVALID = [
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
    ]

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for node, hit in name_hits(facts, DYNAMIC_BUILTINS):
            name = hit.removeprefix("builtins.")
            yield Violation(
                node, f"'{name}' runs dynamically built code (policy.forbid_dynamic_exec)"
            )


class ImportMachinery(_DynamicRule):
    """The import machinery is used: importlib, imp, runpy, pkgutil, zipimport, code,
    ``sys.modules``, ``sys.meta_path`` — each can load or run code chosen at run time."""

    id = "KAV402"
    MESSAGE = "use of the import machinery"
    VALID = ["import sys\nprint(sys.argv)\n", "import json\njson.loads('{}')\n"]
    INVALID = [
        "import importlib\n",
        "from importlib import import_module\n",
        "import runpy\nrunpy.run_path('x.py')\n",
        "import sys\nmods = sys.modules\n",
        "import pkgutil\nf = pkgutil.resolve_name('os:system')\n",
    ]

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for node, hit in module_hits(facts, IMPORT_MACHINERY_MODULES):
            yield Violation(
                node, f"'{hit}' loads code chosen at run time (policy.forbid_dynamic_exec)"
            )
        for node, hit in name_hits(facts, IMPORT_MACHINERY_NAMES):
            yield Violation(node, f"'{hit}' is the module table (policy.forbid_dynamic_exec)")


class IntrospectionEscape(_DynamicRule):
    """A namespace or frame is reached by value: ``globals()``, ``locals()``, ``vars()`` of a
    module, ``__builtins__``, ``getattr`` on a module or builtin with a computed name,
    ``os.__dict__``, frames (``sys._getframe``, ``f_globals``), ``__subclasses__`` /
    ``__globals__`` / ``__code__`` chains, and ``operator.attrgetter`` on such names.

    These are how string-built names reach eval or os.system without naming them.
    """

    id = "KAV403"
    MESSAGE = "namespace or frame escape"
    VALID = [
        "def describe(obj):\n    return getattr(obj, 'name', None)\n",
        "class A:\n    def get(self, key):\n        return getattr(self, key)\n",
        "def fields(obj):\n    return vars(obj)\n",
        "from operator import attrgetter\nkey = attrgetter('name')\n",
        "class A:\n    pass\nstate = A().__dict__\n",
    ]
    INVALID = [
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
    ]

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        names = INTROSPECTION_NAMES - {"builtins"}
        for node, hit in name_hits(facts, names - {"builtins.vars"}):
            yield Violation(
                node,
                f"'{hit.removeprefix('builtins.')}' exposes a namespace "
                "(policy.forbid_dynamic_exec)",
            )
        for ref, quals in facts.resolved_refs:
            if "builtins" in quals and not ref.attrs:
                yield Violation(
                    ref.node,
                    "the builtins namespace is used as a value (policy.forbid_dynamic_exec)",
                )
            elif "__dict__" in ref.attrs and facts.resolve(ref.base, ref.scope, ref.order):
                yield Violation(
                    ref.node, "a module's __dict__ is read (policy.forbid_dynamic_exec)"
                )
        for imp in facts.imports:
            if imp.star and imp.targets == ("builtins",):
                yield Violation(
                    imp.node,
                    "star import of builtins rebinds every builtin (policy.forbid_dynamic_exec)",
                )
        for site in facts.assigned_attributes:
            target = site.node
            assert isinstance(target, cst.Attribute)
            owners = facts.resolve(target.value, site.scope, site.order)
            if owners and any("." not in q or q in MODULE_HOSTS for q in owners):
                yield Violation(
                    target,
                    f"assignment to an attribute of module "
                    f"'{min(owners)}' (policy.forbid_dynamic_exec)",
                )
        for node, attr in facts.attributes:
            if attr in ESCAPE_ATTRIBUTES:
                yield Violation(
                    node, f"'{attr}' reaches code or frames (policy.forbid_dynamic_exec)"
                )
        yield from self._calls(facts)

    def _calls(self, facts: ModuleFacts) -> Iterator[Violation]:
        for site, funcs, _returns in facts.resolved_calls:
            call = site.node
            assert isinstance(call, cst.Call)
            args = call.args
            if funcs & {"builtins.getattr", "builtins.setattr", "builtins.delattr"}:
                if any(a.star for a in args):
                    yield Violation(
                        call, "getattr with unpacked arguments (policy.forbid_dynamic_exec)"
                    )
                elif len(args) >= 2 and literal_string(args[1].value) is None:
                    target = facts.resolve(args[0].value, site.scope, site.order)
                    if target:
                        yield Violation(
                            call,
                            "getattr with a computed name on "
                            f"'{min(target)}' (policy.forbid_dynamic_exec)",
                        )
            if "builtins.vars" in funcs:
                target = (
                    facts.resolve(args[0].value, site.scope, site.order)
                    if args
                    else frozenset({"<scope>"})
                )
                if target:
                    yield Violation(
                        call, "vars() of a module or scope (policy.forbid_dynamic_exec)"
                    )
            if funcs & {"operator.attrgetter", "operator.methodcaller"}:
                literals = [
                    literal_string(a.value)
                    for a in args[: 1 if "operator.methodcaller" in funcs else None]
                ]
                if any(v is None or v.split(".")[-1] in _DANGEROUS_ATTRS for v in literals):
                    yield Violation(
                        call,
                        "attrgetter/methodcaller on a computed or dangerous "
                        "name (policy.forbid_dynamic_exec)",
                    )
        called = facts.called_ids
        attribute_getters = {
            "builtins.vars",
            "builtins.getattr",
            "builtins.setattr",
            "builtins.delattr",
        }
        for ref, quals in facts.resolved_refs:
            if id(ref.node) in called:
                continue
            passed = quals & attribute_getters
            if passed:
                yield Violation(
                    ref.node,
                    f"'{min(passed).removeprefix('builtins.')}' passed "
                    "as a value (policy.forbid_dynamic_exec)",
                )
            elif (
                not ref.attrs and quals & MODULE_HOSTS and id(ref.node) not in facts.tracked_values
            ):
                yield Violation(
                    ref.node,
                    f"module '{min(quals & MODULE_HOSTS)}' used as a value "
                    "cannot be followed (policy.forbid_dynamic_exec)",
                )


class Deserializer(_DynamicRule):
    """A deserialiser that can run code is used: pickle, marshal, shelve, dill, cloudpickle,
    joblib, ``yaml.load`` without a safe Loader, ``yaml.unsafe_load``, ``numpy.load`` with
    ``allow_pickle``, ``torch.load``, ``pandas.read_pickle``."""

    id = "KAV404"
    MESSAGE = "code-running deserialiser"
    VALID = [
        "import json\ndata = json.loads('{}')\n",
        "import yaml\ndata = yaml.safe_load('a: 1')\n",
        "import yaml\ndata = yaml.load('a: 1', Loader=yaml.SafeLoader)\n",
        "import numpy as np\narr = np.load('x.npy')\n",
    ]
    INVALID = [
        "import pickle\n",
        "from pickle import loads\n",
        "import marshal\n",
        "import yaml\ndata = yaml.load(text)\n",
        "import yaml\ndata = yaml.load(text, Loader=yaml.Loader)\n",
        "import yaml\ndata = yaml.unsafe_load(text)\n",
        "import numpy as np\narr = np.load('x.npy', allow_pickle=True)\n",
    ]

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for node, hit in module_hits(facts, DESERIALIZER_MODULES):
            yield Violation(
                node, f"'{hit}' can run code while loading (policy.forbid_dynamic_exec)"
            )
        for node, hit in name_hits(facts, DESERIALIZER_FUNCTIONS - {"numpy.load"}):
            yield Violation(
                node, f"'{hit}' can run code while loading (policy.forbid_dynamic_exec)"
            )
        for site, funcs, _returns in facts.resolved_calls:
            call = site.node
            assert isinstance(call, cst.Call)
            if funcs & YAML_LOADERS and not self._safe_yaml(call, facts, site):
                yield Violation(
                    call,
                    "yaml.load without a safe Loader can run code (policy.forbid_dynamic_exec)",
                )
            if "numpy.load" in funcs and self._allows_pickle(call):
                yield Violation(
                    call, "numpy.load with allow_pickle can run code (policy.forbid_dynamic_exec)"
                )

    @staticmethod
    def _safe_yaml(call: cst.Call, facts: ModuleFacts, site: Site) -> bool:
        loader = next(
            (a.value for a in call.args if a.keyword and a.keyword.value == "Loader"),
            call.args[1].value if len(call.args) > 1 and not call.args[1].keyword else None,
        )
        if loader is None:
            return False
        quals = facts.resolve(loader, site.scope, site.order)
        return bool(quals) and all(q.rsplit(".", 1)[-1] in YAML_SAFE_LOADERS for q in quals)

    @staticmethod
    def _allows_pickle(call: cst.Call) -> bool:
        value: cst.BaseExpression | None = None
        for arg in call.args:
            if arg.keyword and arg.keyword.value == "allow_pickle":
                value = arg.value
        positional = [a for a in call.args if a.keyword is None]
        if value is None and len(positional) >= 3:  # load(file, mmap_mode, allow_pickle)
            value = positional[2].value
        if value is None:
            return any(a.star for a in call.args)
        return not (isinstance(value, cst.Name) and value.value == "False")


class NativeCode(_DynamicRule):
    """Native code is loaded: ctypes, cffi — they call any C function, bypassing policy."""

    id = "KAV405"
    MESSAGE = "native code"
    VALID = ["import struct\nstruct.pack('i', 1)\n"]
    INVALID = ["import ctypes\n", "from ctypes import CDLL\n", "import cffi\n"]

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for node, hit in module_hits(facts, NATIVE_MODULES):
            yield Violation(node, f"'{hit}' loads native code (policy.forbid_dynamic_exec)")


__all__ = [
    "Deserializer",
    "DynamicExecBuiltin",
    "ImportMachinery",
    "IntrospectionEscape",
    "NativeCode",
    "matches",
]
