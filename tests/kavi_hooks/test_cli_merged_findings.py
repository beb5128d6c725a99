"""One place, several codes, through ``kavi check`` and ``kavi rules`` as a user runs them:
``import subprocess`` under the default policy is one finding in every format."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from kavi_cli import run_kavi

SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "sarif-schema-2.1.0.json"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / ".cache"))
    (tmp_path / "kavi.yaml").write_text("include: ['skills/**/*.py']\n")
    (tmp_path / "skills").mkdir()
    (tmp_path / "skills" / "run.py").write_text("import subprocess\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check(*args: str) -> tuple[int, str]:
    done = run_kavi(["check", "skills", "--gate", "policy", *args])
    return done.exit_code, done.stdout


def test_text_shows_one_line_with_every_code(repo: Path) -> None:
    code, out = check()
    assert code == 1
    (line,) = [line for line in out.splitlines() if line.startswith("skills/")]
    assert line.startswith("skills/run.py:1:8: KAV101,KAV201 import of forbidden module")
    assert "kavi: 1 error (policy fail)" in out


def test_json_has_one_finding_with_the_other_code_in_also(repo: Path) -> None:
    _, out = check("--format", "json")
    data = json.loads(out)
    (finding,) = data["findings"]
    assert (finding["rule"], finding["also"]) == ("KAV101", ["KAV201"])
    assert set(data["codes"]) == {"KAV101", "KAV201"}


def test_sarif_has_one_result_describing_both_rules(repo: Path) -> None:
    _, out = check("--format", "sarif")
    sarif = json.loads(out)
    jsonschema.validate(sarif, json.loads(SCHEMA.read_text()))
    run = sarif["runs"][0]
    (result,) = run["results"]
    assert result["ruleId"] == "KAV101"
    assert result["properties"]["alsoViolates"] == ["KAV201"]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["KAV101", "KAV201"]


def test_github_has_one_annotation_titled_with_both_codes(repo: Path) -> None:
    _, out = check("--format", "github")
    (line,) = out.splitlines()
    assert line.startswith(
        "::error file=skills/run.py,line=1,col=8,title=KAV101%2C KAV201 (policy)"
    )


def test_statistics_count_the_place_for_each_code(repo: Path) -> None:
    _, out = check("--statistics")
    assert "     1  KAV101" in out and "     1  KAV201" in out


def test_write_baseline_records_each_code_then_accepts_the_place(repo: Path) -> None:
    written = run_kavi(["check", "--gate", "policy", "--write-baseline", "b.json"])
    assert written.exit_code == 0, written.output
    entries = json.loads((repo / "b.json").read_text())["findings"]
    assert sorted(e["rule"] for e in entries) == ["KAV101", "KAV201"]
    again = run_kavi(["check", "--gate", "policy", "--baseline", "b.json"])
    assert again.exit_code == 0
    assert "2 baselined" in again.stdout


def test_rules_documents_the_codes_exactly_as_a_finding_lists_them(repo: Path) -> None:
    done = run_kavi(["rules", "KAV101,KAV201"])
    assert done.exit_code == 0
    assert done.stdout.startswith("KAV101 (policy, error): import of a forbidden module")
    assert "\nKAV201 (policy, error):" in done.stdout
    as_json = json.loads(run_kavi(["rules", "kav101, KAV201", "--format", "json"]).stdout)
    assert [c["id"] for c in as_json] == ["KAV101", "KAV201"]
    unknown = run_kavi(["rules", "KAV101,KAV999"])
    assert unknown.exit_code == 2 and "KAV999" in unknown.stderr
