"""The plugin manager skips importlib.metadata only when no distribution could declare a
Kavi plugin: a "no" must never hide an entry point importlib.metadata would load."""

from __future__ import annotations

import importlib.metadata
import sys
import zipfile
from pathlib import Path

import pytest

from kavi_gates.entry_points import may_declare

LAYOUTS = {
    "no entry points": {"plain-1.0.dist-info/METADATA": "Name: plain\n"},
    "other groups only": {"tool-1.0.dist-info/entry_points.txt": "[pytest11]\nkavi = tool\n"},
    "a kavi plugin": {
        "acme-1.0.dist-info/entry_points.txt": "[console_scripts]\nx = y\n\n[kavi]\nacme = acme\n"
    },
    "indented header": {"acme-1.0.dist-info/entry_points.txt": "  [kavi]  \nacme = acme\n"},
    "doubled brackets": {"acme-1.0.dist-info/entry_points.txt": "[[kavi]]\nacme = acme\n"},
    "spaced name": {"acme-1.0.dist-info/entry_points.txt": "[ kavi ]\nacme = acme\n"},
    "upper-case info dir": {"Acme-1.0.DIST-INFO/entry_points.txt": "[kavi]\nacme = acme\n"},
    "egg-info directory": {"acme.egg-info/entry_points.txt": "[kavi]\nacme = acme\n"},
    "egg-info file": {"old.egg-info": "Metadata-Version: 1.0\nName: old\n"},
}


def _lay_out(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        info = (root / name).parent
        info.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
        if info != root:  # importlib.metadata knows a distribution by its metadata's Name
            (info / "METADATA").write_text(f"Name: {info.name.partition('-')[0]}\n")


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=list(LAYOUTS))
def test_a_no_only_when_importlib_metadata_finds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: dict[str, str]
) -> None:
    _lay_out(tmp_path, layout)
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    found = importlib.metadata.entry_points(group="kavi")
    assert may_declare("kavi") == bool(found)


def test_no_distribution_declaring_the_group_is_a_no(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _lay_out(tmp_path, {**LAYOUTS["no entry points"], **LAYOUTS["other groups only"]})
    monkeypatch.setattr(sys, "path", [str(tmp_path), str(tmp_path / "missing"), ""])
    monkeypatch.chdir(tmp_path)
    assert may_declare("kavi") is False
    assert may_declare("pytest11") is True


def test_what_cannot_be_read_cheaply_is_a_maybe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("acme-1.0.dist-info/entry_points.txt", "[kavi]\nacme = acme\n")
        zf.writestr("acme-1.0.dist-info/METADATA", "Name: acme\n")
    monkeypatch.setattr(sys, "path", [str(archive)])
    assert may_declare("kavi") is True
    assert importlib.metadata.entry_points(group="kavi")  # importlib.metadata reads zips

    egg = tmp_path / "acme-1.0-py3.11.egg"
    _lay_out(egg, {"EGG-INFO/entry_points.txt": "[kavi]\nacme = acme\n"})
    monkeypatch.setattr(sys, "path", [str(egg)])
    assert may_declare("kavi") is True


def test_another_source_of_distributions_is_a_maybe(monkeypatch: pytest.MonkeyPatch) -> None:
    class Finder:
        @staticmethod
        def find_spec(*args: object) -> None:
            return None

        @staticmethod
        def find_distributions(*args: object) -> list[object]:
            return []

    monkeypatch.setattr(sys, "path", [])
    assert may_declare("kavi") is False
    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Finder])
    assert may_declare("kavi") is True
