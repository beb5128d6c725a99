"""``policy.imports: allow`` reviewed as the attacker would: a skill that wants a module
outside the allowlist (a process, a socket, a file write, code by name) without a finding.

Each entry of ``EVASIONS`` reached its target with no finding at all before this review
(checked against the real runtime where the move is subtle: see the notes); each must now
be KAV103. ``BENIGN`` is what an allowlisted new project writes and must stay quiet."""

from __future__ import annotations

import importlib
import pickle
import pkgutil
import types
import warnings
from pathlib import Path

import pytest

from kavi_gates.codes.policy import CODES, IMPORT_NOT_ALLOWED, RULE_ERROR
from kavi_gates.config import PolicyConfig
from kavi_gates.policy.allowlist import PACKAGE_APIS, SAFE_IMPORTS, ImportAllowlist
from kavi_gates.policy.check import check_source
from kavi_gates.policy.prefilter import Prefilter, trigger_words
from kavi_gates.policy.rules import BUILTIN_RULES
from kavi_gates.policy.string_types import is_code

KAV103 = IMPORT_NOT_ALLOWED.id
# what `kavi init` writes
INIT = PolicyConfig(imports="allow", allowed_imports=("pydantic", "kavi_skills", "skills"))


def findings(source: str, policy: PolicyConfig = INIT) -> dict[str, list[str]]:
    found = check_source(source.encode(), "skills/s.py", policy, BUILTIN_RULES)
    assert [f.message for f in found if f.rule == RULE_ERROR.id] == []
    by_code: dict[str, list[str]] = {}
    for f in found:
        by_code.setdefault(f.rule, []).append(f.message)
    return by_code


EVASIONS = [
    # An allowed module passed as a value: inside the callee, its attributes (and every
    # module it imported) are reached through a parameter no scan can follow.
    "import logging\ndef f(m):\n    return m.os.system('id')\nf(logging)\n",
    "import logging\n[logging][0].os.system('id')\n",
    "import logging\n(lambda m: m.os)(logging).system('id')\n",
    "import json\ndef dump(obj, mod=json):\n    return mod.decoder.re\n",
    "import os.path\ndef f(m):\n    return m.os\nf(os.path)\n",
    "m = __import__('logging')\nprint(m)\n",
    # An allowed module's public name for a module outside the set: enum.bltns is
    # builtins (exec, open, __import__ with no '__import__' in sight).
    "import enum\nenum.bltns.exec('import socket')\n",
    "from enum import bltns\nbltns.exec('import socket')\n",
    # ... or for a class outside it: a function from any code object, pathlib.Path.
    "import dataclasses\nF = dataclasses.FunctionType\n",
    "from pydantic.types import Path\nPath('x').write_text('y')\n",
    # pydantic field types whose validation hands the skill a pathlib.Path
    "from pydantic import BaseModel, NewPath\nclass M(BaseModel):\n    p: NewPath\n"
    "M(p='x').p.write_text('y')\n",
    "import pydantic\nT = pydantic.FilePath\n",
    # string.Formatter().get_field is getattr by a string (like operator.attrgetter):
    # Formatter().get_field('0.__init__.__globals__', (logging.Logger,), {}) is logging's
    # namespace, os included.
    "import string, logging\n"
    "g = string.Formatter().get_field('0.__init__.' + '__glob' + 'als__', (logging.Logger,), {})\n",
    "from string import Formatter\n",
    # Forward references are eval()'d with the module's builtins by pydantic,
    # functools.singledispatch, TypeVar bounds, create_model... (each verified to run).
    "from pydantic import BaseModel\nclass M(BaseModel):\n"
    "    x: \"__import__('os').system('id') or int\"\n",
    "from pydantic import TypeAdapter\nTypeAdapter(\"__import__('socket')\")\n",
    "from pydantic import TypeAdapter\nTypeAdapter(list[\"__import__('socket')\"])\n",
    "import functools\n@functools.singledispatch\ndef f(x): pass\n"
    "@f.register\ndef _(x: \"__import__('socket') and int\"): pass\n",
    "import typing\nT = typing.TypeVar('T', bound=\"__import__('socket')\")\n",
    "import pydantic\npydantic.create_model('M', x=(\"__import__('socket')\", ...))\n",
    "import dataclasses\ndataclasses.make_dataclass('X', [('a', \"open('x', 'w')\")])\n",
    'from pydantic import BaseModel\nclass M(BaseModel):\n    x: "list[\'__import__(\\"os\\")\']"\n',
    "from pydantic import BaseModel\nname = 'int'\nclass M(BaseModel):\n    x: f'{name}'\n",
    # wherever the annotation sits: a method's parameter, nested blocks, *args
    "from pydantic import validate_call\nif True:\n    try:\n        class K:\n"
    "            @validate_call\n            def m(self, *a: \"__import__('os')\"): ...\n"
    "    except Exception:\n        pass\n",
    "from pydantic import validate_call\nmatch 1:\n    case _:\n"
    "        @validate_call\n        def f() -> \"__import__('os')\": ...\n",
    # pydantic's deprecated API unpickles with its opt-in keyword (verified: the payload's
    # __reduce__ runs), and pydantic.deprecated holds the loaders themselves.
    "from pydantic import BaseModel\nclass M(BaseModel):\n    x: int\n"
    "M.parse_raw(b'', proto='pickle', allow_pickle=True)\n",
    "from pydantic import BaseModel\nclass M(BaseModel):\n    x: int\n"
    "kw = {'proto': 'pickle'}\nM.parse_file('x', **kw)\n",
    "import pydantic.deprecated.parse\n",
    "import pydantic.mypy\n",
    # help() imports any module by name ('antigravity' runs a browser process)
    "help('antigravity')\n",
    "h = help\n",
    # kavi_skills is also the runtime: its executor, sandbox, records, MCP server and
    # unbrokered LLM/HTTP clients are not the skill API
    "from kavi_skills.llm import LLMClient\n",
    "from kavi_skills.guarded_http import GuardedHTTP\n",
    "from kavi_skills.vectors import VectorStore\n",
    "from kavi_skills.chain import run_chain\n",
    "import kavi_skills.executor\n",
    "from kavi_skills import isolation\n",
    "import kavi_skills\nkavi_skills.records\n",
    "from kavi_skills.base import Path\n",
]


@pytest.mark.parametrize("source", EVASIONS)
def test_an_evasion_of_the_allowlist_is_a_finding(source: str) -> None:
    assert KAV103 in findings(source)


BENIGN = [
    # typed code names these types in annotations and isinstance checks
    "from types import TracebackType\nclass C:\n"
    "    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,"
    " tb: TracebackType | None) -> None: ...\n",
    "import types\nok = isinstance(None, types.NoneType)\nU = types.UnionType\n",
    # forward references that name types
    "from pydantic import BaseModel, TypeAdapter\nclass A(BaseModel):\n"
    "    b: 'B | None' = None\n    c: list['B'] = []\n    d: 'dict[str, list[int]]' = {}\n"
    "class B(BaseModel):\n    x: int\nta = TypeAdapter('list[B]')\n",
    "from typing import Literal, Annotated\nMime = Literal['text/plain', '2024-01-01']\n"
    "def f(x: Literal['a-b']) -> Annotated[str, 'some doc']:\n    return x\n",
    "import typing\nT = typing.TypeVar('T', bound='Base')\nclass Base: ...\n",
    "from pydantic import BaseModel\nclass M(BaseModel):\n    x: int\nM.model_validate_json(b'{}')\n",
    # a module bound to a name is followed, not an escape
    "import logging\nm = logging\nm.getLogger('x')\n",
    "import sys, json\njson.dump({}, sys.stdout)\nprint('x', file=sys.stderr)\n",
    # the skill API, as Kavi's own skills use it
    "from kavi_skills import BaseSkill, SkillContext\n"
    "from kavi_skills.llm import LLMError, LLMUnavailable\n"
    "from kavi_skills.vectors import VectorStoreError, rank_in_memory\n"
    "from kavi_skills.errors import SkillInputError\nimport kavi_skills\n",
    "from kavi_skills.base import BaseSkill, FileAPI\n",
    "import string\nt = string.Template('$x').substitute(x=1)\n",
    "import enum, dataclasses\nclass C(enum.Enum):\n    A = 1\n"
    "@dataclasses.dataclass\nclass D:\n    x: int = dataclasses.field(default=0)\n",
    "d = {'f(x)': 1}\n",
]


@pytest.mark.parametrize("source", BENIGN)
def test_ordinary_allowlisted_code_is_not_flagged(source: str) -> None:
    assert findings(source).get(KAV103) is None


def test_a_forward_reference_is_code_only_when_evaluating_it_runs_something() -> None:
    for text in ("int", "B | None", "list['B']", "typing.Literal['a']", "a b", ""):
        assert not is_code(text), text
    for text in ("f()", "[x for x in y]", "(x := 1)", "list['g()']", "lambda: 1"):
        assert is_code(text), text


def test_the_pre_filter_lets_help_through_under_allow() -> None:
    allow = Prefilter(trigger_words(CODES, INIT))
    assert allow.needs_analysis(b"help('antigravity')\n")


def test_the_pickle_move_is_real() -> None:
    """What the parse_raw evasion relies on: pydantic unpickles with allow_pickle."""
    from pydantic import BaseModel
    from pydantic.deprecated.parse import Protocol

    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return _record, ("unpickled",)

    class M(BaseModel):
        x: int = 1

    with warnings.catch_warnings(), pytest.raises(ValueError):
        warnings.simplefilter("ignore")
        M.parse_raw(pickle.dumps(Payload()), proto=Protocol.pickle, allow_pickle=True)
    assert _RAN == ["unpickled"]


_RAN: list[str] = []


def _record(what: str) -> None:
    _RAN.append(what)


# -- every allowed name is judged by what it really is ------------------------------------

# Objects that start processes, open files or sockets, or run code by name or from bytes.
_SINKS: dict[str, object] = {
    "builtins": __builtins__,
    "exec": exec,
    "eval": eval,
    "compile": compile,
    "open": open,
    "__import__": __import__,
    "FunctionType": types.FunctionType,
    "CodeType": types.CodeType,
    "pathlib.Path": Path,
    "importlib.import_module": importlib.import_module,
    "pickle.loads": pickle.loads,
}
# Modules pydantic's own modules hold under their names: pydantic's dependencies, pure data
# and validation code (reviewed; a new one fails the test below until reviewed).
_REVIEWED_DEPENDENCIES = ("pydantic_core", "typing_extensions", "annotated_types", "typing_")


def _allowed_namespaces() -> list[tuple[str, types.ModuleType]]:
    import pydantic

    names = sorted(SAFE_IMPORTS) + [
        entry.rpartition(".")[0] for entry in PACKAGE_APIS["kavi_skills"]
    ]
    names += [
        info.name
        for info in pkgutil.walk_packages(pydantic.__path__, "pydantic.")
        if "._" not in info.name
    ]
    out = []
    for name in dict.fromkeys(names):
        try:
            out.append((name, importlib.import_module(name)))
        except Exception:  # a name in a module, or an optional extra (pydantic.mypy)
            continue
    return out


def test_no_allowed_name_is_a_sink_or_a_module_outside_the_set_under_another_name() -> None:
    allowlist = ImportAllowlist(INIT.allowed_imports)
    sink_ids = {id(value): name for name, value in _SINKS.items()}
    bad = []
    for name, module in _allowed_namespaces():
        if not (allowlist.allows(name) or allowlist.covers(name)):
            continue
        for attr in dir(module):
            reached = f"{name}.{attr}"
            if not allowlist.allows(reached) or allowlist.reach_problem(reached, name):
                continue
            value = getattr(module, attr, None)
            if id(value) in sink_ids:
                bad.append(f"{reached} is {sink_ids[id(value)]}")
            elif isinstance(value, types.ModuleType):
                own = value.__name__
                if not allowlist.allows(own) and not own.startswith(_REVIEWED_DEPENDENCIES):
                    bad.append(f"{reached} is the module {own}")
    assert bad == []


def test_every_skill_api_name_exists() -> None:
    for entry in PACKAGE_APIS["kavi_skills"]:
        module, _, name = entry.rpartition(".")
        try:
            importlib.import_module(entry)
        except ImportError:
            assert hasattr(importlib.import_module(module), name), entry


def test_a_project_may_still_allow_more_of_kavi_skills_by_naming_it() -> None:
    allowlist = ImportAllowlist(["kavi_skills", "kavi_skills.chain"])
    assert allowlist.allows("kavi_skills.chain.run_chain")
    assert not allowlist.allows("kavi_skills.executor")
    assert allowlist.allows("kavi_skills.BaseSkill")
