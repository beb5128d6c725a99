"""Signed promotions, tried as an attacker would: every move must end in a KAV81x finding.

Real ``ssh-keygen`` signs and verifies; repositories are real directories in tmp_path.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from attest_keys import Key, allow, make_key, sign_registry

from kavi_gates.attestation import (
    AttestationRefused,
    attest_entry,
    read_attestation,
    require_entry_attestation,
    verify_entry_attestation,
    write_attestation,
)
from kavi_gates.config import AttestationConfig, KaviConfig, LoadedConfig
from kavi_gates.dsse import Envelope, EnvelopeError, Signature, b64decode, pae, parse_envelope
from kavi_gates.errors import EXIT_USAGE
from kavi_gates.gate import GateContext
from kavi_gates.hash_pin import HashPinGate, sha256_bytes
from kavi_gates.registry import RegistryEntry, load_registry, save_registry
from kavi_gates.runner import run_gates
from kavi_gates.sshsig import SshKeygenMissing, sign
from kavi_gates.statement import PREDICATE_TYPE, parse_statement, statement_for

ECHO = "x = 'echo'\n"
SHOUT = "x = 'shout'\n"
REGISTRY = "skills/registry.yaml"


@pytest.fixture
def repo(tmp_path: Path, maintainer_key: Key) -> Path:
    """Two promoted skills, signed by the maintainer, whom the allowed signers list."""
    for rel, text in (("skills/echo.py", ECHO), ("skills/shout.py", SHOUT)):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    registry = {
        "version": 1,
        "skills": {
            name: {
                "path": f"skills/{name}.py",
                "class": name.title(),
                "side_effect_class": "READ_ONLY",
                "pins": {f"skills/{name}.py": sha256_bytes(text.encode())},
            }
            for name, text in (("echo", ECHO), ("shout", SHOUT))
        },
    }
    (tmp_path / REGISTRY).write_text(yaml.safe_dump(registry))
    sign_registry(tmp_path, maintainer_key)
    return tmp_path


def loaded(root: Path) -> LoadedConfig:
    return LoadedConfig(config=KaviConfig(), root=root, source="test")


def findings(root: Path) -> list[tuple[str, str]]:
    context = GateContext(
        loaded=loaded(root), files=(root / "skills/echo.py", root / "skills/shout.py")
    )
    return sorted((f.rule, f.path) for f in HashPinGate().check(context).findings)


def messages(root: Path) -> str:
    report = run_gates(loaded(root), only=["hash-pin"])
    return "\n".join(f"{f.rule} {f.path}: {f.message}" for f in report.findings)


def entry(root: Path, name: str = "echo") -> RegistryEntry:
    return load_registry(root / REGISTRY).skills[name]


def edit_registry(root: Path, name: str, **changes: object) -> None:
    registry = load_registry(root / REGISTRY)
    edited = registry.skills[name].model_copy(update=changes)
    save_registry(
        root / REGISTRY, registry.model_copy(update={"skills": {**registry.skills, name: edited}})
    )


def envelope_file(root: Path, name: str = "echo") -> Path:
    return root / f"skills/attestations/{name}.intoto.json"


# --- DSSE ------------------------------------------------------------------------------


def test_pae_matches_the_dsse_specification_test_vector() -> None:
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_pae_counts_bytes_not_characters() -> None:
    assert pae("t", "é".encode()) == b"DSSEv1 1 t 2 " + "é".encode()


def test_standard_and_url_safe_base64_both_decode() -> None:
    data = bytes(range(250, 256)) * 3
    assert b64decode(base64.b64encode(data).decode()) == data
    assert b64decode(base64.urlsafe_b64encode(data).decode().rstrip("=")) == data
    with pytest.raises(EnvelopeError, match="invalid base64"):
        b64decode("not base64!")


def test_an_envelope_with_a_duplicate_key_is_refused() -> None:
    text = b'{"payloadType": "a", "payload": "", "payload": "e30=", "signatures": []}'
    with pytest.raises(EnvelopeError, match="duplicate JSON key 'payload'"):
        parse_envelope(text)


def test_an_oversized_envelope_is_refused_before_parsing() -> None:
    with pytest.raises(EnvelopeError, match="limit"):
        parse_envelope(b" " * 1_000_001)


# --- the honest path -------------------------------------------------------------------


def test_a_promoted_registry_passes(repo: Path) -> None:
    assert findings(repo) == []


def test_the_envelope_is_an_in_toto_statement_over_exactly_the_pins(repo: Path) -> None:
    stored = json.loads(envelope_file(repo).read_text())
    assert stored["payloadType"] == "application/vnd.in-toto+json"
    assert stored["signatures"][0]["keyid"].startswith("SHA256:")
    statement = json.loads(base64.b64decode(stored["payload"]))
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == PREDICATE_TYPE
    assert statement["subject"] == [
        {"name": "skills/echo.py", "digest": {"sha256": sha256_bytes(ECHO.encode())[7:]}}
    ]
    predicate = statement["predicate"]
    assert (predicate["skill"], predicate["class"], predicate["sideEffectClass"]) == (
        "echo",
        "Echo",
        "READ_ONLY",
    )
    assert predicate["allowedHosts"] == [] and predicate["requiredSecrets"] == []
    assert predicate["approver"] == "maintainer@example.com"
    assert predicate["verification"]["id"] == "test-echo"


def test_results_and_suppressions_are_signed_into_the_predicate(
    repo: Path, maintainer_key: Key
) -> None:
    from kavi_gates.statement import CheckResult, Suppression

    results = (CheckResult(check="policy", status="pass"), CheckResult(check="mypy", status="pass"))
    listed = (Suppression(path="skills/echo.py", line=3, rules=("KAV401",), reason="fixture"),)
    envelope = attest_entry(
        "echo", entry(repo), maintainer_key.path, results=results, suppressions=listed
    )
    write_attestation(envelope_file(repo), envelope)
    statement = require_entry_attestation("echo", entry(repo), repo, repo / ".kavi/allowed_signers")
    assert statement.predicate.verification.results == results
    assert statement.predicate.suppressions == listed


# --- the attacks -----------------------------------------------------------------------


def test_a_hand_edited_pin_keeping_the_old_verification_is_kav814(repo: Path) -> None:
    edited = ECHO + "import os\n"
    (repo / "skills/echo.py").write_text(edited)
    edit_registry(repo, "echo", pins={"skills/echo.py": sha256_bytes(edited.encode())})
    assert findings(repo) == [("KAV814", "skills/attestations/echo.intoto.json")]
    text = messages(repo)
    assert "skills/echo.py is pinned as " + sha256_bytes(edited.encode()) in text
    assert "attested as " + sha256_bytes(ECHO.encode()) in text


def test_an_extra_pin_added_by_hand_is_kav814(repo: Path) -> None:
    (repo / "skills/_extra.py").write_text("y = 1\n")
    pins = {**entry(repo).pins, "skills/_extra.py": sha256_bytes(b"y = 1\n")}
    edit_registry(repo, "echo", pins=pins)
    assert ("KAV814", "skills/attestations/echo.intoto.json") in findings(repo)
    assert "skills/_extra.py is pinned but not attested" in messages(repo)


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("side_effect_class", "NETWORK", "side_effect_class is 'NETWORK' in the registry"),
        ("allowed_hosts", ("evil.example",), "allowed_hosts is ['evil.example'] in the registry"),
        ("required_secrets", ("AWS_KEY",), "required_secrets is ['AWS_KEY'] in the registry"),
        ("policy_digest", "sha256:" + "0" * 64, "policy_digest is 'sha256:0000"),
        ("class_", "Other", "class is 'Other' in the registry"),
        ("promoted_by", "someone@else", "promoted_by is 'someone@else'"),
    ],
)
def test_any_hand_edited_field_is_kav815(repo: Path, field: str, value: object, shown: str) -> None:
    edit_registry(repo, "echo", **{field: value})
    found = findings(repo)
    assert ("KAV815", "skills/attestations/echo.intoto.json") in found, found
    assert shown in messages(repo)


def test_an_entry_without_an_attestation_is_kav810(repo: Path) -> None:
    edit_registry(repo, "echo", attestation=None)
    assert findings(repo) == [("KAV810", "skills/echo.py")]
    assert "has no attestation" in messages(repo)


def test_a_deleted_attestation_file_is_kav810(repo: Path) -> None:
    envelope_file(repo).unlink()
    assert findings(repo) == [("KAV810", "skills/attestations/echo.intoto.json")]


def test_a_statement_for_another_skill_swapped_in_is_kav813(repo: Path) -> None:
    shutil.copy(envelope_file(repo, "shout"), envelope_file(repo, "echo"))
    assert findings(repo) == [("KAV813", "skills/attestations/echo.intoto.json")]
    assert "the attestation is for skill 'shout', not 'echo'" in messages(repo)


def test_pointing_the_entry_at_another_skills_attestation_is_kav813(repo: Path) -> None:
    edit_registry(repo, "echo", attestation="skills/attestations/shout.intoto.json")
    assert ("KAV813", "skills/attestations/shout.intoto.json") in findings(repo)


def test_a_registry_signed_by_a_key_not_in_the_allowed_signers_is_kav812(
    repo: Path, intruder_key: Key
) -> None:
    # The intruder re-signs everything, as maintainer@example.com, with their own valid key.
    intruder = Key(intruder_key.path, "maintainer@example.com")
    sign_registry(repo, intruder, list_key=False)
    assert findings(repo) == [
        ("KAV812", "skills/attestations/echo.intoto.json"),
        ("KAV812", "skills/attestations/shout.intoto.json"),
    ]
    assert "which is not an allowed signer" in messages(repo)


def test_a_key_listed_for_someone_else_does_not_sign_for_the_approver(
    repo: Path, maintainer_key: Key, intruder_key: Key
) -> None:
    allow(repo, maintainer_key, Key(intruder_key.path, "intern@example.com"))
    sign_registry(repo, Key(intruder_key.path, "maintainer@example.com"), list_key=False)
    assert {rule for rule, _ in findings(repo)} == {"KAV812"}
    assert "lists for intern@example.com, not for the recorded approver" in messages(repo)


def test_an_envelope_whose_payload_was_edited_after_signing_is_kav812(repo: Path) -> None:
    path = envelope_file(repo)
    stored = json.loads(path.read_text())
    statement = json.loads(base64.b64decode(stored["payload"]))
    statement["predicate"]["allowedHosts"] = ["evil.example"]
    stored["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    path.write_text(json.dumps(stored))
    edit_registry(repo, "echo", allowed_hosts=("evil.example",))
    assert findings(repo) == [("KAV812", "skills/attestations/echo.intoto.json")]
    assert "does not match the signed bytes" in messages(repo)


def test_an_envelope_whose_payload_type_was_edited_is_refused(repo: Path) -> None:
    path = envelope_file(repo)
    stored = json.loads(path.read_text())
    stored["payloadType"] = "application/json"
    path.write_text(json.dumps(stored))
    assert findings(repo) == [("KAV811", "skills/attestations/echo.intoto.json")]


def test_a_flipped_signature_byte_is_kav812(repo: Path) -> None:
    path = envelope_file(repo)
    stored = json.loads(path.read_text())
    blob = bytearray(base64.b64decode(stored["signatures"][0]["sig"]))
    blob[-5] ^= 0x01
    stored["signatures"][0]["sig"] = base64.b64encode(bytes(blob)).decode()
    path.write_text(json.dumps(stored))
    assert findings(repo) == [("KAV812", "skills/attestations/echo.intoto.json")]


def test_a_git_commit_signature_by_an_allowed_key_is_not_a_promotion(
    repo: Path, maintainer_key: Key
) -> None:
    path = envelope_file(repo)
    envelope = read_attestation(repo, "skills/attestations/echo.intoto.json")
    blob = sign(envelope.signed_bytes(), maintainer_key.path, namespace="git")
    forged = Signature(keyid="", sig=base64.b64encode(blob).decode())
    write_attestation(path, envelope.model_copy(update={"signatures": (forged,)}))
    assert findings(repo) == [("KAV812", "skills/attestations/echo.intoto.json")]
    assert "namespace is 'git'" in messages(repo)


def signed_envelope(payload: bytes, key: Key) -> Envelope:
    """What anyone holding ``key`` can produce: any payload, validly signed."""
    unsigned = Envelope(
        payloadType="application/vnd.in-toto+json",
        payload=base64.b64encode(payload).decode(),
        signatures=(),
    )
    blob = sign(unsigned.signed_bytes(), key.path)
    signature = Signature(keyid="", sig=base64.b64encode(blob).decode())
    return unsigned.model_copy(update={"signatures": (signature,)})


def test_a_signed_statement_of_another_predicate_type_is_kav811(
    repo: Path, maintainer_key: Key
) -> None:
    data = json.loads(statement_for("echo", entry(repo), results=(), suppressions=()).to_payload())
    data["predicateType"] = "https://slsa.dev/provenance/v1"
    write_attestation(
        envelope_file(repo), signed_envelope(json.dumps(data).encode(), maintainer_key)
    )
    assert findings(repo) == [("KAV811", "skills/attestations/echo.intoto.json")]
    assert "predicateType is 'https://slsa.dev/provenance/v1'" in messages(repo)


def test_a_signed_statement_with_a_duplicate_key_is_kav811(repo: Path, maintainer_key: Key) -> None:
    # Two JSON readers could pick different values of a repeated key: refuse the payload.
    payload = statement_for("echo", entry(repo), results=(), suppressions=()).to_payload()
    doubled = payload[:-1] + b',"predicateType":"https://kavi.dev/x"}'
    write_attestation(envelope_file(repo), signed_envelope(doubled, maintainer_key))
    assert findings(repo) == [("KAV811", "skills/attestations/echo.intoto.json")]
    assert "duplicate JSON key 'predicateType'" in messages(repo)


def test_an_attestation_that_is_a_symlink_is_refused(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.json"
    shutil.move(envelope_file(repo), outside)
    envelope_file(repo).symlink_to(outside)
    assert findings(repo) == [("KAV811", "skills/attestations/echo.intoto.json")]


def test_garbage_in_the_attestation_file_is_kav811(repo: Path) -> None:
    envelope_file(repo).write_text("{not json")
    assert findings(repo) == [("KAV811", "skills/attestations/echo.intoto.json")]


def test_without_the_allowed_signers_file_nothing_verifies(repo: Path) -> None:
    (repo / ".kavi/allowed_signers").unlink()
    assert {rule for rule, _ in findings(repo)} == {"KAV812"}
    assert "allowed signers file" in messages(repo) and "does not exist" in messages(repo)


def test_an_allowed_signers_file_listing_nobody_verifies_nothing(repo: Path) -> None:
    (repo / ".kavi/allowed_signers").write_text("# nobody may promote yet\n")
    assert {rule for rule, _ in findings(repo)} == {"KAV812"}


def test_the_allowed_signers_path_comes_from_the_config(repo: Path) -> None:
    shutil.move(repo / ".kavi/allowed_signers", repo / "signers")
    config = KaviConfig(attestation=AttestationConfig(allowed_signers="signers"))
    report = run_gates(LoadedConfig(config=config, root=repo, source="t"), only=["hash-pin"])
    assert report.findings == ()


def test_a_missing_ssh_keygen_fails_closed_with_one_clear_error(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(SshKeygenMissing, match="ssh-keygen not found") as raised:
        run_gates(loaded(repo), only=["hash-pin"])
    assert raised.value.exit_code == EXIT_USAGE


def test_verify_entry_attestation_and_require_agree(repo: Path) -> None:
    edit_registry(repo, "echo", side_effect_class="FILE_WRITE")
    signers = repo / ".kavi/allowed_signers"
    (finding,) = verify_entry_attestation("echo", entry(repo), repo, signers)
    with pytest.raises(AttestationRefused) as raised:
        require_entry_attestation("echo", entry(repo), repo, signers)
    assert (raised.value.rule, raised.value.detail) == (finding.rule, finding.message)


def test_a_second_maintainer_key_listed_later_verifies_too(
    repo: Path, maintainer_key: Key, tmp_path: Path
) -> None:
    second = make_key(tmp_path / "k2", "second", "second@example.com")
    allow(repo, maintainer_key, second)
    sign_registry(repo, second, only=("shout",), list_key=False)
    assert findings(repo) == []
    stored = read_attestation(repo, "skills/attestations/shout.intoto.json")
    assert parse_statement(stored.payload_bytes()).predicate.approver == "second@example.com"


def test_the_written_envelope_is_world_readable_not_secret(repo: Path) -> None:
    assert oct(os.stat(envelope_file(repo)).st_mode & 0o777) == "0o644"
