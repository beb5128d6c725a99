"""Where users wait: a warm run never loads libcst, whatever the format or gate, and a run
whose files need no full analysis never loads it at all (each checked in a fresh process,
whose sys.modules is the evidence)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Runs an entry point's main() in a fresh interpreter and reports whether libcst loaded.
PROBE = (
    "import sys\n"
    "from {module} import main\n"
    "code = main(sys.argv[1:])\n"
    "sys.stderr.write('\\nLIBCST=' + str('libcst' in sys.modules) + '\\n')\n"
    "heavy = ('pydantic', 'yaml', 'importlib.metadata', 'libcst', '_hashlib')\n"
    "sys.stderr.write('LOADED=' + ','.join(m for m in heavy if m in sys.modules) + '\\n')\n"
    "raise SystemExit(code)\n"
)
SKILL = '''"""A skill with something for every gate to say."""

import os

from pydantic import BaseModel

from kavi_skills import BaseSkill


class EchoIn(BaseModel):
    text: str


class Echo(BaseSkill):
    name = "echo"
    description = "Echo the text back."
    side_effect_class = "READ_ONLY"
    input_model = EchoIn
    output_model = EchoIn

    def execute(self, data: EchoIn) -> EchoIn:
        open("notes.md", "w").write(data.text)
        os.system("true")
        return data
'''


def run(module: str, root: Path, env: dict[str, str], *args: str) -> tuple[int, bool, str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module), *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    marker = [line for line in done.stderr.splitlines() if line.startswith("LIBCST=")]
    assert marker, done.stdout + done.stderr
    return done.returncode, marker[-1] == "LIBCST=True", done.stdout + done.stderr


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "repo"
    (root / "skills").mkdir(parents=True)
    # judge: all, so that the diff-allowlist judges this (human) change too.
    (root / "kavi.yaml").write_text('include: ["skills/**/*.py"]\ndiff_allowlist: {judge: all}\n')
    (root / "skills" / "echo.py").write_text(SKILL)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    return root, env


@pytest.mark.slow
def test_a_warm_check_never_imports_libcst_for_any_format_or_gate(
    repo: tuple[Path, dict[str, str]],
) -> None:
    root, env = repo
    code, loaded, output = run("kavi_hooks.cli", root, env, "check")  # cold: fills the cache
    assert code == 1 and loaded, output
    for gate in ("policy", "invariants", "diff-allowlist", "hash-pin"):
        assert f"({gate})" in output, f"the fixture must draw a {gate} finding: {output}"
    for output_format in ("text", "json", "sarif", "github"):  # every gate runs in each
        code, loaded, output = run("kavi_hooks.cli", root, env, "check", "-f", output_format)
        assert code == 1, output
        assert not loaded, f"a warm `kavi check -f {output_format}` imported libcst"
    for gate in ("policy", "invariants"):
        code, loaded, output = run(
            "kavi_hooks.precommit", root, env, "--gate", gate, "skills/echo.py"
        )
        assert code == 1 and not loaded, (gate, output)


@pytest.mark.slow
def test_describing_the_rules_never_imports_libcst(repo: tuple[Path, dict[str, str]]) -> None:
    root, env = repo
    for args in (("rules",), ("rules", "-f", "json"), ("rules", "KAV401")):
        code, loaded, output = run("kavi_hooks.cli", root, env, *args)
        assert code == 0 and not loaded, (args, output)
        assert "KAV401" in output


def test_files_without_trigger_words_never_import_libcst(
    repo: tuple[Path, dict[str, str]],
) -> None:
    root, env = repo
    (root / "skills" / "echo.py").write_text("def shout(text):\n    return text.upper()\n")
    (root / "skills" / "broken.py").write_text("def shout(text:\n    return text\n")
    code, loaded, output = run(
        "kavi_hooks.precommit", root, env, "--gate", "policy", "skills/echo.py", "skills/broken.py"
    )
    assert not loaded, output
    assert code == 1 and "skills/broken.py:1:" in output and "KAV001" in output, output


def _loaded(output: str) -> set[str]:
    (line,) = [line for line in output.splitlines() if line.startswith("LOADED=")]
    return set(filter(None, line.removeprefix("LOADED=").split(",")))


@pytest.mark.slow
def test_a_warm_hook_loads_no_validator_no_yaml_and_no_package_metadata(
    repo: tuple[Path, dict[str, str]],
) -> None:
    """pydantic (and the YAML parser, and importlib.metadata) cost more than the rest of a
    warm hook: a remembered config and cached verdicts need none of them."""
    root, env = repo
    for gate in ("policy", "invariants"):
        args = ("--gate", gate, "skills/echo.py")
        code, _, output = run("kavi_hooks.precommit", root, env, *args)  # cold: fills caches
        assert code == 1 and _loaded(output), output  # the probe sees what loads
        code, _, output = run("kavi_hooks.precommit", root, env, *args)
        assert code == 1 and _loaded(output) == set(), (gate, output)
