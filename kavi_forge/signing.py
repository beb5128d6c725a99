"""Which SSH key signs a promotion, and ``kavi keygen``.

The key is, in order: ``--key``; ``attestation.signing_key`` in the project's config; git's
``user.signingkey`` when ``gpg.format`` is ``ssh`` (a key file, or ``key::ssh-... AAAA``
whose private half is in ``ssh-agent``, as git allows); else the key ``kavi keygen`` made
at ``$XDG_CONFIG_HOME/kavi/signing_key``. That default ignores ``storage.config_dir``: a
project's config must never be able to steer a private key into the repository.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kavi_forge.errors import ForgeError
from kavi_gates.sshsig import NAMESPACE, allowed_signers_line, generate_key, public_key_line
from kavi_ledger.paths import resolve_paths

KEY_FILE = "signing_key"
NO_KEY = (
    "no signing key for the promotion: pass --key, set attestation.signing_key, configure "
    "git's SSH signing (gpg.format=ssh, user.signingkey), or run `kavi keygen`"
)


def default_key_path(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/kavi/signing_key`` (the project's storage overrides do not apply)."""
    return resolve_paths(None, None, env).config_dir / KEY_FILE


def _git_config(root: Path, key: str) -> str:
    try:
        done = subprocess.run(
            ["git", "config", "--get", key],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


@dataclass(frozen=True)
class SigningKey:
    """A key ``ssh-keygen -Y sign -f`` accepts, and where it was found (for the prompt)."""

    path: Path
    source: str


def _literal_key(value: str) -> str | None:
    literal = value.removeprefix("key::")
    return literal if literal.startswith(("ssh-", "ecdsa-", "sk-")) else None


@contextmanager
def signing_key(
    root: Path,
    explicit: Path | None,
    configured: str | None,
    env: Mapping[str, str] | None = None,
) -> Iterator[SigningKey]:
    """The promotion's signing key (a literal git key lives in a temp ``.pub`` meanwhile)."""
    if explicit is not None:
        yield SigningKey(_existing(explicit.expanduser(), "--key"), "--key")
        return
    if configured:
        path = Path(configured).expanduser()
        path = path if path.is_absolute() else root / path
        yield SigningKey(_existing(path, "attestation.signing_key"), "attestation.signing_key")
        return
    if _git_config(root, "gpg.format") == "ssh":
        value = _git_config(root, "user.signingkey")
        literal = _literal_key(value) if value else None
        if literal is not None:
            with tempfile.TemporaryDirectory(prefix="kavi-key-") as scratch:
                public = Path(scratch) / "signing_key.pub"
                public.write_text(literal + "\n", encoding="utf-8")
                yield SigningKey(public, "git user.signingkey (ssh-agent)")
            return
        if value:
            path = Path(value).expanduser()
            path = path if path.is_absolute() else root / path
            yield SigningKey(_existing(path, "git user.signingkey"), "git user.signingkey")
            return
    default = default_key_path(env)
    if default.is_file():
        yield SigningKey(default, "kavi keygen")
        return
    raise ForgeError(NO_KEY)


def _existing(path: Path, what: str) -> Path:
    if not path.is_file():
        raise ForgeError(f"signing key {path} ({what}) does not exist")
    return path


@dataclass(frozen=True)
class KeygenResult:
    """The key ``kavi keygen`` made (or found), its allowed-signers line, whether it was added."""

    key: Path
    created: bool
    line: str
    added_to: Path | None


def keygen(
    principal: str,
    *,
    allowed_signers: Path | None = None,
    key: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> KeygenResult:
    """Create an ed25519 key (mode 0600) unless it exists; optionally add its allowed-signers
    line for ``principal`` to ``allowed_signers`` (once)."""
    path = (key or default_key_path(env)).expanduser()
    created = not path.exists()
    if created:
        generate_key(path, principal)
    public = path.with_name(path.name + ".pub")
    if not public.is_file():
        raise ForgeError(f"{public} is missing: cannot print the allowed-signers line")
    line = allowed_signers_line(principal, public_key_line(public), NAMESPACE)
    added_to = None
    if allowed_signers is not None:
        allowed_signers.parent.mkdir(parents=True, exist_ok=True)
        existing = allowed_signers.read_text(encoding="utf-8") if allowed_signers.exists() else ""
        if line not in existing.splitlines():
            prefix = "" if not existing or existing.endswith("\n") else "\n"
            with allowed_signers.open("a", encoding="utf-8") as handle:
                handle.write(prefix + line + "\n")
            os.chmod(allowed_signers, 0o644)
        added_to = allowed_signers
    return KeygenResult(path, created, line, added_to)
