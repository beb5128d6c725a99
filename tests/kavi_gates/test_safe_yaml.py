"""Every YAML Kavi reads refuses alias bombs before expanding them, and every error message
that echoes input is bounded (issue 11 item 6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kavi_gates.config import load_config
from kavi_gates.errors import ECHO_LIMIT, ConfigError, UsageError, shorten
from kavi_gates.registry import load_registry
from kavi_gates.safe_yaml import MAX_EXPANSION, YamlError, load_yaml
from kavi_hooks.cli import main
from kavi_hooks.init_cli import init_repo

# One error line: the path of a temporary file, a short explanation and at most one echo.
BOUND = 2 * ECHO_LIMIT + 400


def bomb(levels: int, key: str = "anchors") -> str:
    """Nested anchors: ``levels`` levels of nine aliases each, 9**levels strings expanded."""
    lines = [f"{key}:", '  - &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"  - &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def registry_bomb(levels: int) -> str:
    """The shape from the issue: the expansion lands in a pin, which the error echoes."""
    return (
        "version: 1\n"
        + bomb(levels)
        + "skills:\n  x:\n    path: skills/x.py\n    class: X\n"
        + f"    side_effect_class: READ_ONLY\n    pins: {{skills/x.py: *a{levels - 1}}}\n"
    )


@pytest.mark.parametrize("levels", [6, 9, 12])
def test_a_registry_alias_bomb_is_refused_with_a_short_message(tmp_path: Path, levels: int) -> None:
    path = tmp_path / "registry.yaml"
    path.write_text(registry_bomb(levels))
    assert path.stat().st_size < 800
    with pytest.raises(ConfigError, match="aliases would expand") as info:
        load_registry(path)
    assert len(str(info.value)) < BOUND


def test_a_kavi_yaml_alias_bomb_is_a_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "kavi.yaml").write_text(bomb(9, key="include"))
    monkeypatch.chdir(tmp_path)
    assert main(["check"]) == 2
    err = capsys.readouterr().err
    assert "aliases would expand" in err and len(err) < BOUND and err.count("\n") == 1


def test_a_pyproject_style_config_file_given_by_path_is_guarded_too(tmp_path: Path) -> None:
    config = tmp_path / "custom.yml"
    config.write_text(bomb(8, key="exclude"))
    with pytest.raises(ConfigError, match="aliases would expand"):
        load_config(config)


def test_merge_keys_count_as_expansion() -> None:
    lines = ["a0: &a0 {" + ", ".join(f"k{i}: v" for i in range(9)) + "}"]
    for i in range(1, 7):
        keys = ", ".join(f"m{j}: *a{i - 1}" for j in range(9))
        lines.append(f"a{i}: &a{i} {{<<: *a{i - 1}, {keys}}}")
    with pytest.raises(YamlError, match="aliases would expand"):
        load_yaml("\n".join(lines) + "\n")


def test_too_many_alias_uses_are_refused_even_when_small() -> None:
    text = "a: &x 1\nb: [" + ", ".join(["*x"] * 2000) + "]\n"
    with pytest.raises(YamlError, match="alias uses"):
        load_yaml(text)


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(YamlError, match="recursive"):
        load_yaml("a: &a [1, *a]\n")


def test_deep_nesting_is_a_clean_error() -> None:
    with pytest.raises(YamlError):
        load_yaml("[" * 200_000 + "]" * 200_000)


def test_a_few_anchors_as_people_write_them_still_load() -> None:
    text = (
        "base: &allowed [vault_out/, artifacts_out/]\n"
        "overrides:\n"
        "  - paths: [tests/**]\n    policy: {allowed_write_paths: *allowed}\n"
        "  - paths: [docs/**]\n    policy: {allowed_write_paths: *allowed}\n"
    )
    data = load_yaml(text)
    assert data["overrides"][1]["policy"]["allowed_write_paths"] == ["vault_out/", "artifacts_out/"]


def test_a_large_document_without_aliases_is_never_refused_for_size() -> None:
    text = "items:\n" + "".join(f"  - item{i}\n" for i in range(3 * MAX_EXPANSION))
    assert len(load_yaml(text)["items"]) == 3 * MAX_EXPANSION


def test_python_object_tags_are_refused() -> None:
    with pytest.raises(YamlError):
        load_yaml("!!python/object/apply:os.system ['true']\n")


def test_a_huge_unknown_config_key_is_echoed_bounded(tmp_path: Path) -> None:
    (tmp_path / "kavi.yaml").write_text(f"? {'k' * 1_000_000}\n: 1\n")  # a complex key
    with pytest.raises(ConfigError, match="unknown config key") as info:
        load_config(start=tmp_path)
    assert len(str(info.value)) < BOUND


def test_a_huge_config_value_is_echoed_bounded(tmp_path: Path) -> None:
    (tmp_path / "kavi.yaml").write_text(f"policy:\n  network: {'x' * 1_000_000}\n")
    with pytest.raises(ConfigError) as info:
        load_config(start=tmp_path)
    assert len(str(info.value)) < BOUND


@pytest.mark.parametrize(
    "pin",
    ["'" + "a" * 1_000_000 + "'", "[" + ", ".join(["x"] * 100_000) + "]"],
    ids=["long-string", "long-list"],
)
def test_a_huge_pin_value_is_echoed_bounded(tmp_path: Path, pin: str) -> None:
    path = tmp_path / "registry.yaml"
    path.write_text(
        "version: 1\nskills:\n  x:\n    path: skills/x.py\n    class: X\n"
        f"    side_effect_class: READ_ONLY\n    pins: {{skills/x.py: {pin}}}\n"
    )
    with pytest.raises(ConfigError, match="must be 'sha256") as info:
        load_registry(path)
    assert len(str(info.value)) < BOUND


def test_a_huge_side_effect_class_is_echoed_bounded(tmp_path: Path) -> None:
    path = tmp_path / "registry.yaml"
    path.write_text(
        "version: 1\nskills:\n  x:\n    path: skills/x.py\n    class: X\n"
        f"    side_effect_class: {'Z' * 500_000}\n"
    )
    with pytest.raises(ConfigError, match="unknown side_effect_class") as info:
        load_registry(path)
    assert len(str(info.value)) < BOUND


def test_a_yaml_syntax_error_quoting_a_huge_alias_name_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "registry.yaml"
    path.write_text(f"version: 1\nskills: *{'n' * 1_000_000}\n")
    with pytest.raises(ConfigError) as info:
        load_registry(path)
    assert len(str(info.value)) < BOUND


def test_kavi_init_refuses_a_pre_commit_config_bomb(tmp_path: Path) -> None:
    (tmp_path / ".pre-commit-config.yaml").write_text(bomb(9, key="repos"))
    with pytest.raises(UsageError, match="aliases would expand") as info:
        init_repo(tmp_path)
    assert len(str(info.value)) < BOUND
    assert not (tmp_path / "kavi.yaml").exists()


def test_shorten_keeps_short_text_and_says_what_it_cut() -> None:
    assert shorten("abc") == "abc"
    cut = shorten("x" * 1000)
    assert cut.startswith("x" * ECHO_LIMIT) and "800 more characters" in cut
