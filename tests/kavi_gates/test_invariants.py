from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kavi_gates.config import Contract, InvariantsConfig, KaviConfig, LoadedConfig
from kavi_gates.contracts import check_contracts
from kavi_gates.errors import EXIT_USAGE, ConfigError
from kavi_gates.invariants import check_skill_source, check_test_file, is_skill_module
from kavi_gates.models import Finding, Status
from kavi_gates.runner import run_gates

BASE = "kavi_skills.BaseSkill"
REPO_ROOT = Path(__file__).resolve().parents[2]

ECHO = """\
from pydantic import BaseModel

from kavi_skills import BaseSkill


class EchoIn(BaseModel):
    text: str


class EchoOut(BaseModel):
    text: str


class EchoSkill(BaseSkill):
    name = "echo"
    description = "Return the input text."
    side_effect_class = "READ_ONLY"
    input_model = EchoIn
    output_model = EchoOut

    def execute(self, data: EchoIn) -> EchoOut:
        return EchoOut(text=data.text)
"""


def structure(source: str) -> list[tuple[str, str]]:
    findings, _ = check_skill_source(source.encode(), "skills/echo.py", BASE)
    return [(f.rule, f.message) for f in findings]


def rule_ids(findings: list[Finding]) -> list[str]:
    return sorted(f.rule for f in findings)


def write(root: Path, rel: str, text: str = "") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- skill structure -------------------------------------------------------------------


def test_well_formed_skill_has_no_structure_findings() -> None:
    findings, declared = check_skill_source(ECHO.encode(), "skills/echo.py", BASE)
    assert (findings, declared) == ([], "READ_ONLY")


def test_base_class_is_recognised_through_a_module_alias() -> None:
    source = ECHO.replace("from kavi_skills import BaseSkill", "import kavi_skills as k")
    assert structure(source.replace("(BaseSkill)", "(k.BaseSkill)")) == []


def test_base_class_is_recognised_through_a_submodule_and_alias() -> None:
    source = ECHO.replace(
        "from kavi_skills import BaseSkill", "from kavi_skills.base import BaseSkill as B"
    )
    assert structure(source.replace("(BaseSkill)", "(B)")) == []


def test_a_same_named_class_from_another_package_is_not_the_base() -> None:
    source = ECHO.replace("from kavi_skills import", "from lookalike import")
    assert [r for r, _ in structure(source)] == ["KAV601"]


def test_module_without_a_skill_class_is_kav601() -> None:
    assert structure("x = 1\n") == [
        ("KAV601", "skill module defines no subclass of kavi_skills.BaseSkill")
    ]


def test_module_with_two_skill_classes_is_kav601() -> None:
    source = ECHO + "\n\nclass Second(EchoSkill):\n    pass\n"
    ((rule, message),) = structure(source)
    assert rule == "KAV601"
    assert "EchoSkill, Second" in message


def test_module_that_does_not_parse_is_kav601() -> None:
    assert [r for r, _ in structure("class (:\n")] == ["KAV601"]


def test_missing_side_effect_class_is_kav602() -> None:
    source = ECHO.replace('    side_effect_class = "READ_ONLY"\n', "")
    assert structure(source) == [
        ("KAV602", "EchoSkill.side_effect_class is not assigned in the class body")
    ]


def test_computed_name_is_kav602() -> None:
    source = ECHO.replace('name = "echo"', 'name = "ec" + "ho"')
    assert structure(source) == [("KAV602", "EchoSkill.name must be a string literal")]


def test_input_model_that_is_not_a_class_reference_is_kav602() -> None:
    source = ECHO.replace("input_model = EchoIn", "input_model = make_model()")
    assert structure(source) == [("KAV602", "EchoSkill.input_model must name a class")]


def test_annotated_literal_attributes_are_accepted() -> None:
    source = ECHO.replace('name = "echo"', 'name: str = "echo"')
    assert structure(source) == []


def test_attribute_reassigned_after_the_class_is_kav602() -> None:
    source = ECHO + '\nEchoSkill.side_effect_class = "NETWORK"\n'
    assert structure(source) == [
        ("KAV602", "EchoSkill.side_effect_class is reassigned outside the class body")
    ]


def with_hosts(line: str) -> str:
    return ECHO.replace("    output_model = EchoOut\n", f"    output_model = EchoOut\n    {line}\n")


def test_literal_allowed_hosts_and_secrets_are_accepted() -> None:
    assert structure(with_hosts('allowed_hosts = ("api.github.com", "127.0.0.1:8080")')) == []
    assert structure(with_hosts("required_secrets = ()")) == []
    assert structure(with_hosts('allowed_hosts: tuple[str, ...] = ("a.example",)')) == []


@pytest.mark.parametrize(
    "value",
    [
        'tuple(os.environ["HOSTS"].split(","))',
        '("api." + "github.com",)',
        '["api.github.com"]',
        "HOSTS",
        "(HOST,)",
        '("api.github.com", *EXTRA)',
        '{"api.github.com"}',
    ],
)
def test_computed_allowed_hosts_are_kav602(value: str) -> None:
    assert structure(with_hosts(f"allowed_hosts = {value}")) == [
        (
            "KAV602",
            "EchoSkill.allowed_hosts must be a literal tuple of string literals "
            "(it is recorded and signed at promotion)",
        )
    ]


def test_computed_required_secrets_are_kav602() -> None:
    ((rule, message),) = structure(with_hosts("required_secrets = tuple(NAMES)"))
    assert rule == "KAV602" and "required_secrets must be a literal tuple" in message


@pytest.mark.parametrize("host", ["https://api.github.com", "api.github.com/x", "", " a.b", "u@h"])
def test_an_allowed_host_with_a_scheme_path_or_space_is_kav602(host: str) -> None:
    ((rule, message),) = structure(with_hosts(f"allowed_hosts = ({host!r},)"))
    assert rule == "KAV602" and repr(host) in message


def test_allowed_hosts_assigned_twice_or_after_the_class_is_kav602() -> None:
    twice = with_hosts('allowed_hosts = ("a.example",)\n    allowed_hosts = ("b.example",)')
    assert structure(twice) == [("KAV602", "EchoSkill.allowed_hosts is assigned more than once")]
    after = ECHO + '\nEchoSkill.allowed_hosts = ("evil.example",)\n'
    assert structure(after) == [
        ("KAV602", "EchoSkill.allowed_hosts is reassigned outside the class body")
    ]


def test_unknown_side_effect_class_is_kav603() -> None:
    ((rule, message),) = structure(ECHO.replace('"READ_ONLY"', '"HARMLESS"'))
    assert rule == "KAV603"
    assert "'HARMLESS'" in message


def test_helper_modules_starting_with_underscore_are_not_skills() -> None:
    assert not is_skill_module("skills/_vault.py")
    assert not is_skill_module("skills/__init__.py")
    assert is_skill_module("skills/echo.py")


def test_skill_without_a_test_file_is_kav605(tmp_path: Path) -> None:
    (finding,) = check_test_file("skills/echo.py", tmp_path, "tests/skills")
    assert finding.rule == "KAV605"
    assert "tests/skills/test_echo.py" in finding.message


def test_skill_with_its_test_file_passes(tmp_path: Path) -> None:
    write(tmp_path, "tests/skills/test_echo.py")
    assert check_test_file("skills/echo.py", tmp_path, "tests/skills") == []


# --- boundary contracts ----------------------------------------------------------------


@pytest.fixture
def packages(tmp_path: Path) -> Path:
    """Two packages, ``core`` and ``store``, and a neutral ``shared`` module."""
    write(tmp_path, "core/__init__.py")
    write(tmp_path, "store/__init__.py")
    write(tmp_path, "store/db.py")
    write(tmp_path, "shared.py")
    return tmp_path


CORE_NOT_STORE = (Contract(source="core", forbidden=("store",)),)


def test_contract_holds_when_nothing_crosses_it(packages: Path) -> None:
    write(packages, "core/a.py", "import shared\nfrom . import b\n")
    write(packages, "core/b.py", "import os\n")
    assert check_contracts(CORE_NOT_STORE, packages) == []


def test_direct_import_breaks_the_contract_at_its_line(packages: Path) -> None:
    write(packages, "core/a.py", "import os\nfrom store.db import connect\n")
    (finding,) = check_contracts(CORE_NOT_STORE, packages)
    assert (finding.rule, finding.path, finding.line) == ("KAV610", "core/a.py", 2)
    assert "chain: core.a -> store.db" in finding.message


def test_indirect_import_is_reported_with_its_chain(packages: Path) -> None:
    write(packages, "shared.py", "import store.db\n")
    write(packages, "core/a.py", "import shared\n")
    (finding,) = check_contracts(CORE_NOT_STORE, packages)
    assert (finding.path, finding.line) == ("core/a.py", 1)
    assert "chain: core.a -> shared -> store" in finding.message


def test_import_inside_a_function_counts(packages: Path) -> None:
    write(packages, "core/a.py", "def f():\n    import store\n")
    assert rule_ids(check_contracts(CORE_NOT_STORE, packages)) == ["KAV610"]


def test_type_checking_import_counts(packages: Path) -> None:
    write(
        packages,
        "core/a.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from store import db\n",
    )
    assert rule_ids(check_contracts(CORE_NOT_STORE, packages)) == ["KAV610"]


def test_importlib_with_a_literal_name_counts(packages: Path) -> None:
    write(packages, "core/a.py", "import importlib\nimportlib.import_module('store.db')\n")
    (finding,) = check_contracts(CORE_NOT_STORE, packages)
    assert finding.line == 2


def test_relative_import_reaching_a_forbidden_sibling_counts(tmp_path: Path) -> None:
    write(tmp_path, "app/__init__.py")
    write(tmp_path, "app/store/__init__.py")
    write(tmp_path, "app/store/db.py")
    write(tmp_path, "app/core/__init__.py")
    write(tmp_path, "app/core/a.py", "from ..store import db\n")
    contracts = (Contract(source="app.core", forbidden=("app.store",)),)
    (finding,) = check_contracts(contracts, tmp_path)
    assert "chain: app.core.a -> app.store.db" in finding.message


def test_relative_import_beyond_the_top_level_is_not_guessed(packages: Path) -> None:
    write(packages, "core/a.py", "from ..store import db\n")
    assert check_contracts(CORE_NOT_STORE, packages) == []


def test_data_directory_inside_a_package_is_not_part_of_its_graph(packages: Path) -> None:
    write(packages, "core/examples/skill.py", "import store\n")
    assert check_contracts(CORE_NOT_STORE, packages) == []


def test_contract_naming_an_unknown_module_is_a_config_error(packages: Path) -> None:
    contracts = (Contract(source="core", forbidden=("nowhere",)),)
    with pytest.raises(ConfigError, match="unknown module 'nowhere'") as caught:
        check_contracts(contracts, packages)
    assert caught.value.exit_code == EXIT_USAGE


def test_the_repository_keeps_its_own_package_contracts() -> None:
    contracts = (
        Contract(
            source="kavi_gates",
            forbidden=("kavi_ledger", "kavi_skills", "kavi_hooks", "kavi_plugin"),
        ),
        Contract(source="kavi_ledger", forbidden=("kavi_skills", "kavi_hooks", "kavi_plugin")),
        Contract(source="kavi_skills", forbidden=("kavi_hooks", "kavi_plugin")),
        Contract(source="kavi_plugin", forbidden=("kavi_ledger", "kavi_skills", "kavi_hooks")),
    )
    assert [f.message for f in check_contracts(contracts, REPO_ROOT)] == []


# --- the gate --------------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with a well-formed skill, a helper and the skill's test."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    write(tmp_path, "skills/echo.py", ECHO)
    write(tmp_path, "skills/_vault.py", "VAULT = 'vault_out/'\n")
    write(tmp_path, "tests/skills/test_echo.py", "def test_echo() -> None:\n    pass\n")
    return tmp_path


def run_invariants(root: Path, invariants: InvariantsConfig | None = None) -> list[Finding]:
    config = KaviConfig(invariants=invariants or InvariantsConfig())
    report = run_gates(LoadedConfig(config=config, root=root, source="test"), only=["invariants"])
    (result,) = report.results
    assert result.status in (Status.PASS, Status.FAIL), result.error
    return list(report.findings)


def test_gate_passes_a_well_formed_tested_skill(repo: Path) -> None:
    assert run_invariants(repo) == []


def test_gate_reports_a_skill_without_side_effect_class(repo: Path) -> None:
    write(repo, "skills/echo.py", ECHO.replace('    side_effect_class = "READ_ONLY"\n', ""))
    assert [(f.rule, f.path) for f in run_invariants(repo)] == [("KAV602", "skills/echo.py")]


def test_read_only_skill_that_writes_a_file_is_kav604(repo: Path) -> None:
    writes = ECHO.replace(
        "        return EchoOut(text=data.text)",
        "        open('out.txt', 'w').write(data.text)\n        return EchoOut(text=data.text)",
    )
    write(repo, "skills/echo.py", writes)
    (finding,) = run_invariants(repo)
    assert (finding.rule, finding.path) == ("KAV604", "skills/echo.py")
    assert "READ_ONLY" in finding.message and "FILE_WRITE" in finding.message


def test_file_write_skill_using_the_guarded_file_api_passes(repo: Path) -> None:
    writes = ECHO.replace('"READ_ONLY"', '"FILE_WRITE"').replace(
        "        return EchoOut(text=data.text)",
        "        self.context.files.write_text('note.md', data.text)\n"
        "        return EchoOut(text=data.text)",
    )
    write(repo, "skills/echo.py", writes)
    assert run_invariants(repo) == []


def test_network_skill_that_writes_files_is_kav604(repo: Path) -> None:
    both = ECHO.replace('"READ_ONLY"', '"NETWORK"').replace(
        "        return EchoOut(text=data.text)",
        "        self.context.files.write_text('note.md', data.text)\n"
        "        return EchoOut(text=data.text)",
    )
    write(repo, "skills/echo.py", both)
    assert rule_ids(run_invariants(repo)) == ["KAV604"]


def test_gate_reports_a_missing_test_file(repo: Path) -> None:
    (repo / "tests/skills/test_echo.py").unlink()
    assert [(f.rule, f.path) for f in run_invariants(repo)] == [("KAV605", "skills/echo.py")]


def test_gate_checks_configured_contracts_beyond_governed_files(repo: Path) -> None:
    write(repo, "core/__init__.py", "import store\n")
    write(repo, "store/__init__.py")
    settings = InvariantsConfig(contracts=CORE_NOT_STORE)
    assert [(f.rule, f.path) for f in run_invariants(repo, settings)] == [
        ("KAV610", "core/__init__.py")
    ]


def test_module_too_deep_for_pythons_parser_is_kav601_not_a_crash() -> None:
    source = ("X = " + " + ".join(["1"] * 5000) + "\n").encode()
    findings, declared = check_skill_source(source, "skills/deep.py", "kavi_skills.BaseSkill")
    assert declared is None
    assert [f.rule for f in findings] == ["KAV601"]
    assert "cannot be analysed" in findings[0].message
