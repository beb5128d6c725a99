"""Capabilities come from the runtime and secrets stay declared and out of output (issue 13,
item 1): a skill building its own GuardedFiles/GuardedHTTP/LLMClient or reaching the
runtime's internals (KAV121), private attributes of what ``self.context`` hands it
(KAV122), secrets printed or logged (KAV131); environment reads a skill did not declare,
through the real invariants gate (KAV604, KAV606)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kavi_gates.config import KaviConfig, LoadedConfig, PolicyConfig
from kavi_gates.models import Finding, Status
from kavi_gates.policy.check import check_source
from kavi_gates.policy.rules import BUILTIN_RULES
from kavi_gates.runner import run_gates

POLICY = PolicyConfig(
    forbidden_imports=("subprocess", "pty", "paramiko"),
    forbidden_calls=("os.system",),
)


def rules(code: str) -> set[str]:
    return {f.rule for f in check_source(code.encode(), "skills/s.py", POLICY, BUILTIN_RULES)}


def skill(body: str, side_effect_class: str = "READ_ONLY", extra: str = "") -> str:
    """A well-formed skill whose ``execute`` runs ``body``."""
    indented = "".join(f"        {line}\n" for line in body.splitlines())
    return (
        "import os\nfrom pydantic import BaseModel\nfrom kavi_skills import BaseSkill\n\n\n"
        "class In(BaseModel):\n    text: str = ''\n\n\nclass Out(BaseModel):\n    text: str = ''\n\n\n"
        "class S(BaseSkill):\n    name = 's'\n    description = 'A skill.'\n"
        f"    side_effect_class = {side_effect_class!r}\n    input_model = In\n"
        f"    output_model = Out\n{extra}\n    def execute(self, data: In) -> Out:\n"
        f"{indented}        return Out()\n"
    )


# -- KAV121: capabilities built outside the runtime, runtime internals ------------------
RUNTIME_INTERNALS = [
    "from kavi_skills.guarded_files import GuardedFiles\nfiles = GuardedFiles({'v': '/'})\n",
    "from kavi_skills.guarded_http import GuardedHTTP as H\nh = H(('evil.example',))\n",
    "from kavi_skills.llm import LLMClient\nc = LLMClient()\n",
    "import kavi_skills.llm\nc = kavi_skills.llm.LLMClient()\n",
    "from kavi_skills import llm\nc = llm.LLMClient()\n",
    "import kavi_skills\nc = kavi_skills.guarded_files.GuardedFiles({})\n",
    "import kavi_skills as ks\nf = getattr(ks.guarded_files, 'GuardedFiles')\n",
    "from kavi_skills.vectors import VectorStore\n",
    "from kavi_skills.secrets import resolve_secrets\n",
    "from kavi_skills.brokered import BrokeredFiles\n",
    "from kavi_skills.capabilities import prepare_capabilities\n",
    "import kavi_ledger\n",
    "from kavi_forge import promote\n",
    "import kavi_sandbox\n",
    "import importlib\nm = importlib.import_module('kavi_skills.guarded_http')\n",
    "m = __import__('kavi_skills.llm', fromlist=['LLMClient'])\nc = m.LLMClient()\n",
    "from kavi_skills.llm import *\nc = LLMClient()\n",
]


@pytest.mark.parametrize("code", RUNTIME_INTERNALS)
def test_building_capabilities_or_reaching_the_runtime_is_kav121(code: str) -> None:
    assert "KAV121" in rules(code)


@pytest.mark.parametrize(
    "code",
    [
        "from kavi_skills import BaseSkill, SkillContext\n",
        "from kavi_skills.base import BaseSkill, FileAPI\n",
        "from kavi_skills.llm import LLMError, LLMUnavailable\n",
        "from kavi_skills.vectors import VectorStoreError, rank_in_memory\n",
        "from kavi_skills.errors import SkillInputError\n",
        "import kavi_skills\nclass S(kavi_skills.BaseSkill):\n    pass\n",
        "from kavi_skills import llm\ntry:\n    pass\nexcept llm.LLMUnavailable:\n    pass\n",
    ],
)
def test_the_skill_api_is_not_a_finding(code: str) -> None:
    assert rules(code) == set()


# -- KAV122: private parts of the capabilities a skill holds ----------------------------
PRIVATE = [
    "return self.context.files._roots",
    "return self.context._grant",
    "f = self.context.files\nreturn f._roots",
    "ctx = self.context\nreturn ctx.http._opener",
    "return getattr(self.context.llm, '_client')",
    "return getattr(self.context.llm, '_cl' + 'ient')",
    "return self.context.http.__dict__",
    "return self.context.files.__class__",
    "return type(self.context.files)",
    "return vars(self.context.http)",
]


@pytest.mark.parametrize("body", PRIVATE)
def test_private_attributes_of_capabilities_are_caught(body: str) -> None:
    found = rules(skill(body))
    assert found & {"KAV122", "KAV403"}, found


@pytest.mark.parametrize(
    "body",
    [
        "self.context.files.write('note.md', data.text)",
        "f = self.context.files\nf.write('a.md', data.text)",
        "return self.context.http.get_json('https://example.com')",
        "key = self.context.secrets['API_KEY']",
        "names = sorted(self.context.secrets)",
    ],
)
def test_public_use_of_capabilities_is_not_a_finding(body: str) -> None:
    assert rules(skill(body)) == set()


# -- KAV131: secrets printed or logged --------------------------------------------------
LEAKS = [
    "import os\nprint(os.environ['API_KEY'])\n",
    "import os\nprint(os.getenv('API_KEY'))\n",
    "import os\nprint(os.environ.get('API_KEY', ''))\n",
    "from os import environ as E\ntoken = E['TOKEN']\nmsg = 'token=' + token\nprint(msg)\n",
    "from os import *\nprint(environ['TOKEN'])\n",
    "import os\nkey = os.getenv('API_KEY')\nprint(f'key is {key}')\n",
    "import os\nprint(os.environ)\n",
    "import os\nenv = dict(os.environ)\nfor name in env:\n    print(name, env[name])\n",
    "import os\nfor name, value in os.environ.items():\n    print(name, value)\n",
    "import os\nvalues = [v for v in os.environ.values()]\nprint(values)\n",
    "import os\na = os.environ['K']\nb = a\nc = b.upper()\nprint(c)\n",
    "import logging, os\nlogging.info('token %s', os.environ['TOKEN'])\n",
    "import logging, os\nlog = logging.getLogger(__name__)\nlog.warning(os.getenv('DB_PASSWORD'))\n",
    "import os, sys\nsys.stderr.write(os.environ['DB_PASSWORD'])\n",
    "import os, pprint\npprint.pprint(dict(os.environ))\n",
    "import os, warnings\nwarnings.warn(os.environ['SECRET'])\n",
    "import os\nprint(os.path.expandvars('$API_KEY'))\n",
    "import os\nprint(os.environb[b'API_KEY'])\n",
    "import keyring\nprint(keyring.get_password('svc', 'me'))\n",
    "class S:\n    def run(self):\n        print(self.context.secrets['API_KEY'])\n",
    "import os\nprint(getattr(os, 'environ')['API_KEY'])\n",
    "import importlib\nprint(importlib.import_module('os').environ['API_KEY'])\n",
]


@pytest.mark.parametrize("code", LEAKS)
def test_printing_or_logging_a_secret_is_kav131(code: str) -> None:
    assert "KAV131" in rules(code)


@pytest.mark.parametrize(
    "code",
    [
        "import os\nprint(os.environ.get('HOME'))\n",
        "import os\nprint(os.getenv('LANG', 'C'), os.environ['PATH'])\n",
        "import os\nprint(os.path.expandvars('$HOME/notes'))\n",
        "import os\nkey = os.environ['API_KEY']\nprint('API_KEY is', 'set' if key else 'unset')\n",
        "import os\nkey = os.environ['API_KEY']\nprint(len(key), bool(key), key is None)\n",
        "import os\nprint(sorted(k for k in os.environ if k.startswith('LC_')) == [])\n",
        "import math\nprint(math.log(2))\n",
    ],
)
def test_non_secrets_and_facts_about_secrets_may_be_printed(code: str) -> None:
    assert "KAV131" not in rules(code)


# -- environment reads against the declared class and secrets (invariants gate) --------
@pytest.fixture
def repo(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "skills").mkdir()
    (tmp_path / "tests" / "skills").mkdir(parents=True)
    (tmp_path / "tests" / "skills" / "test_s.py").write_text("def test_s() -> None:\n    pass\n")
    return tmp_path


def invariants(root: Path, source: str) -> list[Finding]:
    (root / "skills" / "s.py").write_text(source)
    loaded = LoadedConfig(config=KaviConfig(), root=root, source="test")
    report = run_gates(loaded, only=["invariants"])
    (result,) = report.results
    assert result.status in (Status.PASS, Status.FAIL), result.error
    return list(report.findings)


@pytest.mark.parametrize(
    "body",
    [
        "key = os.environ['API_KEY']",
        "key = os.getenv('API_KEY')",
        "key = os.environ.get('API_KEY')",
        "env = dict(os.environ)",
        "from os import environ\nkey = environ['K']",
        "key = os.path.expandvars('$API_KEY')",
        "key = self.context.secrets['API_KEY']",
    ],
)
def test_a_read_only_skill_reading_secrets_is_kav604(repo: Path, body: str) -> None:
    found = invariants(repo, skill(body))
    assert [f.rule for f in found] == ["KAV604"]
    assert "SECRET_READ" in found[0].message


def test_a_read_only_skill_reading_home_passes(repo: Path) -> None:
    assert invariants(repo, skill("home = os.environ.get('HOME')")) == []


def test_a_secret_read_skill_reading_its_declared_secret_passes(repo: Path) -> None:
    declared = "    required_secrets = ('API_KEY',)\n"
    for body in ("key = os.environ['API_KEY']", "key = self.context.secrets['API_KEY']"):
        assert invariants(repo, skill(body, "SECRET_READ", declared)) == []
        assert invariants(repo, skill(body, "NETWORK", declared)) == []


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("key = os.environ['OTHER']", "'OTHER'"),
        ("key = self.context.secrets['OTHER']", "'OTHER'"),
        ("env = dict(os.environ)", "computed name"),
        ("name = 'API' + '_KEY'\nkey = os.environ[name]", "computed name"),
    ],
)
def test_reading_a_secret_the_skill_does_not_declare_is_kav606(
    repo: Path, body: str, words: str
) -> None:
    declared = "    required_secrets = ('API_KEY',)\n"
    found = invariants(repo, skill(body, "SECRET_READ", declared))
    assert [f.rule for f in found] == ["KAV606"]
    assert words in found[0].message


def test_a_computed_name_through_the_runtimes_secrets_mapping_passes(repo: Path) -> None:
    """``self.context.secrets`` refuses undeclared names at run time; os.environ does not."""
    declared = "    required_secrets = ('API_KEY',)\n"
    body = "name = data.text\nkey = self.context.secrets[name]"
    assert invariants(repo, skill(body, "NETWORK", declared)) == []
