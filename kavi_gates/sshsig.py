"""SSH signatures as git's SSH signing makes them: ``ssh-keygen -Y sign`` / ``-Y verify``.

Kavi never implements the cryptography: OpenSSH (8.2 or newer) signs and verifies, offline,
against an allowed-signers file in git's format (``principal namespaces="..." key``). The
signature bytes Kavi stores are the binary SSHSIG blob (the base64 between the armor lines
of ``ssh-keygen``'s output), so re-armoring them gives back exactly what ``ssh-keygen -Y
verify -s`` reads. Every failure to run ``ssh-keygen`` is an error, never a pass.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kavi_gates.errors import EXIT_USAGE, KaviError

NAMESPACE = "kavi-promotion"
"""The signature namespace: a git commit signature (namespace ``git``) is never a promotion."""

ARMOR_BEGIN = "-----BEGIN SSH SIGNATURE-----"
ARMOR_END = "-----END SSH SIGNATURE-----"
VERIFY_TIMEOUT = 30.0
SIGN_TIMEOUT = 600.0  # a passphrase prompt waits for a person


class SshKeygenMissing(KaviError):
    """``ssh-keygen`` cannot be run, so no signature can be made or checked."""

    exit_code = EXIT_USAGE


class SigningFailed(KaviError):
    """``ssh-keygen -Y sign`` refused (unreadable key, wrong passphrase, no agent...)."""

    exit_code = EXIT_USAGE


def ssh_keygen() -> str:
    """The ``ssh-keygen`` executable, or ``SshKeygenMissing`` naming what to install."""
    found = shutil.which("ssh-keygen")
    if found is None:
        raise SshKeygenMissing(
            "ssh-keygen not found on PATH: it signs and verifies promotions "
            "(install OpenSSH 8.2 or newer)"
        )
    return found


def _run(
    argv: list[str], *, stdin: bytes | None, timeout: float
) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise SshKeygenMissing(f"cannot run {argv[0]}: not found") from None
    except subprocess.TimeoutExpired:
        raise SshKeygenMissing(
            f"{argv[0]} {argv[1]} {argv[2]} timed out after {timeout:g} s"
        ) from None
    except OSError as err:
        raise SshKeygenMissing(f"cannot run {argv[0]}: {err}") from None


def armor(blob: bytes) -> str:
    """The ``-----BEGIN SSH SIGNATURE-----`` text of a binary SSHSIG blob (70-column lines)."""
    text = base64.b64encode(blob).decode("ascii")
    lines = [text[i : i + 70] for i in range(0, len(text), 70)]
    return "\n".join([ARMOR_BEGIN, *lines, ARMOR_END]) + "\n"


def dearmor(text: str) -> bytes:
    """The binary SSHSIG blob inside armored signature text."""
    body = text.strip()
    if not (body.startswith(ARMOR_BEGIN) and body.endswith(ARMOR_END)):
        raise SigningFailed("ssh-keygen did not produce an armored SSH signature")
    inner = "".join(body[len(ARMOR_BEGIN) : -len(ARMOR_END)].split())
    return base64.b64decode(inner, validate=True)


def _string(blob: bytes, offset: int) -> tuple[bytes, int]:
    if offset + 4 > len(blob):
        raise ValueError("truncated")
    (size,) = struct.unpack(">I", blob[offset : offset + 4])
    end = offset + 4 + size
    if end > len(blob):
        raise ValueError("truncated")
    return blob[offset + 4 : end], end


@dataclass(frozen=True)
class SigInfo:
    """What an SSHSIG blob says about itself (unverified: for messages and key ids only)."""

    public_key: bytes
    namespace: str

    @property
    def fingerprint(self) -> str:
        """``SHA256:<base64>`` as ``ssh-keygen -l`` prints it."""
        digest = base64.b64encode(hashlib.sha256(self.public_key).digest()).decode()
        return "SHA256:" + digest.rstrip("=")

    @property
    def key_type(self) -> str:
        try:
            return _string(self.public_key, 0)[0].decode("ascii", "replace")
        except ValueError:
            return "unknown"


def sig_info(blob: bytes) -> SigInfo:
    """Parse the SSHSIG header (magic, version, public key, namespace); ``ValueError`` if bad."""
    if not blob.startswith(b"SSHSIG") or len(blob) < 10:
        raise ValueError("not an SSH signature (no SSHSIG magic)")
    (version,) = struct.unpack(">I", blob[6:10])
    if version != 1:
        raise ValueError(f"unsupported SSH signature version {version}")
    public_key, offset = _string(blob, 10)
    namespace, _ = _string(blob, offset)
    return SigInfo(public_key, namespace.decode("utf-8", "replace"))


def sign(data: bytes, key: Path, namespace: str = NAMESPACE) -> bytes:
    """Sign ``data`` with ``key`` (a private key, or a public key whose private half is in
    ``ssh-agent``, as git allows); returns the binary SSHSIG blob."""
    tool = ssh_keygen()
    with tempfile.TemporaryDirectory(prefix="kavi-sign-") as scratch:
        message = Path(scratch) / "pae"
        message.write_bytes(data)
        # The data goes in a file, not stdin, so a passphrase prompt can still use the tty.
        done = _run(
            [tool, "-Y", "sign", "-n", namespace, "-f", str(key), str(message)],
            stdin=None,
            timeout=SIGN_TIMEOUT,
        )
        signature = Path(scratch) / "pae.sig"
        if done.returncode != 0 or not signature.is_file():
            detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
            reason = detail[-1] if detail else f"exit {done.returncode}"
            raise SigningFailed(f"ssh-keygen could not sign with {key}: {reason}")
        return dearmor(signature.read_text(encoding="ascii"))


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one signature: ``ok``, or why not in one line."""

    ok: bool
    reason: str
    fingerprint: str


def verify(
    data: bytes,
    blob: bytes,
    *,
    allowed_signers: Path,
    principal: str,
    namespace: str = NAMESPACE,
) -> Verdict:
    """Does ``blob`` sign ``data`` under ``namespace`` with a key ``allowed_signers`` lists for
    ``principal``? Decided by ``ssh-keygen -Y verify`` alone; on a refusal, ``-Y
    check-novalidate`` and ``-Y find-principals`` only sharpen the message."""
    try:
        info = sig_info(blob)
    except ValueError as err:
        return Verdict(False, f"signature is not an SSH signature: {err}", "")
    tool = ssh_keygen()
    fd, sig_name = tempfile.mkstemp(prefix="kavi-verify-", suffix=".sig")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(armor(blob))
        done = _run(
            [
                tool,
                "-Y",
                "verify",
                "-f",
                str(allowed_signers),
                "-I",
                principal,
                "-n",
                namespace,
                "-s",
                sig_name,
            ],
            stdin=data,
            timeout=VERIFY_TIMEOUT,
        )
        if done.returncode == 0:
            return Verdict(True, "", info.fingerprint)
        return Verdict(
            False,
            _why(tool, data, sig_name, info, allowed_signers, principal, namespace),
            info.fingerprint,
        )
    finally:
        Path(sig_name).unlink(missing_ok=True)


def _why(
    tool: str,
    data: bytes,
    sig_name: str,
    info: SigInfo,
    allowed_signers: Path,
    principal: str,
    namespace: str,
) -> str:
    key = f"{info.key_type} key {info.fingerprint}"
    if not allowed_signers.is_file():
        return f"allowed signers file {allowed_signers} does not exist"
    if info.namespace != namespace:
        return f"signature namespace is {info.namespace!r}, not {namespace!r}"
    intact = _run(
        [tool, "-Y", "check-novalidate", "-n", namespace, "-s", sig_name],
        stdin=data,
        timeout=VERIFY_TIMEOUT,
    )
    if intact.returncode != 0:
        return f"signature by {key} does not match the signed bytes (changed after signing?)"
    found = _run(
        [
            tool,
            "-Y",
            "find-principals",
            "-f",
            str(allowed_signers),
            "-n",
            namespace,
            "-s",
            sig_name,
        ],
        stdin=None,
        timeout=VERIFY_TIMEOUT,
    )
    others = found.stdout.decode("utf-8", "replace").split() if found.returncode == 0 else []
    if others:
        return (
            f"signed by {key}, which {allowed_signers.name} lists for "
            f"{', '.join(others)}, not for the recorded approver {principal!r}"
        )
    return f"signed by {key}, which is not an allowed signer in {allowed_signers}"


def public_key_line(public_key_file: Path) -> str:
    """``type base64`` of an OpenSSH public key file (its comment dropped)."""
    parts = public_key_file.read_text(encoding="utf-8").split()
    if len(parts) < 2:
        raise SigningFailed(f"{public_key_file} is not an OpenSSH public key")
    return f"{parts[0]} {parts[1]}"


def allowed_signers_line(principal: str, public_key: str, namespace: str = NAMESPACE) -> str:
    """One allowed-signers line in git's format, restricted to Kavi's namespace."""
    return f'{principal} namespaces="{namespace}" {public_key}'


def generate_key(path: Path, comment: str) -> Path:
    """A new ed25519 key pair at ``path`` (private, mode 0600) and ``path.pub``."""
    tool = ssh_keygen()
    if path.exists() or path.with_suffix(path.suffix + ".pub").exists():
        raise SigningFailed(f"{path} already exists; not overwriting a key")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    done = _run(
        [tool, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        stdin=None,
        timeout=VERIFY_TIMEOUT,
    )
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip()
        raise SigningFailed(f"ssh-keygen could not create {path}: {detail}")
    path.chmod(0o600)
    return path
