"""``allowed_write_paths``: every file write or delete must target a literal path inside an
allowed directory; a path computed at run time cannot be proven, so it is a finding."""

from __future__ import annotations

from kavi_gates.models import Code
from kavi_gates.policy.catalog import INDIRECTION_WORDS, words_of
from kavi_gates.policy.catalog.writes import (
    CONDITIONAL_WRITERS,
    EXTRACT_METHODS,
    OPENERS,
    PATH_METHODS,
    SAVE_METHODS,
    WRITERS,
)

GATE = "policy"
CATEGORY = "write-paths"
_TRIGGERS = tuple(
    sorted(
        words_of(OPENERS, WRITERS, CONDITIONAL_WRITERS, {"os.open"})
        | PATH_METHODS
        | SAVE_METHODS
        | EXTRACT_METHODS
        | {"open"}
        | INDIRECTION_WORDS
    )
)

WRITE_OUTSIDE_ALLOWED = Code(
    id="KAV501",
    gate=GATE,
    category=CATEGORY,
    title="write outside the allowed paths",
    doc="""
        A file write or delete targets a literal path outside ``allowed_write_paths``.

        Paths are normalised first and compared by component: ``vault_out/../x`` is
        outside ``vault_out/`` and ``vault_outside/x`` is not inside ``vault_out/``.
        Covers open modes w/a/x/+ (also given by keyword), pathlib writes, os and shutil
        file operations, io/codecs/gzip/wave/dbm opens, sqlite3.connect, logging file
        handlers, ``fileinput`` with ``inplace``, mailboxes, cookie jars (``save()``
        writes their file), ``compileall``/``py_compile`` (``__pycache__`` beside the
        source), ``zipapp``, ``uu``, and numpy/torch/safetensors/pandas savers.
        """,
    fix="""
        Write inside one of policy.allowed_write_paths, through the runtime's guarded file
        API (self.context.files) in a FILE_WRITE skill.
        """,
    valid=(
        "with open('vault_out/note.md', 'w') as f:\n    f.write('x')\n",
        "data = open('/etc/hosts').read()\n",
        "from pathlib import Path\nPath('artifacts_out') / 'r.txt'\n",
        "from pathlib import Path\n(Path('vault_out') / 'a.md').write_text('x')\n",
        "import os\nos.makedirs(os.path.join('vault_out', 'daily'))\n",
        "OUT = 'vault_out/log.txt'\nopen(OUT, 'a').close()\n",
    ),
    invalid=(
        "open('notes.md', 'w')\n",
        "open('vault_out/../x.md', 'w')\n",
        "open('vault_outside/x.md', 'w')\n",
        "open('/etc/passwd', mode='a')\n",
        "open(file='x.txt', mode='r+')\n",
        "from pathlib import Path\nPath('/tmp/x').write_text('x')\n",
        "import os\nos.remove('config.yaml')\n",
        "import shutil\nshutil.rmtree('vault_out/..')\n",
        "import io\nio.open('x', 'wb')\n",
        "import fileinput\nfor line in fileinput.input('notes.md', inplace=True):\n"
        "    print(line)\n",
        "import mailbox\nbox = mailbox.mbox('/tmp/box')\n",
        "import http.cookiejar\njar = http.cookiejar.MozillaCookieJar('cookies.txt')\n",
        "import torch\ntorch.save({}, 'model.pt')\n",
        "import compileall\ncompileall.compile_dir('skills')\n",
        "import py_compile\npy_compile.compile('skills/x.py')\n",
        "import zipapp\nzipapp.create_archive('app', '/tmp/app.pyz')\n",
    ),
    triggers=_TRIGGERS,
)
COMPUTED_WRITE_PATH = Code(
    id="KAV502",
    gate=GATE,
    category=CATEGORY,
    title="write to a computed path",
    doc="""
        A file write or delete targets a path computed at run time, which cannot be proven
        inside ``allowed_write_paths``. Skills that write use the runtime's guarded file
        API (``self.context.files``), which enforces the allowed roots when the skill runs.
        A write method called by name (``operator.methodcaller("write_text", s)``,
        ``getattr(p, "write_text")``) or a writer that picks its own place
        (``compileall.compile_path()``) is one too.
        """,
    fix="""
        Write through self.context.files, which checks the computed path when the skill
        runs, or write to a literal path inside policy.allowed_write_paths.
        """,
    valid=(
        "def read(path):\n    with open(path) as f:\n        return f.read()\n",
        "def save(ctx, text):\n    ctx.files.write('note.md', text)\n",
        "s = 'a-b'.replace('-', '_')\n",
    ),
    invalid=(
        "def save(name, text):\n    open('vault_out/' + name, 'w').write(text)\n",
        "def save(p, mode):\n    open(p, mode)\n",
        "def save(p):\n    p.write_text('x')\n",
        "import tempfile\nfd, name = tempfile.mkstemp()\n",
        "def save(df, out):\n    df.to_csv(out)\n",
        "def save(name):\n    open(f'vault_out/{name}', 'w')\n",
        "import operator\nsave = operator.methodcaller('write_text', 'x')\n",
        "def save(p):\n    getattr(p, 'write_text')('x')\n",
    ),
    triggers=_TRIGGERS,
)
