"""``policy.imports: allow``: an import, or a use of an imported module, outside the
allowlist (``kavi_gates.policy.allowlist``).

Its trigger words depend on the mode: under ``imports: allow`` the pre-filter adds the
words any import needs (``import``, ``__import__``, ...); under ``deny`` the rule is off."""

from __future__ import annotations

import inspect
import textwrap

from kavi_gates.models import Code
from kavi_gates.policy.allowlist import EXCLUDED, SAFE_IMPORTS
from kavi_gates.policy.catalog import INDIRECTION_WORDS

GATE = "policy"


def _listing(title: str, names: frozenset[str]) -> str:
    return textwrap.fill(f"{title}: {', '.join(sorted(names))}.", width=88)


IMPORT_NOT_ALLOWED = Code(
    id="KAV103",
    gate=GATE,
    category="import-allowlist",
    title="import outside the allowlist (policy.imports: allow)",
    doc=inspect.cleandoc(
        """
        Under ``policy.imports: allow`` a skill may import only the curated safe standard
        library (listed below) and what ``policy.allowed_imports`` adds; any other import
        is this finding.

        Every import form counts: ``import a.b as c``, ``from a import b`` (judged as
        ``a.b``), imports inside functions and ``try`` blocks, ``__import__("a")``. A star
        import needs its whole module allowed. Relative imports (the project's own package)
        are not judged here. Where only some names of a module are allowed (``os.path`` of
        ``os``), importing the module is fine and every use of any other name of it is the
        finding (``os.getcwd()``, ``m = os``). So is reaching past an allowed module: a
        private name (``random._os``) or a module it imported (``logging.os``), or a
        module used as a value (``f(logging)``, ``mod=json``: inside ``f`` its names
        cannot be followed; ``m = logging`` is followed and fine).

        Reaching a module without naming one is the finding too: a string where a type goes
        that is code rather than a type (``x: "__import__('os').system('id')"``,
        ``TypeAdapter("...")``: pydantic, ``functools.singledispatch`` and ``TypeVar``
        bounds ``eval`` forward references), ``help("name")`` (it imports by name), and
        ``allow_pickle`` (pydantic's deprecated ``parse_raw``/``parse_file`` unpickle).
        ``allowed_imports: [kavi_skills]`` allows the skill API (``BaseSkill``, the
        errors, ``llm.LLMError``, ``vectors.rank_in_memory``, ...), not the runtime's
        executor, sandbox, records and clients.

        An allowlist names what may be used instead of chasing what may not: a new
        third-party client is a finding until the project allows it. It needs
        ``forbid_dynamic_exec: true`` (``exec("import socket")`` would not be seen), and
        the other categories keep applying.
        """
    )
    + "\n\n"
    + _listing("The curated set (an entry allows everything under it)", SAFE_IMPORTS)
    + "\n\n"
    + _listing("Outside it unless allowed_imports names one exactly", EXCLUDED),
    fix="""
        Use an allowed module (``json`` rather than ``pickle``; the runtime's guarded files
        and HTTP rather than ``pathlib`` or ``requests``), or, if the project trusts the
        module, add it to policy.allowed_imports (``pkg`` allows all of it, ``pkg.name``
        one name).
        """,
    valid=(
        "import json\nimport re\nprint(json.dumps(re.findall('a', 'abc')))\n",
        "import os\nprint(os.path.join('a', 'b'))\n",
        "from os.path import join\nfrom os import path, sep\n",
        "from . import helpers\nfrom .models import Note\n",
        "from pydantic import BaseModel\nimport logging\nlog = logging.getLogger(__name__)\n",
        "from collections.abc import Mapping\nimport datetime\nt = datetime.time(1)\n",
        "from types import TracebackType\nx: 'list[TracebackType]' = []\n",
    ),
    invalid=(
        "import requests\n",
        "import pathlib\npathlib.Path('x').write_text('y')\n",
        "import os\nos.getcwd()\n",
        "import os\nm = os\n",
        "import os.path\nos.remove('x')\n",
        "from os import getcwd\n",
        "from os import *\n",
        "import logging\nlogging.os.getcwd()\n",
        "import random\nr = random._os\n",
        "m = __import__('shelve')\n",
        "def f():\n    import tempfile\n",
        "try:\n    import ujson as json\nexcept ImportError:\n    import json\n",
        "from pydantic import ImportString\n",
        "from logging.handlers import SocketHandler\n",
        "import logging\ndef f(m):\n    return m.os\nf(logging)\n",
        "import enum\nenum.bltns.exec('import socket')\n",
        "from pydantic import BaseModel\nclass M(BaseModel):\n    x: \"__import__('os')\"\n",
        "help('antigravity')\n",
        "from kavi_skills.llm import LLMClient\n",
    ),
    triggers=tuple(sorted(INDIRECTION_WORDS)),
)
