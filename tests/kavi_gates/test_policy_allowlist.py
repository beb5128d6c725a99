"""``policy.imports: allow``: only the curated safe standard library and what the project adds
may be imported (KAV103). Written as the attacker would: every way to reach a module that is
not allowed must be a finding, and ordinary skill code must not be."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kavi_gates.codes.policy import (
    COMPUTED_IMPORT,
    FORBIDDEN_IMPORT,
    IMPORT_NOT_ALLOWED,
    PROCESS_MODULE,
    RULE_ERROR,
)
from kavi_gates.config import PolicyConfig, load_config
from kavi_gates.merge import merge_findings
from kavi_gates.policy.allowlist import EXCLUDED, SAFE_IMPORTS, ImportAllowlist
from kavi_gates.policy.catalog import (
    DESERIALIZER_MODULES,
    IMPORT_MACHINERY_MODULES,
    NATIVE_MODULES,
    NETWORK_MODULES,
    PROCESS_FUNCTIONS,
    PROCESS_MODULES,
    matches,
)
from kavi_gates.policy.catalog.writes import OPENERS, WRITERS
from kavi_gates.policy.check import check_source
from kavi_gates.policy.rules import BUILTIN_RULES
from kavi_gates.runner import run_gates

KAV103 = IMPORT_NOT_ALLOWED.id
ALLOW = PolicyConfig(imports="allow", allowed_imports=("pydantic", "kavi_skills"))


def codes(source: str, policy: PolicyConfig = ALLOW) -> set[str]:
    found = check_source(source.encode(), "skills/s.py", policy, BUILTIN_RULES)
    assert [f.message for f in found if f.rule == RULE_ERROR.id] == []
    return {f.rule for f in found}


def lines(source: str) -> list[int]:
    found = check_source(source.encode(), "skills/s.py", ALLOW, BUILTIN_RULES)
    return sorted(f.line for f in found if f.rule == KAV103)


# -- what the attacker tries ----------------------------------------------------------------

OUTSIDE = [
    # plain imports of anything not curated, in every static form
    "import socket\n",
    "import requests\n",
    "import socket as s\n",
    "from socket import socket as sock\n",
    "def f():\n    import shutil\n",
    "try:\n    import ujson as json\nexcept ImportError:\n    import json\n",
    "import xml.etree.ElementTree as ET\n",
    "import ctypes\n",
    "import builtins\n",
    "import importlib\n",
    "import ｓｏｃｋｅｔ\n",  # NFKC: Python imports `socket`
    # imports by string
    "m = __import__('socket')\n",
    "m = __import__('os')\n",
    "getattr(__builtins__, '__import__')('socket')\n",
    "__builtins__.__import__('socket')\n",
    # star imports: the whole module must be allowed
    "from os import *\n",
    "from socket import *\n",
    # a partly allowed module: every name that is not allowed is a finding where it is used
    "import os\nos.system('id')\n",
    "import os\nos.getcwd()\n",
    "import os\nos.environ['HOME']\n",
    "import os as o\no.remove('x')\n",
    "import os.path\nos.remove('x')\n",
    "import os\nm = os\n",
    "import os\ngetattr(os, 'sys' + 'tem')('id')\n",
    "import os\ndef f(mod):\n    return mod\nf(os)\n",
    "from os import getcwd\n",
    "from os import environ as env\n",
    "import sys\nsys.modules['os']\n",
    "import sys\nsys.path.append('/tmp')\n",
    "import io\nio.open('x', 'w')\n",
    "from io import FileIO\n",
    "import pathlib\npathlib.Path('x').write_text('y')\n",
    "from pathlib import Path\n",
    "import urllib\nurllib.request.urlopen('http://x')\n",
    "import uuid\nuuid.getnode()\n",
    # reaching past an allowed module: a module it imported, a private name, internals
    "import logging\nlogging.os.system('id')\n",
    "import random\nrandom._os.system('id')\n",
    "from logging import os\n",
    "from random import _os\n",
    "from re import *\nos.system('id')\n",
    "import json\njson.__dict__['loads']\n",
    "m = __import__('logging').os\n",
    # an allowed package re-exporting a client it uses is not an allowed client
    "import pydantic\npydantic.networks.requests.get('http://x')\n",
    "from kavi_skills.llm import openai\n",
    # names excluded under allowed modules
    "import logging\nlogging.FileHandler('x.log')\n",
    "import logging.handlers\n",
    "from logging.handlers import SocketHandler\n",
    "import logging\nlogging.config.listen(9999)\n",
    "from operator import methodcaller\n",
    "import operator\noperator.attrgetter('system')\n",
    "import typing\ntyping.get_type_hints(object)\n",
    "import contextlib\ncontextlib.chdir('/')\n",
    # the project's own additions do not open their import-by-name APIs
    "from pydantic import ImportString\n",
    "import pydantic\nT = pydantic.ImportString\n",
    "from pydantic.types import ImportString\n",
    "import pydantic.v1\n",
    "from pydantic.v1 import BaseModel\n",
]


@pytest.mark.parametrize("source", OUTSIDE)
def test_reaching_outside_the_allowlist_is_a_finding(source: str) -> None:
    assert KAV103 in codes(source)


def test_an_import_by_a_computed_name_is_a_finding_under_allow() -> None:
    found = codes("m = __import__('s' + 'ocket')\n")
    assert COMPUTED_IMPORT.id in found


def test_dynamic_exec_cannot_be_allowed_along_with_the_allowlist() -> None:
    with pytest.raises(ValueError, match="imports: allow needs forbid_dynamic_exec: true"):
        PolicyConfig(imports="allow", forbid_dynamic_exec=False)


def test_the_finding_is_at_the_use_not_at_an_allowed_import() -> None:
    assert lines("import os\nprint(os.path.join('a'))\nos.getcwd()\n") == [3]
    # an import that is itself the finding is reported once, not at every use
    assert lines("import socket\nsocket.socket()\nsocket.create_connection(('x', 1))\n") == [1]


def test_one_place_carries_every_code_it_violates() -> None:
    found = check_source(b"import subprocess\n", "skills/s.py", ALLOW, BUILTIN_RULES)
    assert {f.rule for f in found} == {FORBIDDEN_IMPORT.id, KAV103, PROCESS_MODULE.id}
    (merged,) = merge_findings(found)
    assert merged.rules == (FORBIDDEN_IMPORT.id, KAV103, PROCESS_MODULE.id)


# -- what ordinary skill code does ----------------------------------------------------------

INSIDE = [
    "from __future__ import annotations\nimport json\nimport re\nfrom typing import Any\n",
    "from dataclasses import dataclass, field\nfrom enum import Enum\nimport datetime as dt\n",
    "import logging\nlog = logging.getLogger(__name__)\nlog.warning('x')\n",
    "from pydantic import BaseModel, Field\nimport pydantic.fields\n",
    "from kavi_skills import BaseSkill\nimport kavi_skills\n",
    "import os\nprint(os.path.join('a', 'b'), os.sep, os.fspath('x'))\n",
    "import os.path\nos.path.exists('x')\n",
    "from os.path import join as j\nfrom os import path, sep\n",
    "import sys\nprint(1, file=sys.stderr)\nok = sys.version_info >= (3, 11)\n",
    "from collections import abc, defaultdict\nimport collections.abc\nabc.Mapping\n",
    "import datetime\nt = datetime.time(1)\nd = datetime.datetime.now()\n",
    "import uuid\nuuid.uuid4()\nfrom uuid import UUID\n",
    "import io\nbuf = io.StringIO()\n",
    "import pathlib\np = pathlib.PurePosixPath('a') / 'b'\n",
    "import typing as t\nx: t.Any = 1\n",
    "import json as j\nj.dumps({})\nname = j.__name__\n",
    "from json import *\ndumps({})\n",
    "import urllib.parse\nurllib.parse.quote('a b')\n",
    "from . import helpers\nfrom .models import Note\nfrom .. import shared\n",
    "import hashlib, hmac, base64, secrets\nhashlib.sha256(b'').hexdigest()\n",
    "import operator\nf = operator.itemgetter(0)\n",
    "x = 1\n",
]


@pytest.mark.parametrize("source", INSIDE)
def test_ordinary_skill_code_is_inside_the_allowlist(source: str) -> None:
    assert KAV103 not in codes(source)


def test_the_deny_mode_never_reports_the_allowlist_code() -> None:
    assert KAV103 not in codes("import requests\nimport socket\n", PolicyConfig())


# -- the curated set ------------------------------------------------------------------------


def test_the_curated_set_holds_no_process_network_write_or_loader_module() -> None:
    dangerous = (
        PROCESS_MODULES | NETWORK_MODULES | DESERIALIZER_MODULES | NATIVE_MODULES
    ) | IMPORT_MACHINERY_MODULES
    for entry in SAFE_IMPORTS:
        assert not matches(entry, dangerous), entry
    assert not any(matches(name, SAFE_IMPORTS) for name in dangerous)
    # Modules that mix safe and unsafe names are never allowed whole, only name by name.
    mixed = {"os", "sys", "io", "pathlib", "shutil", "tempfile", "builtins", "types", "uuid"}
    assert not mixed & SAFE_IMPORTS
    for name in (*PROCESS_FUNCTIONS, *OPENERS, *WRITERS):
        if not name.startswith("builtins."):
            assert not ImportAllowlist().allows(name), name


def test_every_curated_entry_exists_in_this_python() -> None:
    import importlib

    for entry in sorted(SAFE_IMPORTS | EXCLUDED):
        if entry.startswith("pydantic"):
            continue
        module, _, name = entry.rpartition(".")
        try:
            importlib.import_module(entry)
        except ImportError:
            assert hasattr(importlib.import_module(module), name), entry
    assert "zoneinfo" in sys.stdlib_module_names


def test_a_project_may_allow_an_excluded_name_only_by_naming_it() -> None:
    assert not ImportAllowlist(["logging"]).allows("logging.FileHandler")
    assert ImportAllowlist(["logging.FileHandler"]).allows("logging.FileHandler")
    assert not ImportAllowlist(["logging.FileHandler"]).allows("logging.handlers")


def test_a_long_attribute_chain_is_judged_like_a_short_one() -> None:
    assert KAV103 not in codes("import re\nx = re" + ".re" * 300 + ".compile\n")
    assert KAV103 in codes("import logging\nx = logging" + ".os" * 300 + "\n")
    # The judgement looks at most the tables' depth ahead from each part (no quadratic
    # joins): a name of 200,000 parts is judged, not hung on.
    allowlist = ImportAllowlist()
    assert allowlist.reach_problem("re" + ".re" * 200_000, "re") is None
    assert allowlist.allows("re" + ".re" * 200_000)


# -- configuration and the whole gate -------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / ".cache"))
    (tmp_path / "skills").mkdir()
    return tmp_path


def test_the_gate_reports_imports_outside_the_configured_allowlist(project: Path) -> None:
    (project / "kavi.yaml").write_text(
        "include: ['skills/**/*.py']\n"
        "policy:\n  imports: allow\n  allowed_imports: [yaml]\n"
        "overrides:\n  - paths: ['skills/legacy/**']\n    policy: {imports: deny}\n"
    )
    (project / "skills" / "a.py").write_text("import yaml\nimport requests\n")
    (project / "skills" / "b.py").write_text("import json\n")
    # No built-in rule's word is in this file: the pre-filter must still let it through.
    (project / "skills" / "c.py").write_text("import attr\n")
    (project / "skills" / "legacy").mkdir()
    (project / "skills" / "legacy" / "d.py").write_text("import csv\nimport zipfile\n")
    report = run_gates(load_config(start=project), only=["policy"])
    assert [(f.path, f.line, f.rules) for f in report.findings] == [
        ("skills/a.py", 2, ("KAV103", "KAV301")),
        ("skills/c.py", 1, ("KAV103",)),
    ]


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("policy: {imports: allowlist}\n", "policy.imports"),
        ("policy: {imports: allow, allowed_imports: ['os.*']}\n", "'os.*' is not a module"),
        ("policy: {imports: allow, forbid_dynamic_exec: false}\n", "needs forbid_dynamic_exec"),
        (
            "policy: {imports: allow}\n"
            "overrides: [{paths: ['x/**'], policy: {forbid_dynamic_exec: false}}]\n",
            "override 0 on the base policy: imports: allow needs forbid_dynamic_exec",
        ),
        ("policy: {imports: allow, allowed_import: [yaml]}\n", "unknown config key"),
    ],
)
def test_a_bad_allowlist_config_is_refused_with_exit_2(
    project: Path, yaml_text: str, message: str
) -> None:
    from kavi_cli import run_kavi

    (project / "kavi.yaml").write_text(yaml_text)
    done = run_kavi(["check", "--gate", "policy"], cwd=project)
    assert done.exit_code == 2
    assert message in done.stderr


def test_stacked_overrides_that_break_the_allowlist_are_a_config_error(project: Path) -> None:
    from kavi_cli import run_kavi

    (project / "kavi.yaml").write_text(
        "include: ['skills/**/*.py']\n"
        "overrides:\n"
        "  - {paths: ['skills/**'], policy: {imports: allow}}\n"
        "  - {paths: ['skills/x*'], policy: {forbid_dynamic_exec: false}}\n"
    )
    (project / "skills" / "x1.py").write_text("import json\n")
    done = run_kavi(["check", "--gate", "policy"], cwd=project)
    assert done.exit_code == 2
    assert "the overrides matching skills/x1.py make an invalid policy" in done.stderr


def test_the_default_policy_digest_is_unchanged_by_the_new_keys() -> None:
    from kavi_gates.config import KaviConfig, policy_digest, validate_config

    explicit = validate_config({"policy": {"imports": "deny", "allowed_imports": []}}, "x")
    assert policy_digest(explicit) == policy_digest(KaviConfig())
    allow = validate_config({"policy": {"imports": "allow"}}, "x")
    assert policy_digest(allow) != policy_digest(KaviConfig())


def test_the_pre_filter_lets_every_file_with_an_import_through_under_allow() -> None:
    from kavi_gates.codes.policy import CODES
    from kavi_gates.policy.prefilter import Prefilter, trigger_words

    allow = Prefilter(trigger_words(CODES, ALLOW))
    for source in (b"import attr\n", b"from attr import s\n", b"m = __import__('attr')\n"):
        assert allow.needs_analysis(source)
    assert not allow.needs_analysis(b"x = 1\nprint(x)\n")
