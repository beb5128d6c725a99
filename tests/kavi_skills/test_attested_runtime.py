"""Issue 11's hand-edited registry, as the attacker does it, against every trusting surface.

The attacker edits a pinned skill, then replaces its pin in ``skills/registry.yaml`` with
the sha256 of the edited bytes, keeping the verification id and the policy digest. Before
signed promotions every check said ok and ``kavi run`` executed the new bytes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from attest_keys import Key, sign_registry

from kavi_gates.hash_pin import sha256_bytes
from kavi_gates.registry import load_registry, save_registry
from kavi_hooks.cli import main
from kavi_ledger.doctor import check_registry
from kavi_skills.records import ExecutionLog

if TYPE_CHECKING:
    from runtime_project import Project

pytest_plugins = ["runtime_project"]

ATTACK = 'import pathlib; pathlib.Path(r"{marker}").write_text("pwned")'


def hand_edit(project: Project, marker: Path) -> None:
    """Plant code in echo.py and re-pin it by hand, provenance untouched."""
    project.append("skills/echo.py", ATTACK.format(marker=marker))
    path = project.root / "skills/registry.yaml"
    registry = load_registry(path)
    echo = registry.skills["echo"]
    pins = {"skills/echo.py": sha256_bytes((project.root / "skills/echo.py").read_bytes())}
    forged = echo.model_copy(update={"pins": pins})
    save_registry(path, registry.model_copy(update={"skills": {**registry.skills, "echo": forged}}))


def kavi(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_hand_edited_registry_used_to_pass_the_pin_checks(
    project: Project, marker: Path
) -> None:
    from kavi_gates.hash_pin import verify_pins

    hand_edit(project, marker)
    entry = load_registry(project.root / "skills/registry.yaml").skills["echo"]
    # The pins alone hold: only the attestation tells the edit apart from a promotion.
    assert verify_pins(entry, project.root, project.config().policy_digest()) == []


def test_kavi_run_chain_and_replay_refuse_it_and_the_code_never_runs(
    project: Project, marker: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = kavi(capsys, "run", "echo", "--json", '{"text": "hi"}')
    assert code == 0, err
    (record,) = ExecutionLog(project.log_path).read().records
    hand_edit(project, marker)
    chain = json.dumps({"steps": [{"skill_name": "echo", "input": {"text": "a"}}]})
    for args in (
        ("run", "echo", "--json", '{"text": "hi"}'),
        ("replay", record.execution_id),
        ("chain", "--json", chain),
    ):
        code, _, err = kavi(capsys, *args)
        assert code == 1, (args, err)
        assert "echo.intoto.json" in err and "differs from its attestation" in err, err
        assert "Traceback" not in err
    assert not marker.exists()


def test_kavi_skills_reports_it_unattested(
    project: Project, marker: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hand_edit(project, marker)
    code, out, _ = kavi(capsys, "skills", "--json")
    assert code == 1
    rows = {row["name"]: row for row in json.loads(out)["skills"]}
    assert rows["echo"]["trust"] == "unattested"
    assert "skills/echo.py is pinned as" in rows["echo"]["detail"]
    assert {rows[n]["trust"] for n in ("shout", "note", "fetch")} == {"ok"}
    assert not marker.exists()


def test_the_hash_pin_gate_and_kavi_check_refuse_it(
    project: Project, marker: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = kavi(capsys, "check", "--gate", "hash-pin")
    assert code == 0, out + err
    hand_edit(project, marker)
    code, out, _ = kavi(capsys, "check", "--gate", "hash-pin", "--format", "json")
    assert code == 1
    (finding,) = json.loads(out)["findings"]
    assert (finding["rule"], finding["path"]) == ("KAV814", "skills/attestations/echo.intoto.json")


def test_kavi_doctor_fails_its_registry_check(
    project: Project, marker: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check_registry(project.config()).status == "pass"
    hand_edit(project, marker)
    check = check_registry(project.config())
    assert check.status == "fail" and "differs from its attestation" in check.message
    code, out, _ = kavi(capsys, "doctor", "--json")
    assert code != 0
    registry = next(c for c in json.loads(out)["checks"] if c["name"] == "registry")
    assert registry["status"] == "fail"


def test_a_registry_re_signed_by_an_unlisted_key_does_not_run(
    project: Project, marker: Path, intruder_key: Key, capsys: pytest.CaptureFixture[str]
) -> None:
    hand_edit(project, marker)
    sign_registry(project.root, Key(intruder_key.path, "maintainer@example.com"), list_key=False)
    code, _, err = kavi(capsys, "run", "echo", "--json", '{"text": "hi"}')
    assert code == 1 and "not an allowed signer" in err
    code, out, _ = kavi(capsys, "skills")
    assert code == 1 and "unattested" in out
    assert not marker.exists()


def test_an_attestation_swapped_from_another_skill_does_not_run(
    project: Project, marker: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    attestations = project.root / "skills" / "attestations"
    shutil.copy(attestations / "shout.intoto.json", attestations / "echo.intoto.json")
    code, _, err = kavi(capsys, "run", "echo", "--json", '{"text": "hi"}')
    assert code == 1 and "the attestation is for skill 'shout', not 'echo'" in err


def test_without_ssh_keygen_nothing_runs(
    project: Project,
    marker: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    empty = tmp_path / "no-tools"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    code, out, err = kavi(capsys, "run", "echo", "--json", '{"text": "hi"}')
    assert code != 0 and out == ""
    assert "ssh-keygen not found" in err and "Traceback" not in err
    code, _, err = kavi(capsys, "check", "--gate", "hash-pin")
    assert code == 2 and "ssh-keygen not found" in err
