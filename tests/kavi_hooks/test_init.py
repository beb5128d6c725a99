"""`kavi init`: kavi.yaml, Kavi's pre-commit entry, the workflow, the registry and the
allowed signers."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kavi_gates import __version__
from kavi_gates.config import KaviConfig, load_config
from kavi_gates.errors import EXIT_CLEAN, EXIT_USAGE
from kavi_hooks.cli import main
from kavi_hooks.init_cli import HOOK_IDS

WRITTEN = (
    "kavi.yaml",
    ".pre-commit-config.yaml",
    ".github/workflows/kavi.yml",
    "skills/registry.yaml",
    ".kavi/allowed_signers",
)


def kavi_hook_ids(root: Path) -> list[str]:
    config = yaml.safe_load((root / ".pre-commit-config.yaml").read_text())
    return [h["id"] for repo in config["repos"] for h in repo["hooks"] if h["id"] in HOOK_IDS]


def test_init_writes_every_file(tmp_path: Path) -> None:
    assert main(["init", str(tmp_path)]) == EXIT_CLEAN
    assert all((tmp_path / rel).is_file() for rel in WRITTEN)


def test_written_kavi_yaml_is_the_embedded_default_policy(tmp_path: Path) -> None:
    # --imports deny: exactly the embedded default (what existing configs mean).
    main(["init", str(tmp_path), "--imports", "deny"])
    loaded = load_config(start=tmp_path)
    assert loaded.source == str(tmp_path / "kavi.yaml")
    assert loaded.config == KaviConfig()


def test_a_new_project_gets_the_import_allowlist_and_nothing_else_differs(
    tmp_path: Path,
) -> None:
    main(["init", str(tmp_path)])
    config = load_config(start=tmp_path).config
    assert config.policy.imports == "allow"
    assert config.policy.allowed_imports == ("pydantic", "kavi_skills", "skills")
    default = KaviConfig()
    expected = dataclasses.replace(
        default,
        policy=dataclasses.replace(
            default.policy, imports="allow", allowed_imports=("pydantic", "kavi_skills", "skills")
        ),
    )
    assert config == expected


def test_the_printed_kavi_yaml_follows_the_imports_choice(tmp_path: Path) -> None:
    from kavi_cli import run_kavi

    allow = run_kavi(["init", "--print", "kavi.yaml"], cwd=tmp_path)
    deny = run_kavi(["init", "--print", "kavi.yaml", "--imports", "deny"], cwd=tmp_path)
    assert "  imports: allow\n" in allow.stdout and "  imports: deny\n" in deny.stdout
    assert not (tmp_path / "kavi.yaml").exists()


def test_an_unknown_imports_choice_is_a_usage_error_and_writes_nothing(tmp_path: Path) -> None:
    from kavi_cli import run_kavi

    done = run_kavi(["init", str(tmp_path), "--imports", "allowlist"], cwd=tmp_path)
    assert done.exit_code == EXIT_USAGE
    assert "--imports must be allow or deny" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_written_registry_is_empty(tmp_path: Path) -> None:
    main(["init", str(tmp_path)])
    assert (tmp_path / "skills/registry.yaml").read_text() == "version: 1\nskills: {}\n"


def test_existing_registry_is_kept(tmp_path: Path) -> None:
    registry = tmp_path / "skills/registry.yaml"
    registry.parent.mkdir()
    registry.write_text("version: 1\nskills: {}  # mine\n")
    main(["init", str(tmp_path)])
    assert registry.read_text().endswith("# mine\n")


def test_new_pre_commit_config_is_valid_and_lists_the_hooks(tmp_path: Path) -> None:
    main(["init", str(tmp_path)])
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pre_commit",
            "validate-config",
            str(tmp_path / ".pre-commit-config.yaml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout
    assert kavi_hook_ids(tmp_path) == list(HOOK_IDS)


def test_kavi_entry_is_appended_to_an_existing_pre_commit_config(tmp_path: Path) -> None:
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(
        "repos:\n-   repo: https://github.com/pre-commit/pre-commit-hooks\n"
        "    rev: v4.6.0\n    hooks:\n    -   id: trailing-whitespace\n"
    )
    assert main(["init", str(tmp_path)]) == EXIT_CLEAN
    repos = yaml.safe_load(config.read_text())["repos"]
    assert repos[0]["hooks"] == [{"id": "trailing-whitespace"}]
    assert kavi_hook_ids(tmp_path) == list(HOOK_IDS)


def test_refuses_to_overwrite_kavi_yaml_and_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "kavi.yaml").write_text("include: []\n")
    assert main(["init", str(tmp_path)]) == EXIT_USAGE
    assert f"{tmp_path / 'kavi.yaml'} already exists" in capsys.readouterr().err
    assert (tmp_path / "kavi.yaml").read_text() == "include: []\n"


def test_refusing_writes_nothing(tmp_path: Path) -> None:
    workflow = tmp_path / ".github/workflows/kavi.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text("name: mine\n")
    assert main(["init", str(tmp_path)]) == EXIT_USAGE
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["kavi.yml"]


def test_force_overwrites(tmp_path: Path) -> None:
    (tmp_path / "kavi.yaml").write_text("include: []\n")
    assert main(["init", "--force", "--imports", "deny", str(tmp_path)]) == EXIT_CLEAN
    assert load_config(start=tmp_path).config == KaviConfig()


def test_second_init_without_force_is_refused(tmp_path: Path) -> None:
    main(["init", str(tmp_path)])
    assert main(["init", str(tmp_path)]) == EXIT_USAGE


def test_second_init_with_force_does_not_duplicate_the_hooks(tmp_path: Path) -> None:
    main(["init", str(tmp_path)])
    assert main(["init", "--force", str(tmp_path)]) == EXIT_CLEAN
    assert kavi_hook_ids(tmp_path) == list(HOOK_IDS)


def test_written_workflow_is_the_documented_template(tmp_path: Path) -> None:
    main(["init", str(tmp_path)])
    template = Path(__file__).resolve().parents[2] / "kavi_hooks/templates/kavi-workflow.yml"
    expected = template.read_text().replace("{install}", f"kavi=={__version__}")
    assert (tmp_path / ".github/workflows/kavi.yml").read_text() == expected
