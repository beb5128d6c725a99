"""Capabilities and secrets: a skill's powers come from the runtime (``self.context``),
and the secrets it is given stay out of its output."""

from __future__ import annotations

from kavi_gates.models import Code
from kavi_gates.policy.catalog import INDIRECTION_WORDS, key_words
from kavi_gates.policy.catalog.secrets import ENV_SOURCES, RUNTIME_PACKAGES, SECRET_STORES

GATE = "policy"

RUNTIME_INTERNALS = Code(
    id="KAV121",
    gate=GATE,
    category="capabilities",
    title="runtime internals used by a skill",
    doc="""
        A governed file reaches Kavi's runtime beyond the skill API: it builds a capability
        itself (``GuardedFiles``, ``GuardedHTTP``, an ``LLMClient`` with an endpoint of its
        choosing, a ``VectorStore``), or uses the ledger, the broker, the loader, the
        secrets reader, the forge or the sandbox layer. Capabilities built outside the
        runtime are granted by nobody: they skip the side-effect class, the allowed paths
        and hosts and the records.

        The skill API is ``BaseSkill``, ``SkillContext`` and the protocols of
        ``kavi_skills.base``, ``kavi_skills.errors``, ``LLMError``/``LLMUnavailable`` and
        ``rank_in_memory``/``VectorStoreError``. Any import form counts, and so does any
        reference (aliases, ``getattr``, ``importlib.import_module("kavi_skills.llm")``).
        """,
    fix="""
        Use what self.context hands the skill (files, http, llm, secrets) and declare the
        side-effect class that grants it. Tests that build capabilities for a skill under
        test are not skills: ignore the code there (per_path_ignores: {"tests/**":
        [KAV121]}).
        """,
    valid=(
        "from kavi_skills import BaseSkill, SkillContext\n",
        "from kavi_skills.llm import LLMError, LLMUnavailable\n",
        "import kavi_skills\nclass S(kavi_skills.BaseSkill):\n    pass\n",
    ),
    invalid=(
        "from kavi_skills.guarded_files import GuardedFiles\nfiles = GuardedFiles({})\n",
        "from kavi_skills.guarded_http import GuardedHTTP\n",
        "import kavi_skills.llm\nclient = kavi_skills.llm.LLMClient()\n",
        "from kavi_skills import llm\nclient = llm.LLMClient()\n",
        "import kavi_ledger\n",
        "import importlib\nm = importlib.import_module('kavi_skills.secrets')\n",
    ),
    triggers=tuple(sorted(RUNTIME_PACKAGES | INDIRECTION_WORDS)),
)
CAPABILITY_PRIVATE = Code(
    id="KAV122",
    gate=GATE,
    category="capabilities",
    title="private attribute of a capability",
    doc="""
        A skill reaches a private attribute (a name starting with ``_``, dunders included)
        of ``self.context`` or of a capability it holds (``self.context.files._roots``,
        ``self.context.http.__dict__``), also through aliases (``f = self.context.files;
        f._roots``) and by name (``getattr(self.context.llm, "_client")``), or takes a
        capability's class (``type(self.context.files)``). What a capability does is its
        public methods; its insides are the runtime's.
        """,
    fix="Call the capability's public methods (files.write, http.get_json, llm.chat_json).",
    valid=(
        "class S:\n    def run(self, text):\n        self.context.files.write('a.md', text)\n",
        "class S:\n    def run(self):\n        return self.context.secrets['API_KEY']\n",
    ),
    invalid=(
        "class S:\n    def run(self):\n        return self.context.files._roots\n",
        "class S:\n    def run(self):\n        f = self.context.files\n        return f._roots\n",
        "class S:\n    def run(self):\n        return getattr(self.context.llm, '_client')\n",
        "class S:\n    def run(self):\n        return self.context.http.__dict__\n",
        "class S:\n    def run(self):\n        return type(self.context.files)\n",
    ),
    triggers=tuple(sorted({"context"} | INDIRECTION_WORDS)),
)
SECRET_LEAK = Code(
    id="KAV131",
    gate=GATE,
    category="secrets",
    title="secret printed or logged",
    doc="""
        A value read from the environment (``os.environ``, ``os.getenv``, ``environb``,
        ``expandvars``), from the declared secrets (``self.context.secrets``) or from a
        secret store (dotenv, keyring, netrc) reaches ``print``, ``sys.stdout``/``stderr``,
        ``pprint``, ``warnings.warn``, ``logging`` or a logger's methods — directly, through
        variables, loops, comprehensions, f-strings or expressions. Output ends up in
        execution records, terminals and CI logs.

        Variables every shell sets (``HOME``, ``PATH``, ``LANG``, ``TZ``, ...) are not
        secrets. A secret handed to a function of your own that prints it is not followed.
        """,
    fix="""
        Print or log that the value is set, never the value (``"API_KEY is set"``); pass
        secrets only to the client that needs them.
        """,
    valid=(
        "import os\nprint(os.environ.get('HOME'))\n",
        "import os\nkey = os.environ['API_KEY']\nprint('API_KEY is set' if key else 'unset')\n",
        "import os\nprint(os.getenv('LANG', 'C'))\n",
    ),
    invalid=(
        "import os\nprint(os.environ['API_KEY'])\n",
        "import os\nkey = os.getenv('API_KEY')\nprint(f'using {key}')\n",
        "import logging, os\nlogging.info('token %s', os.environ.get('TOKEN'))\n",
        "import logging, os\nlog = logging.getLogger(__name__)\nlog.debug(dict(os.environ))\n",
        "import os\nfor name, value in os.environ.items():\n    print(name, value)\n",
        "import os, sys\nsys.stderr.write(os.environ['DB_PASSWORD'])\n",
        "class S:\n    def run(self):\n        print(self.context.secrets['API_KEY'])\n",
    ),
    triggers=tuple(
        sorted(key_words(ENV_SOURCES, SECRET_STORES) | {"context", "secrets"} | INDIRECTION_WORDS)
    ),
)
