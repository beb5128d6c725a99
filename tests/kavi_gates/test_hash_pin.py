from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
import yaml
from attest_keys import Key, sign_registry

from kavi_gates.config import KaviConfig, LoadedConfig
from kavi_gates.errors import ConfigError
from kavi_gates.gate import GateContext, GateOutcome
from kavi_gates.hash_pin import (
    HashPinGate,
    PinMismatch,
    compute_pins,
    read_pinned,
    sha256_bytes,
    verify_pins,
)
from kavi_gates.models import Severity, Status
from kavi_gates.registry import Registry, RegistryEntry, load_registry, save_registry
from kavi_gates.runner import run_gates

SKILL = (
    "from kavi_skills import BaseSkill\nfrom skills import _vault\n\n"
    "class Echo(BaseSkill):\n    pass\n"
)
VAULT = "VAULT = 'vault_out/'\n"
REGISTRY = "skills/registry.yaml"


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def loaded_for(root: Path) -> LoadedConfig:
    return LoadedConfig(config=KaviConfig(), root=root, source="test")


def entry_for(root: Path, **changes: object) -> RegistryEntry:
    fields: dict[str, object] = {
        "path": "skills/echo.py",
        "class": "Echo",
        "side_effect_class": "READ_ONLY",
        "pins": compute_pins(root / "skills/echo.py", root),
        "policy_digest": loaded_for(root).policy_digest(),
        **changes,
    }
    return RegistryEntry.model_validate(fields)


def save(root: Path, *entries: RegistryEntry) -> None:
    skills = {Path(e.path).stem: e for e in entries}
    save_registry(root / REGISTRY, Registry(skills=skills))


@pytest.fixture
def repo(tmp_path: Path, maintainer_key: Key) -> Path:
    """A git repository with one skill importing a helper, pinned in the registry and signed."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    write(tmp_path, "skills/echo.py", SKILL)
    write(tmp_path, "skills/_vault.py", VAULT)
    save(tmp_path, entry_for(tmp_path))
    sign_registry(tmp_path, maintainer_key)
    subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=T", "commit", "-qm", "init"],
        cwd=tmp_path,
        check=True,
    )
    return tmp_path


def gate(root: Path, *files: str) -> GateOutcome:
    skills = files or ("skills/echo.py", "skills/_vault.py")
    context = GateContext(loaded=loaded_for(root), files=tuple(root / f for f in skills))
    return HashPinGate().check(context)


def rules(outcome: GateOutcome) -> list[tuple[str, str]]:
    return sorted((f.rule, f.path) for f in outcome.findings)


def test_sha256_bytes_uses_the_pin_format() -> None:
    assert sha256_bytes(b"abc") == "sha256:" + hashlib.sha256(b"abc").hexdigest()


def test_compute_pins_covers_the_skill_and_its_local_imports(repo: Path) -> None:
    pins = compute_pins(Path("skills/echo.py"), repo)
    assert pins == {
        "skills/_vault.py": sha256_bytes(VAULT.encode()),
        "skills/echo.py": sha256_bytes(SKILL.encode()),
    }


def test_pinned_clean_state_passes(repo: Path) -> None:
    assert gate(repo).findings == []


def test_helper_module_edited_after_pinning_is_kav801_with_both_hashes(repo: Path) -> None:
    edited = "VAULT = '/etc/'\n"
    write(repo, "skills/_vault.py", edited)
    (finding,) = gate(repo).findings
    assert (finding.rule, finding.path) == ("KAV801", "skills/_vault.py")
    assert f"expected {sha256_bytes(VAULT.encode())}" in finding.message
    assert f"actual {sha256_bytes(edited.encode())}" in finding.message


def test_pinned_path_that_does_not_exist_is_kav802(repo: Path) -> None:
    (repo / "skills/_vault.py").unlink()
    assert ("KAV802", "skills/_vault.py") in rules(gate(repo, "skills/echo.py"))


def test_pinned_path_replaced_by_a_symlink_is_kav802(repo: Path) -> None:
    (repo / "skills/_vault.py").unlink()
    (repo / "skills/_vault.py").symlink_to("/etc/passwd")
    assert rules(gate(repo, "skills/echo.py")) == [("KAV802", "skills/_vault.py")]


def test_registry_entry_with_its_pins_removed_is_kav804(repo: Path) -> None:
    data = yaml.safe_load((repo / REGISTRY).read_text())
    del data["skills"]["echo"]["pins"]
    (repo / REGISTRY).write_text(yaml.safe_dump(data))
    found = rules(gate(repo))
    assert ("KAV804", "skills/echo.py") in found
    assert ("KAV803", "skills/echo.py") in found  # and the skill is now unpinned


def test_governed_skill_file_without_an_entry_is_kav803(repo: Path) -> None:
    write(repo, "skills/other.py", "x = 1\n")
    assert rules(gate(repo, "skills/echo.py", "skills/other.py")) == [("KAV803", "skills/other.py")]


def test_unpinned_helper_module_is_not_a_kav803(repo: Path) -> None:
    write(repo, "skills/_new_helper.py", "x = 1\n")
    assert gate(repo, "skills/echo.py", "skills/_new_helper.py").findings == []


def test_entry_that_does_not_pin_its_own_file_is_kav803(repo: Path) -> None:
    entry = entry_for(repo, pins={"skills/_vault.py": sha256_bytes(VAULT.encode())})
    assert [(f.rule, f.path) for f in verify_pins(entry, repo)] == [("KAV803", "skills/echo.py")]


def test_policy_digest_that_differs_is_kav805(repo: Path) -> None:
    entry = entry_for(repo, policy_digest="sha256:" + "0" * 64)
    (finding,) = verify_pins(entry, repo, loaded_for(repo).policy_digest())
    assert finding.rule == "KAV805"
    assert "pins predate the current policy" in finding.message


def test_missing_policy_digest_is_only_a_warning(repo: Path) -> None:
    save(repo, entry_for(repo, policy_digest=None))
    outcome = gate(repo)
    # Such an entry is hand-written: no promotion signed it, which is the error (KAV810).
    unattested, finding = sorted(outcome.findings, key=lambda f: f.rule, reverse=True)
    assert (finding.rule, finding.severity) == ("KAV806", Severity.WARNING)
    assert "pinned under an unrecorded policy" in finding.message
    assert (unattested.rule, unattested.severity) == ("KAV810", Severity.ERROR)


def test_local_import_not_pinned_by_the_entry_is_kav807(repo: Path) -> None:
    entry = entry_for(repo, pins={"skills/echo.py": sha256_bytes(SKILL.encode())})
    assert [(f.rule, f.path) for f in verify_pins(entry, repo)] == [("KAV807", "skills/_vault.py")]


def test_verify_pins_without_policy_digest_skips_the_digest_rules(repo: Path) -> None:
    assert verify_pins(entry_for(repo, policy_digest=None), repo) == []


def test_read_pinned_returns_the_verified_bytes(repo: Path) -> None:
    assert read_pinned(entry_for(repo), repo) == {
        "skills/_vault.py": VAULT.encode(),
        "skills/echo.py": SKILL.encode(),
    }


def test_read_pinned_reads_each_file_exactly_once(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = entry_for(repo)
    reads: list[Path] = []
    original = Path.read_bytes

    def counting(self: Path) -> bytes:
        reads.append(self)
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    read_pinned(entry, repo)
    assert len(reads) == len(set(reads)) == 2


def test_read_pinned_refuses_a_drifted_file_naming_it(repo: Path) -> None:
    entry = entry_for(repo)
    write(repo, "skills/_vault.py", "changed = True\n")
    with pytest.raises(PinMismatch, match=r"skills/_vault\.py: pinned file drifted: expected"):
        read_pinned(entry, repo)


def test_read_pinned_refuses_a_missing_file(repo: Path) -> None:
    entry = entry_for(repo)
    (repo / "skills/_vault.py").unlink()
    with pytest.raises(PinMismatch, match="missing"):
        read_pinned(entry, repo)


def test_read_pinned_refuses_an_unpinned_local_import(repo: Path) -> None:
    entry = entry_for(repo, pins={"skills/echo.py": sha256_bytes(SKILL.encode())})
    with pytest.raises(PinMismatch, match=r"imports skills/_vault\.py, which is not pinned"):
        read_pinned(entry, repo)


def test_read_pinned_refuses_an_entry_without_pins(repo: Path) -> None:
    with pytest.raises(PinMismatch, match="no pins"):
        read_pinned(entry_for(repo, pins={}), repo)


def test_save_registry_round_trips_with_the_class_key(repo: Path) -> None:
    text = (repo / REGISTRY).read_text()
    assert "class: Echo" in text
    loaded = load_registry(repo / REGISTRY).skills["echo"]
    assert loaded.model_copy(update={"promoted_by": None, "promoted_at": None}) == entry_for(
        repo,
        verification="test-echo",
        attestation="skills/attestations/echo.intoto.json",
    )
    assert [p.name for p in (repo / "skills").iterdir() if p.name.endswith(".tmp")] == []


def test_named_helper_file_selects_the_entries_that_pin_it(repo: Path) -> None:
    write(repo, "skills/_vault.py", "VAULT = 'elsewhere/'\n")
    context = GateContext(
        loaded=loaded_for(repo), files=(repo / "skills/_vault.py",), explicit_paths=True
    )
    assert rules(HashPinGate().check(context)) == [("KAV801", "skills/_vault.py")]


def test_no_registry_and_no_skills_passes_with_a_note(tmp_path: Path) -> None:
    outcome = HashPinGate().check(GateContext(loaded=loaded_for(tmp_path), files=()))
    assert outcome.findings == []
    assert "no registry" in outcome.notes[0]


def test_unparsable_registry_is_a_config_error_naming_the_file(repo: Path) -> None:
    (repo / REGISTRY).write_text("skills: [unclosed\n")
    with pytest.raises(ConfigError, match=r"registry\.yaml is not valid YAML"):
        load_registry(repo / REGISTRY)


def test_unknown_registry_key_is_a_config_error(repo: Path) -> None:
    (repo / REGISTRY).write_text("version: 1\nskills: {}\ntrusted_everything: true\n")
    with pytest.raises(ConfigError, match="invalid 'trusted_everything': unknown key"):
        load_registry(repo / REGISTRY)


def test_pin_that_escapes_the_root_is_a_config_error(repo: Path) -> None:
    bad = {
        "version": 1,
        "skills": {
            "x": {
                "path": "skills/x.py",
                "class": "X",
                "side_effect_class": "READ_ONLY",
                "pins": {"../etc/passwd": "sha256:" + "0" * 64},
            }
        },
    }
    (repo / REGISTRY).write_text(yaml.safe_dump(bad))
    with pytest.raises(ConfigError, match=r"without '\.\.'"):
        load_registry(repo / REGISTRY)


def test_run_gates_reports_drift_through_the_plugin(repo: Path) -> None:
    write(repo, "skills/echo.py", SKILL + "# edited\n")
    report = run_gates(loaded_for(repo), only=["hash-pin"])
    assert report.results[0].status is Status.FAIL
    assert [(f.rule, f.path) for f in report.findings] == [("KAV801", "skills/echo.py")]


def test_missing_registry_makes_every_governed_skill_an_unpinned_finding(tmp_path: Path) -> None:
    from kavi_gates.config import load_config
    from kavi_gates.runner import run_gates

    (tmp_path / "kavi.yaml").write_text("include: ['skills/**/*.py']\n")
    (tmp_path / "skills").mkdir()
    (tmp_path / "skills" / "echo.py").write_text("x = 1\n")
    report = run_gates(load_config(start=tmp_path), None, ["hash-pin"])
    assert report.exit_code == 1
    (finding,) = report.findings
    assert (finding.rule, finding.path) == ("KAV803", "skills/echo.py")
    assert "does not exist" in finding.message
