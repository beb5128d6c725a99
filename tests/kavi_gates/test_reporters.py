"""The reporters (text, json, sarif, github) on hand-built reports, and the result cache."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from kavi_gates.cache import ResultCache, default_cache_dir
from kavi_gates.codes.hash_pin import DRIFTED
from kavi_gates.codes.targets import GLOB_MATCHES_NOTHING
from kavi_gates.models import Finding, GateResult, RunReport, Severity, Status
from kavi_gates.report import render_github, render_json, render_sarif, render_text

SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "sarif-schema-2.1.0.json"


@pytest.fixture
def report(tmp_path: Path) -> RunReport:
    (tmp_path / "skills").mkdir()
    (tmp_path / "skills" / "a.py").write_text("x = 1\ny = eval('2')\n")
    drift = DRIFTED.finding("skills/a.py", "pinned file drifted: expected a, actual b")
    warning = GLOB_MATCHES_NOTHING.finding("skill/**", "include glob 'skill/**' matches no file")
    policy = Finding(
        gate="policy", rule="KAV401", path="skills/a.py", line=2, col=5, message="eval, 100%"
    )
    return RunReport(
        root=str(tmp_path),
        config_source="kavi.yaml",
        results=(
            GateResult(gate="targets", status=Status.PASS, findings=(warning.with_fingerprint(),)),
            GateResult(gate="policy", status=Status.FAIL, findings=(policy.with_fingerprint(),)),
            GateResult(gate="hash-pin", status=Status.FAIL, findings=(drift.with_fingerprint(),)),
            GateResult(gate="invariants", status=Status.ERROR, error="ValueError: boom"),
        ),
        codes={DRIFTED.id: DRIFTED, GLOB_MATCHES_NOTHING.id: GLOB_MATCHES_NOTHING},
    )


def test_text_lists_findings_with_source_and_caret_then_a_summary(report: RunReport) -> None:
    lines = render_text(report).splitlines()
    assert (
        lines[0] == "skill/**: KAV010 [warning] include glob 'skill/**' matches no file (targets)"
    )
    assert lines[1] == "skills/a.py: KAV801 pinned file drifted: expected a, actual b (hash-pin)"
    assert lines[2].startswith("skills/a.py:2:5: KAV401 eval, 100% (policy)")
    assert lines[3:5] == ["    y = eval('2')", "        ^"]
    assert "gate invariants: internal error: ValueError: boom" in lines
    assert lines[-1] == (
        "kavi: 2 errors, 1 warning (targets pass, policy fail, hash-pin fail, invariants error)"
    )


def _one_finding(root: Path, source: str, line: int, col: int, message: str) -> RunReport:
    (root / "a.py").write_text(source, encoding="utf-8")
    found = Finding(gate="policy", rule="KAV401", path="a.py", line=line, col=col, message=message)
    return RunReport(
        root=str(root), results=(GateResult(gate="policy", status=Status.FAIL, findings=(found,)),)
    )


def test_a_long_line_is_shown_as_a_window_around_the_column(tmp_path: Path) -> None:
    source = "x = " + "(" * 3000 + "eval('1')" + ")" * 3000 + "\n"
    col = 4 + 3000 + 1
    lines = render_text(_one_finding(tmp_path, source, 1, col, "eval")).splitlines()
    shown, caret = lines[1], lines[2]
    assert len(shown) <= 4 + 2 + 120 and shown.startswith("    …") and shown.endswith("…")
    assert shown[caret.index("^") :].startswith("eval('1')")  # the caret still points at it


def test_text_output_cannot_be_steered_by_the_files_it_quotes(tmp_path: Path) -> None:
    """A file's bytes (and messages quoting them) reach a terminal: escapes that erase the
    line above, forge a new line or reorder text are shown, never obeyed."""
    source = "x = 1  # \x1b[1A\x1b[2K\u202e\x0c\x85\u2028hidden\ny = eval('x')\n"
    message = "write to 'out\x1b[2K\nkavi: 0 errors (policy pass)'"
    out = render_text(_one_finding(tmp_path, source, 1, 1, message))
    assert not any(c in out for c in "\x1b\x0c\x85\u202e\u2028")
    assert out.count("\n") == 4  # finding, source line, caret, summary: nothing forged
    assert "\\x1b[1A\\x1b[2K\\u202e\\x0c\\x85\\u2028hidden" in out
    assert "out\\x1b[2K\\nkavi: 0 errors" in out


def test_the_source_line_is_the_line_python_counts(tmp_path: Path) -> None:
    """Characters str.splitlines breaks at but Python does not must not shift the line
    shown under a finding (it would show harmless code under a finding on line 2)."""
    source = "a = 1  # \x0c\x1c\x85\u2028 harmless\ny = eval('x')\n"
    lines = render_text(_one_finding(tmp_path, source, 2, 5, "eval")).splitlines()
    assert lines[1] == "    y = eval('x')"


def test_json_carries_findings_gates_codes_and_the_config_source(report: RunReport) -> None:
    data = json.loads(render_json(report))
    assert data["version"] == 1 and data["exit_code"] == 3 and data["config_source"] == "kavi.yaml"
    assert [f["rule"] for f in data["findings"]] == ["KAV010", "KAV801", "KAV401"]
    assert data["codes"]["KAV801"]["help"].startswith("A pinned file's bytes differ")
    assert {g["gate"]: g["status"] for g in data["gates"]}["invariants"] == "error"


def test_sarif_is_valid_with_rule_help_levels_and_a_crash_notification(report: RunReport) -> None:
    sarif = json.loads(render_sarif(report))
    jsonschema.validate(sarif, json.loads(SCHEMA.read_text()))
    (run,) = sarif["runs"]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["KAV801"]["help"]["text"].startswith("A pinned file's bytes differ")
    assert rules["KAV010"]["defaultConfiguration"] == {"level": "warning"}
    assert rules["KAV401"] == {"id": "KAV401", "shortDescription": {"text": "KAV401"}}
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels == {"KAV010": "warning", "KAV801": "error", "KAV401": "error"}
    assert run["invocations"][0]["executionSuccessful"] is False
    assert (
        "ValueError: boom"
        in run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]
    )
    assert run["properties"]["configSource"] == "kavi.yaml"


def test_github_annotations_escape_their_data(report: RunReport) -> None:
    lines = render_github(report).splitlines()
    assert (
        lines[0]
        == "::warning file=skill/**,title=KAV010 (targets)::include glob 'skill/**' matches no file"
    )
    assert lines[2] == "::error file=skills/a.py,line=2,col=5,title=KAV401 (policy)::eval, 100%25"
    assert lines[-1] == "::error title=kavi invariants::gate crashed: ValueError: boom"


def test_a_clean_report_renders_empty_where_it_should(tmp_path: Path) -> None:
    clean = RunReport(root=str(tmp_path), results=(GateResult(gate="policy", status=Status.PASS),))
    assert render_github(clean) == ""
    assert render_text(clean) == "kavi: 0 errors (policy pass)\n"
    assert json.loads(render_sarif(clean))["runs"][0]["results"] == []
    assert clean.exit_code == 0 and Severity.ERROR.value == "error"


# --- the result cache -------------------------------------------------------------------------


def test_cache_round_trips_and_keys_on_bytes_and_salt(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, "policy-v1", "salt")
    key = cache.key(b"source")
    assert cache.get(key) is None
    cache.put(key, [{"rule": "KAV401"}])
    assert cache.get(key) == [{"rule": "KAV401"}]
    assert cache.key(b"source") == key and cache.key(b"sourcE") != key
    assert ResultCache(tmp_path, "policy-v1", "other").key(b"source") != key


def test_a_corrupt_entry_is_a_miss_not_an_error(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, "ns", "")
    key = cache.key(b"x")
    cache.put(key, {"a": 1})
    entry = next((tmp_path / "ns").rglob("*.json"))
    entry.write_bytes(b"{truncated")
    assert cache.get(key) is None


def test_an_unwritable_cache_never_fails_a_check(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = ResultCache(blocker, "ns", "")
    cache.put(cache.key(b"x"), [1])  # must not raise
    assert cache.get(cache.key(b"x")) is None


def test_cache_directory_follows_storage_then_xdg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir(tmp_path, None) == tmp_path / "xdg" / "kavi"
    assert default_cache_dir(tmp_path, ".cache/k") == tmp_path / ".cache" / "k"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")  # invalid per the spec: ignored
    home = Path(os.environ.get("HOME", str(Path.home())))
    assert default_cache_dir(tmp_path, None) == home / ".cache" / "kavi"
