"""``allowed_write_paths`` — every file write or delete must target a literal path inside an
allowed directory; a path computed at run time cannot be proven, so it is a finding."""

from __future__ import annotations

from collections.abc import Iterator

from kavi_gates.policy.catalog.writes import SAFE_TARGETS
from kavi_gates.policy.queries import inside, write_operations
from kavi_gates.policy.resolution import ModuleFacts
from kavi_gates.policy.rule import Rule, Violation


class WriteOutsideAllowed(Rule):
    """A file write or delete targets a literal path outside ``allowed_write_paths``.

    Paths are normalised first and compared by component: ``vault_out/../x`` is outside
    ``vault_out/`` and ``vault_outside/x`` is not inside ``vault_out/``. Covers open modes
    w/a/x/+ (also given by keyword), pathlib writes, os and shutil file operations,
    io/codecs/gzip opens, sqlite3.connect, logging file handlers and numpy savers.
    """

    id = "KAV501"
    category = "write-paths"
    MESSAGE = "write outside the allowed paths"
    VALID = [
        "with open('vault_out/note.md', 'w') as f:\n    f.write('x')\n",
        "data = open('/etc/hosts').read()\n",
        "from pathlib import Path\nPath('artifacts_out') / 'r.txt'\n",
        "from pathlib import Path\n(Path('vault_out') / 'a.md').write_text('x')\n",
        "import os\nos.makedirs(os.path.join('vault_out', 'daily'))\n",
        "OUT = 'vault_out/log.txt'\nopen(OUT, 'a').close()\n",
    ]
    INVALID = [
        "open('notes.md', 'w')\n",
        "open('vault_out/../x.md', 'w')\n",
        "open('vault_outside/x.md', 'w')\n",
        "open('/etc/passwd', mode='a')\n",
        "open(file='x.txt', mode='r+')\n",
        "from pathlib import Path\nPath('/tmp/x').write_text('x')\n",
        "import os\nos.remove('config.yaml')\n",
        "import shutil\nshutil.rmtree('vault_out/..')\n",
        "import io\nio.open('x', 'wb')\n",
    ]

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        allowed = tuple(self.policy.allowed_write_paths)
        for op in write_operations(facts):
            if op.path is not None and op.path not in SAFE_TARGETS and not inside(op.path, allowed):
                yield Violation(
                    op.node,
                    f"{op.what} writes '{op.path}', outside allowed_write_paths "
                    f"({', '.join(allowed) or 'none'})",
                )


class ComputedWritePath(Rule):
    """A file write or delete targets a path computed at run time, which cannot be proven
    inside ``allowed_write_paths``. Skills that write use the runtime's guarded file API
    (``self.context.files``), which enforces the allowed roots when the skill runs."""

    id = "KAV502"
    category = "write-paths"
    MESSAGE = "write to a computed path"
    VALID = [
        "def read(path):\n    with open(path) as f:\n        return f.read()\n",
        "def save(ctx, text):\n    ctx.files.write('note.md', text)\n",
        "s = 'a-b'.replace('-', '_')\n",
    ]
    INVALID = [
        "def save(name, text):\n    open('vault_out/' + name, 'w').write(text)\n",
        "def save(p, mode):\n    open(p, mode)\n",
        "def save(p):\n    p.write_text('x')\n",
        "import tempfile\nfd, name = tempfile.mkstemp()\n",
        "def save(df, out):\n    df.to_csv(out)\n",
        "def save(name):\n    open(f'vault_out/{name}', 'w')\n",
    ]

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for op in write_operations(facts):
            if op.path is None:
                yield Violation(
                    op.node,
                    f"{op.what} writes to a path computed at run time "
                    "(cannot be proven inside allowed_write_paths)",
                )
