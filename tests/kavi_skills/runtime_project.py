"""A tiny governed project in tmp_path: kavi.yaml, pinned skills, a registry, private XDG dirs."""

from __future__ import annotations

import hashlib
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from attest_keys import Key, sign_registry

from kavi_gates.config import LoadedConfig, load_config

ECHO = """\
from __future__ import annotations

from pydantic import BaseModel

from kavi_skills import BaseSkill


class EchoIn(BaseModel):
    text: str


class EchoOut(BaseModel):
    text: str


class EchoSkill(BaseSkill):
    name = "echo"
    description = "Return the text it was given."
    side_effect_class = "READ_ONLY"
    input_model = EchoIn
    output_model = EchoOut

    def execute(self, data: EchoIn) -> EchoOut:
        if data.text == "boom":
            raise RuntimeError("asked to fail")
        return EchoOut(text=data.text)
"""

HELPER = """\
from __future__ import annotations


def shout(text: str) -> str:
    return text.upper() + "!"
"""

SHOUT = """\
from __future__ import annotations

from pydantic import BaseModel

from kavi_skills import BaseSkill
from skills._util import shout


class ShoutIn(BaseModel):
    text: str


class ShoutOut(BaseModel):
    text: str


class ShoutSkill(BaseSkill):
    name = "shout"
    description = "Shout the text through a pinned helper module."
    side_effect_class = "READ_ONLY"
    input_model = ShoutIn
    output_model = ShoutOut

    def execute(self, data: ShoutIn) -> ShoutOut:
        import skills._util as late  # a lazy import must get the verified helper as well

        assert late.shout is shout
        return ShoutOut(text=shout(data.text))
"""

NOTE = """\
from __future__ import annotations

from pydantic import BaseModel

from kavi_skills import BaseSkill


class NoteIn(BaseModel):
    path: str
    body: str


class NoteOut(BaseModel):
    written_path: str


class NoteSkill(BaseSkill):
    name = "note"
    description = "Write a note through the guarded file API."
    side_effect_class = "FILE_WRITE"
    input_model = NoteIn
    output_model = NoteOut

    def execute(self, data: NoteIn) -> NoteOut:
        assert self.context.files is not None and self.context.http is None
        return NoteOut(written_path=str(self.context.files.write(data.path, data.body)))
"""

FETCH = """\
from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from kavi_skills import BaseSkill


class FetchIn(BaseModel):
    url: str
    leak: bool = False


class FetchOut(BaseModel):
    data: Any
    token_echo: str


class FetchSkill(BaseSkill):
    name = "fetch"
    description = "GET JSON from an allowed host with a declared secret."
    side_effect_class = "NETWORK"
    input_model = FetchIn
    output_model = FetchOut
    required_secrets = ("DEMO_TOKEN",)
    allowed_hosts = ("127.0.0.1",)

    def execute(self, data: FetchIn) -> FetchOut:
        assert self.context.http is not None and self.context.files is None
        token = self.context.secrets["DEMO_TOKEN"]
        if data.leak:
            raise RuntimeError(f"server rejected token {token}")
        payload = self.context.http.get_json(data.url, {"Authorization": f"Bearer {token}"})
        return FetchOut(data=payload, token_echo=token)
"""

SOURCES = {
    "skills/echo.py": ECHO,
    "skills/_util.py": HELPER,
    "skills/shout.py": SHOUT,
    "skills/note.py": NOTE,
    "skills/fetch.py": FETCH,
}

ENTRIES = {
    "echo": ("skills/echo.py", "EchoSkill", "READ_ONLY", [], ["skills/echo.py"]),
    "shout": (
        "skills/shout.py",
        "ShoutSkill",
        "READ_ONLY",
        [],
        ["skills/shout.py", "skills/_util.py"],
    ),
    "note": ("skills/note.py", "NoteSkill", "FILE_WRITE", [], ["skills/note.py"]),
    "fetch": ("skills/fetch.py", "FetchSkill", "NETWORK", ["DEMO_TOKEN"], ["skills/fetch.py"]),
}

HOSTS = {"fetch": ["127.0.0.1"]}
"""What promotion records for ``allowed_hosts`` (the literal of the class)."""


def sha256_file(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Project:
    root: Path
    data_dir: Path
    config_dir: Path
    key: Key
    extra: dict[str, tuple[str, str, str, list[str], list[str]]] = field(default_factory=dict)
    """Skills a test added (same shape as ``ENTRIES``), pinned by :meth:`pin` too."""
    hosts: dict[str, list[str]] = field(default_factory=lambda: dict(HOSTS))
    """``allowed_hosts`` recorded for each skill that has some (as promotion records them)."""

    @property
    def vault(self) -> Path:
        return self.data_dir / "vault"

    def add_skill(
        self,
        name: str,
        code: str,
        cls: str,
        side_effect: str = "READ_ONLY",
        secrets: tuple[str, ...] = (),
        helpers: dict[str, str] | None = None,
        hosts: tuple[str, ...] = (),
    ) -> None:
        """Write ``skills/<name>.py`` (and helper modules) and pin it like any trusted skill."""
        path = f"skills/{name}.py"
        (self.root / path).write_text(textwrap.dedent(code))
        pins = [path]
        for rel, text in (helpers or {}).items():
            (self.root / rel).write_text(textwrap.dedent(text))
            pins.append(rel)
        self.extra[name] = (path, cls, side_effect, list(secrets), pins)
        if hosts:
            self.hosts[name] = list(hosts)
        self.pin()

    @property
    def log_path(self) -> Path:
        return self.data_dir / "executions.jsonl"

    def config(self) -> LoadedConfig:
        return load_config(self.root / "kavi.yaml")

    def pin(self) -> None:
        """(Re)write the registry with the current sha256 of every pinned file, signed."""
        skills = {}
        for name, (path, cls, side, secrets, pins) in {**ENTRIES, **self.extra}.items():
            skills[name] = {
                "path": path,
                "class": cls,
                "side_effect_class": side,
                "required_secrets": secrets,
                "allowed_hosts": self.hosts.get(name, []),
                "pins": {p: sha256_file(self.root / p) for p in pins},
            }
        text = yaml.safe_dump({"version": 1, "skills": skills}, sort_keys=True)
        (self.root / "skills" / "registry.yaml").write_text(text)
        sign_registry(self.root, self.key, config=self.config().config)

    def append(self, rel: str, code: str) -> None:
        with (self.root / rel).open("a") as handle:
            handle.write("\n" + textwrap.dedent(code) + "\n")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, maintainer_key: Key) -> Project:
    root = tmp_path / "proj"
    (root / "skills").mkdir(parents=True)
    (root / "tests" / "skills").mkdir(parents=True)
    (root / "kavi.yaml").write_text(
        "hash_pin:\n  registry: skills/registry.yaml\n"
        "policy:\n  allowed_write_paths: [vault_out/]\n"
    )
    for rel, code in SOURCES.items():
        (root / rel).write_text(code)
    (root / "tests" / "skills" / "test_echo.py").write_text("def test_echo() -> None:\n    pass\n")
    xdg = tmp_path / "xdg"
    for var, sub in (
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        monkeypatch.setenv(var, str(xdg / sub))
    monkeypatch.setenv("KAVI_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.delenv("DEMO_TOKEN", raising=False)
    monkeypatch.chdir(root)
    proj = Project(root, xdg / "data" / "kavi", xdg / "config" / "kavi", maintainer_key)
    proj.pin()
    return proj


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    """A file an attack would create; tests assert it never appears."""
    return tmp_path / "MARKER"
