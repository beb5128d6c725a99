"""Real SSH keys and signed registries for tests (``ssh-keygen`` makes and checks everything).

``sign_registry`` does for a hand-built test registry what ``kavi promote`` does for a real
one: it completes each entry's provenance, signs it with a maintainer key and lists that key
in the project's allowed signers, so tests about pins, the runtime or the CLI start from a
registry every check trusts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from kavi_gates.attestation import attest_entry, attestation_path, write_attestation
from kavi_gates.config import KaviConfig, policy_digest
from kavi_gates.registry import Registry, load_registry, save_registry
from kavi_gates.sshsig import allowed_signers_line, generate_key, public_key_line

PRINCIPAL = "maintainer@example.com"
ALLOWED_SIGNERS = ".kavi/allowed_signers"
PROMOTED_AT = "2026-01-01T00:00:00Z"


@dataclass(frozen=True)
class Key:
    """An ed25519 key pair made by ssh-keygen, and the principal it signs as."""

    path: Path
    principal: str

    @property
    def public(self) -> str:
        return public_key_line(self.path.with_name(self.path.name + ".pub"))

    def allowed_line(self) -> str:
        return allowed_signers_line(self.principal, self.public)


def make_key(directory: Path, name: str, principal: str = PRINCIPAL) -> Key:
    directory.mkdir(parents=True, exist_ok=True)
    return Key(generate_key(directory / name, principal), principal)


@pytest.fixture(scope="session")
def maintainer_key(tmp_path_factory: pytest.TempPathFactory) -> Key:
    """One maintainer key per test session (worker): key generation is the slow part."""
    return make_key(tmp_path_factory.mktemp("keys"), "maintainer")


@pytest.fixture(scope="session")
def intruder_key(tmp_path_factory: pytest.TempPathFactory) -> Key:
    """A valid key that no project lists: its signatures must never be trusted."""
    return make_key(tmp_path_factory.mktemp("intruder"), "intruder")


def allow(root: Path, *keys: Key, path: str = ALLOWED_SIGNERS) -> Path:
    """Write the project's allowed signers file listing ``keys``."""
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(k.allowed_line() + "\n" for k in keys))
    return target


def sign_registry(
    root: Path,
    key: Key,
    *,
    registry: str = "skills/registry.yaml",
    config: KaviConfig | None = None,
    only: tuple[str, ...] = (),
    list_key: bool = True,
) -> Registry:
    """Complete, sign and save every entry (or those in ``only``) as a promotion would."""
    current = load_registry(root / registry)
    digest = policy_digest(config or KaviConfig())
    skills = dict(current.skills)
    for name, entry in current.skills.items():
        if only and name not in only:
            continue
        complete = entry.model_copy(
            update={
                "policy_digest": entry.policy_digest or digest,
                "verification": entry.verification or f"test-{name}",
                "promoted_by": key.principal,
                "promoted_at": PROMOTED_AT,
                "attestation": attestation_path(registry, name),
            }
        )
        write_attestation(
            root / attestation_path(registry, name), attest_entry(name, complete, key.path)
        )
        skills[name] = complete
    signed = Registry(skills=skills)
    save_registry(root / registry, signed)
    if list_key:
        allow(root, key)
    return signed
