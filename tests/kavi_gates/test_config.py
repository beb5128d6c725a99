"""Config discovery and validation: unknown keys are errors that name the key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kavi_gates.config import (
    NOT_POLICY,
    PolicyConfig,
    effective_policy,
    load_config,
    policy_digest,
    policy_key,
    validate_config,
)
from kavi_gates.errors import ConfigError


def test_no_config_means_embedded_default(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    loaded = load_config(start=tmp_path)
    assert loaded.source == "<embedded default>"
    assert loaded.config.policy.forbidden_imports == ("subprocess", "pty", "paramiko")
    assert loaded.root == tmp_path


def test_kavi_yaml_wins_over_pyproject(tmp_path: Path) -> None:
    (tmp_path / "kavi.yaml").write_text("policy:\n  network: allow\n")
    (tmp_path / "pyproject.toml").write_text("[tool.kavi.policy]\nnetwork = 'deny'\n")
    assert load_config(start=tmp_path).config.policy.network == "allow"


def test_pyproject_tool_kavi_is_read_from_a_subdirectory(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.kavi]\ninclude = ['src/**/*.py']\n")
    sub = tmp_path / "src" / "pkg"
    sub.mkdir(parents=True)
    loaded = load_config(start=sub)
    assert loaded.config.include == ("src/**/*.py",)
    assert loaded.root == tmp_path


def test_unknown_top_level_key_is_named(tmp_path: Path) -> None:
    (tmp_path / "kavi.yaml").write_text("polcy: {}\n")
    with pytest.raises(ConfigError, match="unknown config key 'polcy'"):
        load_config(start=tmp_path)


def test_unknown_nested_key_is_named_with_its_path(tmp_path: Path) -> None:
    (tmp_path / "kavi.yaml").write_text("policy:\n  forbid_dynamic_eval: true\n")
    with pytest.raises(ConfigError, match=r"policy\.forbid_dynamic_eval"):
        load_config(start=tmp_path)


def test_bad_value_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "kavi.yaml").write_text("policy:\n  network: maybe\n")
    with pytest.raises(ConfigError, match=r"policy\.network"):
        load_config(start=tmp_path)


def test_unknown_key_inside_an_override_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "kavi.yaml").write_text(
        "overrides:\n  - paths: ['tests/**']\n    policy: {allowed_paths: [tmp/]}\n"
    )
    with pytest.raises(ConfigError, match="allowed_paths"):
        load_config(start=tmp_path)


def test_invalid_yaml_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "kavi.yaml").write_text("policy: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid"):
        load_config(start=tmp_path)


def test_explicit_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_explicit_toml_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "policy.toml"
    cfg.write_text("[policy]\nprocess = 'allow'\n")
    assert load_config(cfg).config.policy.process == "allow"


def test_overrides_apply_per_path_in_order(tmp_path: Path) -> None:
    (tmp_path / "kavi.yaml").write_text(
        "overrides:\n"
        "  - paths: ['tests/**']\n    policy: {allowed_write_paths: [tmp/]}\n"
        "  - paths: ['tests/net/**']\n    policy: {network: allow}\n"
    )
    config = load_config(start=tmp_path).config
    assert effective_policy(config, "skills/a.py").allowed_write_paths == (
        "vault_out/",
        "artifacts_out/",
    )
    assert effective_policy(config, "tests/a.py").allowed_write_paths == ("tmp/",)
    net = effective_policy(config, "tests/net/a.py")
    assert net.network == "allow" and net.allowed_write_paths == ("tmp/",)


def test_policy_digest_changes_with_the_policy(tmp_path: Path) -> None:
    (tmp_path / "kavi.yaml").write_text("policy: {network: deny}\n")
    first = policy_digest(load_config(start=tmp_path).config)
    (tmp_path / "kavi.yaml").write_text("policy: {network: allow}\n")
    assert policy_digest(load_config(start=tmp_path).config) != first
    assert first.startswith("sha256:")


def test_the_old_agent_env_allow_key_names_its_replacement(tmp_path: Path) -> None:
    (tmp_path / "kavi.yaml").write_text("forge:\n  agent_env_allow: [ANTHROPIC_API_KEY]\n")
    with pytest.raises(ConfigError) as info:
        load_config(start=tmp_path)
    message = str(info.value)
    assert "forge.agent_env_allow was replaced by forge.agent_env" in message
    assert "allowlist built from nothing" in message and "Value error" not in message


def test_forge_agent_settings_and_the_sandbox_switch(tmp_path: Path) -> None:
    (tmp_path / "kavi.yaml").write_text(
        "forge:\n"
        "  agent_env: [PATH, ANTHROPIC_API_KEY]\n"
        "  agent_paths: ['~/.claude', {path: '~/.claude.json', mode: ro}]\n"
        "  agent_network: none\n"
        "sandbox: {enabled: false}\n"
    )
    config = load_config(start=tmp_path).config
    assert config.forge.agent_env == ("PATH", "ANTHROPIC_API_KEY")
    assert [(p.path, p.mode) for p in config.forge.agent_paths] == [
        ("~/.claude", "rw"),
        ("~/.claude.json", "ro"),
    ]
    assert config.forge.agent_network == "none" and config.sandbox.enabled is False


def test_the_defaults_sandbox_everything_with_a_minimal_agent_environment(
    tmp_path: Path,
) -> None:
    (tmp_path / ".git").mkdir()
    config = load_config(start=tmp_path).config
    assert config.sandbox.enabled is True
    assert config.forge.agent_env == ("PATH", "LANG", "LC_ALL", "TERM", "TZ")
    assert config.forge.agent_paths == () and config.forge.agent_network == "host"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("forge:\n  agent_paths: [relative/path]\n", "agent_paths"),
        ("forge:\n  agent_paths: ['~/../etc']\n", "agent_paths"),
        ("forge:\n  agent_env: ['A=B']\n", "agent_env"),
        ("forge:\n  agent_network: lan\n", "agent_network"),
        ("sandbox:\n  enable: false\n", "sandbox.enable"),
    ],
)
def test_bad_agent_settings_are_config_errors(tmp_path: Path, text: str, where: str) -> None:
    (tmp_path / "kavi.yaml").write_text(text)
    with pytest.raises(ConfigError, match=where):
        load_config(start=tmp_path)


def test_the_policy_key_covers_every_setting_but_the_budget() -> None:
    base = PolicyConfig()
    changed = {
        "imports": "allow",
        "allowed_imports": ("pydantic",),
        "forbidden_imports": ("socket",),
        "forbidden_calls": (),
        "forbid_dynamic_exec": False,
        "network": "allow",
        "process": "allow",
        "allowed_write_paths": ("out/",),
        "unsuppressible": ("KAV401",),
    }
    assert set(changed) == {f.name for f in dataclasses.fields(PolicyConfig)} - NOT_POLICY
    for name, value in changed.items():
        other = dataclasses.replace(base, **{name: value})
        assert policy_key(other) != policy_key(base), name
    assert policy_key(PolicyConfig(file_budget=99)) == policy_key(base)


def test_policy_digests_do_not_change_with_how_settings_are_held() -> None:
    """Registries record the digest a skill was verified under: these values were computed
    by Kavi when its settings were pydantic models, and must never drift."""
    assert policy_digest(validate_config({}, "x")) == (
        "sha256:8f552f90c541694e79f7dde3b0c443c0d284eda76dd1f71cbdd2bb60386d2d77"
    )
    config = {
        "policy": {
            "imports": "allow",
            "allowed_imports": ["pydantic"],
            "file_budget": 3,
            "network": "allow",
        },
        "overrides": [
            {"paths": ["tests/**"], "policy": {"process": "allow", "file_budget": 5}},
            {"paths": ["x/**"], "policy": {"file_budget": 5}},
        ],
    }
    assert policy_digest(validate_config(config, "x")) == (
        "sha256:598581b16a7dcccd799c46d1e448bc7144ab3d7dc873cdb245a3db1f2d934c9d"
    )
