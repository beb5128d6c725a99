"""The validated configuration is remembered by its bytes: a second load validates nothing,
rebuilds exactly what validation made, and anything stale or malformed is a miss."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import kavi_gates.config
from kavi_gates.config import KaviConfig, load_config
from kavi_gates.errors import ConfigError
from kavi_gates.models import as_json

FULL = """\
include: ["skills/**/*.py", "tools/*.py"]
exclude: ["skills/vendored/**"]
select: [KAV4, KAV801]
ignore: [KAV5]
per_path_ignores: {"tests/**": [KAV6]}
baseline: .kavi/baseline.json
policy:
  imports: allow
  allowed_imports: [pydantic, kavi_skills.BaseSkill]
  forbidden_imports: [subprocess, socket]
  forbidden_calls: [os.system, shutil.rmtree]
  forbid_dynamic_exec: true
  network: allow
  process: deny
  allowed_write_paths: [out/]
  unsuppressible: [KAV401]
  file_budget: 3
overrides:
  - paths: ["tests/**"]
    policy: {allowed_write_paths: [tmp/], file_budget: 30, network: deny}
diff_allowlist:
  allow: ["skills/*.py"]
  require: ["tests/skills/*.py"]
  judge: all
  agents: {branches: ["bot/**"], authors: ["*[bot]*"], env: [MY_AGENT]}
hash_pin: {registry: skills/pins.yaml}
attestation: {allowed_signers: .kavi/signers, signing_key: ~/.ssh/id_ed25519}
invariants:
  contracts:
    - {source: kavi_gates, forbidden: [kavi_ledger], name: pure engine}
    - {source: a, forbidden: [b, c]}
  base_class: mypkg.Skill
  tests_dir: tests/unit
storage: {data_dir: .kavi/data, config_dir: .kavi/config, cache_dir: /tmp/kavi-cache, vault_dir: vault}
forge:
  agent: my-agent --flag
  timeout: 60
  check_timeout: 120
  extra_allowed: [docs/*.md]
  checks: [ruff, pytest]
  agent_env: [PATH, MY_TOKEN]
  agent_paths: ["~/.agent", {path: "~/.agent.json", mode: ro}]
  agent_network: none
  advice: false
  repeated_failure_limit: 5
  max_diff_lines: 100
sandbox: {enabled: false, timeout: 12.5, memory_mb: 512}
serve: {allow: [write_note], host: 192.168.1.5, port: 9000}
"""
CONFIGS = {
    "empty": "",
    "one key": "include: ['skills/*.py']\n",
    "every section": FULL,
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "project"
    root.mkdir()
    (root / ".git").mkdir()
    return root


def no_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(data: Any, source: str) -> KaviConfig:
        raise AssertionError("validated again")

    monkeypatch.setattr(kavi_gates.config, "validate_config", refuse)


@pytest.mark.parametrize("text", CONFIGS.values(), ids=list(CONFIGS))
def test_a_second_load_rebuilds_exactly_what_validation_made(
    project: Path, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "kavi.yaml").write_text(text)
    validated = load_config(start=project, remember=True)
    no_validation(monkeypatch)
    remembered = load_config(start=project, remember=True)
    assert remembered == validated
    assert repr(remembered.config) == repr(validated.config)  # tuples, floats: the same types
    assert (remembered.root, remembered.source) == (validated.root, validated.source)
    assert hash(remembered.config.policy) == hash(validated.config.policy)


def test_every_config_field_is_set_in_the_full_example() -> None:
    """FULL sets every field, so the test above covers every annotation the rebuild meets."""
    data = kavi_gates.config._parse_config_file(Path("kavi.yaml"), FULL)
    kavi_gates.config.validate_config(data, "kavi.yaml")
    seen: dict[type[Any], set[str]] = {}

    def collect(model: type[Any], given: dict[str, Any]) -> None:
        seen.setdefault(model, set()).update(given)
        for name, values in given.items():
            hint = kavi_gates.config_cache._hints(model)[name]
            inner = getattr(hint, "__args__", (hint,))[0]
            for item in values if isinstance(values, list) else [values]:
                if dataclasses.is_dataclass(inner) and isinstance(item, dict):
                    collect(inner, item)

    collect(KaviConfig, data)
    unset = {
        m.__name__: {f.name for f in dataclasses.fields(m)} - names for m, names in seen.items()
    }
    assert {name: fields for name, fields in unset.items() if fields} == {}


def test_an_edited_file_is_validated_again(project: Path) -> None:
    (project / "kavi.yaml").write_text("include: ['a/*.py']\n")
    assert load_config(start=project, remember=True).config.include == ("a/*.py",)
    (project / "kavi.yaml").write_text("include: ['b/*.py']\n")
    assert load_config(start=project, remember=True).config.include == ("b/*.py",)
    (project / "kavi.yaml").write_text("include: ['a/*.py']\nbogus: 1\n")
    with pytest.raises(ConfigError, match="unknown config key 'bogus'"):
        load_config(start=project, remember=True)


def test_errors_are_never_remembered(project: Path) -> None:
    (project / "kavi.yaml").write_text("policy: {network: sometimes}\n")
    for _ in range(2):
        with pytest.raises(ConfigError, match=r"policy\.network"):
            load_config(start=project, remember=True)
    assert not list((project.parent / "cache").rglob("config/*.json"))


def _tampered(path: tuple[str, ...], value: object) -> str:
    data = as_json(KaviConfig(include=("a/*.py",)))
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return json.dumps(data)


@pytest.mark.parametrize(
    "stored",
    [
        "not json",
        "[1, 2]",
        '{"include": ["a/*.py"]}',  # fields missing
        _tampered(("include",), "a/*.py"),
        _tampered(("policy", "network"), "sometimes"),
        _tampered(("policy", "no_such_field"), 1),
        _tampered(("sandbox", "timeout"), True),
        _tampered(("forge", "agent_paths"), [{"path": 1, "mode": "rw"}]),
        _tampered(("forge", "agent_paths"), [{"path": "relative", "mode": "rw"}]),
        _tampered(("serve", "port"), 0),
        _tampered(("policy", "file_budget"), 1e9),
    ],
)
def test_a_malformed_entry_is_a_miss(project: Path, stored: str) -> None:
    (project / "kavi.yaml").write_text("include: ['a/*.py']\n")
    load_config(start=project, remember=True)
    (entry,) = (project.parent / "cache").rglob("config/*.json")
    entry.write_text(stored)
    assert load_config(start=project, remember=True).config.include == ("a/*.py",)
    assert json.loads(entry.read_text())["include"] == ["a/*.py"]  # and it is rewritten


def test_a_pyproject_without_kavi_is_remembered_as_no_configuration(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "pyproject.toml").write_text("[tool.other]\nx = 1\n")
    assert load_config(start=project, remember=True).source == "<embedded default>"
    no_validation(monkeypatch)
    assert load_config(start=project, remember=True).source == "<embedded default>"
    with pytest.raises(ConfigError, match=r"has no \[tool.kavi\] table"):
        load_config(project / "pyproject.toml", remember=True)


def test_a_hit_builds_no_validator_and_imports_no_pydantic(project: Path) -> None:
    (project / "kavi.yaml").write_text(FULL)
    load_config(start=project, remember=True)
    probe = (
        "import sys\n"
        "from kavi_gates.config import load_config\n"
        "loaded = load_config(remember=True)\n"
        "print(loaded.config.serve.port, 'pydantic' in sys.modules, 'yaml' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=project, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["9000", "False", "False"], done.stderr


def test_only_a_caller_that_asks_remembers(project: Path) -> None:
    (project / "kavi.yaml").write_text("include: ['a/*.py']\n")
    load_config(start=project)
    assert not (project.parent / "cache").exists()  # the library writes nothing by default
