"""The README's "Verify an attestation by hand" recipe, run exactly as written, with the real
``jq``, ``base64``, ``ssh-keygen`` and ``sha256sum``, on this repository's own attestations."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from attest_keys import Key

from kavi_gates.dsse import parse_envelope

REPO = Path(__file__).resolve().parents[1]
TOOLS = ("bash", "jq", "base64", "ssh-keygen", "sha256sum", "fold")


def recipe() -> str:
    """The first ```bash block after the README's heading for it."""
    text = (REPO / "README.md").read_text()
    section = text.split("#### Verify an attestation by hand", 1)[1]
    match = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the README lost its verification recipe"
    return match.group(1)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"the recipe's tools are not installed: {', '.join(missing)}")
    root = tmp_path / "checkout"
    shutil.copytree(REPO / "skills", root / "skills", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / ".kavi", root / ".kavi")
    return root


def run_recipe(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", recipe()],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_recipe_verifies_the_repositorys_own_attestation(checkout: Path) -> None:
    done = run_recipe(checkout)
    assert done.returncode == 0, done.stdout + done.stderr
    output = done.stdout + done.stderr
    assert 'Good "kavi-promotion" signature for kavi-maintainers@' in output
    assert "skills/write_note.py: OK" in output and "skills/_vault.py: OK" in output


def test_the_recipe_builds_the_same_pae_kavi_signs(checkout: Path) -> None:
    assert run_recipe(checkout).returncode == 0
    envelope = parse_envelope(
        (checkout / "skills/attestations/write_note.intoto.json").read_bytes()
    )
    assert (checkout / "pae.bin").read_bytes() == envelope.signed_bytes()


def test_the_recipe_fails_on_an_envelope_edited_after_signing(checkout: Path) -> None:
    path = checkout / "skills/attestations/write_note.intoto.json"
    stored = json.loads(path.read_text())
    statement = json.loads(base64.b64decode(stored["payload"]))
    statement["predicate"]["allowedHosts"] = ["evil.example"]
    stored["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    path.write_text(json.dumps(stored))
    done = run_recipe(checkout)
    assert done.returncode != 0 and "Good" not in done.stdout


def test_the_recipe_fails_for_a_key_the_allowed_signers_do_not_list(
    checkout: Path, intruder_key: Key
) -> None:
    line = Key(intruder_key.path, "kavi-maintainers@users.noreply.github.com").allowed_line()
    (checkout / ".kavi/allowed_signers").write_text(line + "\n")
    done = run_recipe(checkout)
    assert done.returncode != 0 and "Good" not in done.stdout


def test_the_recipe_fails_when_a_pinned_file_changed(checkout: Path) -> None:
    with (checkout / "skills/_vault.py").open("a") as handle:
        handle.write("# edited\n")
    done = run_recipe(checkout)
    assert done.returncode != 0
    assert "skills/_vault.py: FAILED" in done.stdout
