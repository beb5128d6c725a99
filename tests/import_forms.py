"""Every way a skill's import can reach a file of the project, for the closure attack tests.

Each form is a set of project files, the import lines a skill uses (they bind ``shout``),
and the helper file an attacker edits after promotion. ``set_up`` writes the files and
makes the environment look as it would in real life: a real ``.pth`` file processed by
``site`` for the .pth form, a meta-path finder like setuptools' ``__editable__`` one for
the editable-install form. Use the ``clean_import_state`` fixture so both are undone.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import site
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

HELPER = "def shout(text: str) -> str:\n    return text.upper()\n"


def write(root: Path, rel: str, text: str = "") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


class MappingFinder:
    """What setuptools' ``__editable__`` finder does: map top-level names to directories."""

    def __init__(self, mapping: dict[str, Path]) -> None:
        self.mapping = mapping

    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.mapping:
            return None
        init = self.mapping[fullname] / "__init__.py"
        return importlib.util.spec_from_file_location(
            fullname, init, submodule_search_locations=[str(self.mapping[fullname])]
        )


@pytest.fixture
def clean_import_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests may add sys.path entries and meta-path finders; both are restored."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    yield


FORMS: dict[str, tuple[dict[str, str], str, str]] = {
    "sibling": ({"skills/_sib.py": HELPER}, "from _sib import shout", "skills/_sib.py"),
    "src-layout": (
        {"src/pkg/__init__.py": "", "src/pkg/text.py": HELPER},
        "from pkg.text import shout",
        "src/pkg/text.py",
    ),
    "pth-entry": (
        {"lib/extra/deep.py": HELPER},
        "from extra.deep import shout",
        "lib/extra/deep.py",
    ),
    "editable-finder": (
        {"vendor/edpkg/__init__.py": "from .core import shout\n", "vendor/edpkg/core.py": HELPER},
        "from edpkg import shout",
        "vendor/edpkg/core.py",
    ),
    "namespace-package": (
        {"nsroot/space/inner.py": HELPER},
        "from nsroot.space.inner import shout",
        "nsroot/space/inner.py",
    ),
    "relative": ({"skills/_rel.py": HELPER}, "from ._rel import shout", "skills/_rel.py"),
    "import-module-literal": (
        {"skills/_dyn.py": HELPER},
        "import importlib\n\nshout = importlib.import_module('skills._dyn').shout",
        "skills/_dyn.py",
    ),
    "src-relative-chain": (
        {
            "src/pkg/__init__.py": "",
            "src/pkg/mod.py": "from . import deep\n",
            "src/pkg/deep.py": HELPER,
        },
        "from pkg import mod\n\nshout = mod.deep.shout",
        "src/pkg/deep.py",
    ),
    "from-import-two-submodules": (
        {"helpers/__init__.py": "", "helpers/a.py": "", "helpers/b.py": HELPER},
        "from helpers import a, b\n\nshout = b.shout",
        "helpers/b.py",
    ),
    "star-import": (
        {"helpers/__init__.py": "__all__ = ['b']\n", "helpers/b.py": HELPER},
        "from helpers import *\n\nshout = b.shout",
        "helpers/b.py",
    ),
}
# Forms whose environment setup lives only in this process (no subprocess sees it).
IN_PROCESS_ONLY = frozenset({"pth-entry", "editable-finder"})


def set_up(root: Path, form: str, tmp_path: Path) -> None:
    """Write the form's files under ``root`` and set up the environment it needs."""
    files, _, _ = FORMS[form]
    for rel, text in files.items():
        write(root, rel, text)
    if form == "pth-entry":
        # A real .pth file processed by site, as an installed distribution would ship it.
        sitedir = tmp_path / "site"
        write(sitedir, "kavi-test-extra.pth", f"{root / 'lib'}\n")
        site.addsitedir(str(sitedir))
    if form == "editable-finder":
        sys.meta_path.append(MappingFinder({"edpkg": root / "vendor" / "edpkg"}))
