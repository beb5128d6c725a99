"""What runs is what was pinned, whatever import form reaches it (issue 11 item 2).

Written as the attacker would: promote a skill whose helper is reached through one import
form, then edit the helper, leave it unpinned, plant a ``.pyc`` for it, or import a project
file by a computed name; the runtime must refuse or serve only the verified bytes, and the
attack's marker file must never appear.
"""

from __future__ import annotations

import importlib._bootstrap_external as bootstrap_external
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from attest_keys import Key, sign_registry
from import_forms import FORMS, IN_PROCESS_ONLY, clean_import_state, set_up, write
from kavi_cli import run_kavi

from kavi_gates.config import LoadedConfig, load_config
from kavi_gates.hash_pin import compute_pins
from kavi_gates.registry import Registry, RegistryEntry, load_registry, save_registry
from kavi_skills.errors import TrustError
from kavi_skills.executor import run_skill
from kavi_skills.loader import load_trusted_skill

__all__ = ["clean_import_state"]  # a fixture, used by name

SKILL = """\
from __future__ import annotations

from pydantic import BaseModel

from kavi_skills import BaseSkill
{imports}


class ShoutIn(BaseModel):
    text: str


class ShoutOut(BaseModel):
    text: str


class ShoutSkill(BaseSkill):
    name = "shout"
    description = "Shout through a helper reached by one import form."
    side_effect_class = "READ_ONLY"
    input_model = ShoutIn
    output_model = ShoutOut

    def execute(self, data: ShoutIn) -> ShoutOut:
        return ShoutOut(text=shout(data.text))
"""

COMPUTED = """\
from __future__ import annotations

import importlib

from pydantic import BaseModel

from kavi_skills import BaseSkill


class LateIn(BaseModel):
    module: str


class LateOut(BaseModel):
    loaded: str


class LateSkill(BaseSkill):
    name = "late"
    description = "Import a module whose name only exists at run time."
    side_effect_class = "READ_ONLY"
    input_model = LateIn
    output_model = LateOut

    def execute(self, data: LateIn) -> LateOut:
        return LateOut(loaded=importlib.import_module(data.module).__name__)
"""


COMPUTED_ON_PATH = COMPUTED.replace(
    "    module: str\n", "    module: str\n    path: str\n"
).replace(
    "        return LateOut(",
    "        import sys\n\n        sys.path.insert(0, data.path)\n        return LateOut(",
)


def attack(marker: Path) -> str:
    return f"import pathlib\npathlib.Path({str(marker)!r}).write_text('pwned')\n"


SIGNER: dict[str, Key] = {}  # the maintainer key of the running test (see the root fixture)


def promote(root: Path, name: str, path: str, cls: str) -> RegistryEntry:
    """What kavi promote records: the pins of the whole import closure, computed now, and a
    signed attestation over exactly those pins."""
    loaded = load_config(root / "kavi.yaml")
    entry = RegistryEntry.model_validate(
        {
            "path": path,
            "class": cls,
            "side_effect_class": "READ_ONLY",
            "pins": compute_pins(root / path, root),
            "policy_digest": loaded.policy_digest(),
        }
    )
    registry_path = root / "skills" / "registry.yaml"
    skills = dict(load_registry(registry_path).skills) if registry_path.exists() else {}
    skills[name] = entry
    save_registry(registry_path, Registry(skills=skills))
    signed = sign_registry(root, SIGNER["key"], config=loaded.config, only=(name,))
    return signed.skills[name]


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, maintainer_key: Key) -> Path:
    monkeypatch.setitem(SIGNER, "key", maintainer_key)
    project = tmp_path / "proj"
    (project / "skills").mkdir(parents=True)
    (project / "kavi.yaml").write_text("hash_pin:\n  registry: skills/registry.yaml\n")
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / "xdg" / var.lower()))
    monkeypatch.setenv("KAVI_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.chdir(project)
    return project


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "MARKER"


def shout_project(root: Path, form: str, tmp_path: Path) -> str:
    """Write the form's files and a skill importing the helper; promote it; return the helper."""
    set_up(root, form, tmp_path)
    write(root, "skills/shout.py", SKILL.format(imports=FORMS[form][1]))
    entry = promote(root, "shout", "skills/shout.py", "ShoutSkill")
    helper = FORMS[form][2]
    assert helper in entry.pins, f"{form}: the helper was not pinned at promotion"
    return helper


def config(root: Path) -> LoadedConfig:
    return load_config(root / "kavi.yaml")


def cli_run(*args: str) -> tuple[int, str]:
    """``kavi run ARGS`` in this process, through the real entry point."""
    result = run_kavi(["run", *args])
    return result.exit_code, result.output


@pytest.mark.usefixtures("clean_import_state")
@pytest.mark.parametrize("form", sorted(FORMS))
def test_each_import_form_runs_the_verified_helper(root: Path, tmp_path: Path, form: str) -> None:
    shout_project(root, form, tmp_path)
    result = run_skill("shout", {"text": "hi"}, config(root))
    assert result.record.error is None, result.record.error
    assert result.record.output_json == {"text": "HI"}


@pytest.mark.usefixtures("clean_import_state")
@pytest.mark.parametrize("form", sorted(FORMS))
def test_each_import_form_edited_after_promotion_is_refused_and_never_runs(
    root: Path, tmp_path: Path, marker: Path, form: str
) -> None:
    helper = shout_project(root, form, tmp_path)
    (root / helper).write_text(attack(marker) + FORMS[form][0][helper])
    with pytest.raises(TrustError, match="drifted"):
        load_trusted_skill("shout", config(root))
    code, output = cli_run("shout", "--json", '{"text": "hi"}')
    assert code != 0 and helper in output
    assert not marker.exists()


@pytest.mark.usefixtures("clean_import_state")
@pytest.mark.parametrize("form", sorted(FORMS))
def test_each_import_form_left_out_of_the_pins_is_refused(
    root: Path, tmp_path: Path, marker: Path, form: str
) -> None:
    helper = shout_project(root, form, tmp_path)
    registry_path = root / "skills" / "registry.yaml"
    entry = load_registry(registry_path).skills["shout"]
    pins = {k: v for k, v in entry.pins.items() if k != helper}
    save_registry(
        registry_path, Registry(skills={"shout": entry.model_copy(update={"pins": pins})})
    )
    # Signed as it is: a promotion whose closure missed the helper (an older Kavi's).
    sign_registry(root, SIGNER["key"], config=config(root).config)
    (root / helper).write_text(attack(marker) + FORMS[form][0][helper])
    with pytest.raises(TrustError, match="not pin"):
        load_trusted_skill("shout", config(root))
    assert not marker.exists()


def plant_pyc(source: Path, code_text: str, *, checked: bool = True) -> Path:
    """A ``__pycache__`` file Python itself would load for ``source`` instead of its text."""
    code = compile(code_text, str(source), "exec")
    if checked:  # the default: valid while the source's mtime and size match its header
        info = source.stat()
        data = bootstrap_external._code_to_timestamp_pyc(code, int(info.st_mtime), info.st_size)
    else:  # --invalidation-mode unchecked-hash: Python never looks at the source again
        data = bootstrap_external._code_to_hash_pyc(code, b"\0" * 8, checked=False)
    pyc = Path(importlib.util.cache_from_source(str(source)))
    pyc.parent.mkdir(exist_ok=True)
    pyc.write_bytes(bytes(data))
    return pyc


def test_the_planted_pyc_is_live_for_plain_python(root: Path, marker: Path) -> None:
    """The control: without Kavi, Python runs the planted bytecode instead of the source."""
    helper = write(root, "skills/_sib.py", FORMS["sibling"][0]["skills/_sib.py"])
    plant_pyc(helper, attack(marker) + "def shout(text):\n    return 'owned'\n")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    code = "import sys; sys.path.insert(0, 'skills'); import _sib; print(_sib.shout('x'))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "owned" and marker.exists()


@pytest.mark.usefixtures("clean_import_state")
@pytest.mark.parametrize("checked", [True, False], ids=["timestamp-pyc", "unchecked-hash-pyc"])
@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_pyc_planted_for_a_pinned_helper_never_runs(
    root: Path, tmp_path: Path, marker: Path, form: str, checked: bool
) -> None:
    helper = shout_project(root, form, tmp_path)
    plant_pyc(
        root / helper, attack(marker) + "def shout(text):\n    return 'owned'\n", checked=checked
    )
    sys.path.insert(0, str(root / "skills"))  # even where Python's own lookup would find it
    result = run_skill("shout", {"text": "hi"}, config(root))
    assert result.record.output_json == {"text": "HI"}
    assert not marker.exists()


@pytest.mark.usefixtures("clean_import_state")
def test_a_computed_import_of_an_unpinned_project_file_is_refused_at_run_time(
    root: Path, marker: Path
) -> None:
    write(root, "skills/late.py", COMPUTED)
    promote(root, "late", "skills/late.py", "LateSkill")
    write(root, "skills/_planted.py", attack(marker))
    write(root, "planted_top.py", attack(marker))
    sys.path.insert(0, str(root / "skills"))  # both files really are importable here...
    sys.path.insert(0, str(root))
    for module in ("_planted", "planted_top"):
        # ...but not in the skill's sandboxed child, which sees nothing of the project
        result = run_skill("late", {"module": module}, config(root))
        assert not result.record.success
        assert result.record.error == f"ModuleNotFoundError: No module named {module!r}"
    assert not marker.exists()
    ok = run_skill("late", {"module": "json"}, config(root))  # outside the project: fine
    assert ok.record.output_json == {"loaded": "json"}


@pytest.mark.usefixtures("clean_import_state")
def test_without_the_sandbox_the_import_guard_still_refuses_an_unpinned_project_file(
    root: Path, marker: Path
) -> None:
    """The child sees the project when the sandbox is opted out: the guard is what refuses."""
    write(root, "skills/late.py", COMPUTED_ON_PATH)
    promote(root, "late", "skills/late.py", "LateSkill")
    write(root, "skills/_planted.py", attack(marker))
    write(root, "planted_top.py", attack(marker))
    for module, where in (("_planted", root / "skills"), ("planted_top", root)):
        data = {"module": module, "path": str(where)}
        result = run_skill("late", data, config(root), sandbox=False)
        assert not result.record.success and result.record.sandbox == "none"
        assert "pins do not cover" in (result.record.error or "")
    assert not marker.exists()


def _console_script() -> Path:
    return Path(sys.executable).parent / "kavi"


@pytest.mark.parametrize("form", sorted(set(FORMS) - IN_PROCESS_ONLY))
def test_the_real_kavi_run_writes_no_bytecode_into_the_project(
    root: Path, tmp_path: Path, form: str
) -> None:
    shout_project(root, form, tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = subprocess.run(
        [str(_console_script()), "run", "shout", "--json", '{"text": "hi"}'],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert '"HI"' in out.stdout
    assert sorted(root.rglob("__pycache__")) == []
    assert sorted(root.rglob("*.pyc")) == []
