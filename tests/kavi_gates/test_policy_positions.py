"""Finding positions from the code of the statements that hold the findings alone, placed in
the source by search (``positions._by_statement``), are the positions the whole module's
code gives, on every layout a file can have; where the search cannot be sure, the module's
code is generated as before."""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from typing import Any

import libcst as cst
import pytest

from kavi_gates.config import validate_policy
from kavi_gates.policy import positions
from kavi_gates.policy.check import _violations, check_source
from kavi_gates.policy.rules import BUILTIN_RULES
from kavi_gates.policy.source_checks import decode

POLICY = validate_policy({})

# name -> (source, whether the search can place every statement for certain)
LAYOUTS: dict[str, tuple[bytes, bool]] = {
    "method deep in a class": (
        b'"""Doc."""\nimport os\n\n\nclass A:\n    def f(self):\n        return 1\n\n'
        b"    def g(self):\n        # note\n        os.system('id')\n",
        True,
    ),
    "windows newlines": (b"import os\r\n\r\ndef f():\r\n    os.system('id')\r\n", True),
    # libcst sees no final newline in a file of \r line ends: its last statement is not placed
    "old mac newlines": (b"import os\rdef f():\r    os.system('id')\r", False),
    "old mac newlines, finding not last": (
        b"import os\rdef f():\r    os.system('id')\rx = 1\r",
        True,
    ),
    "byte order mark and cookie": (
        b"\xef\xbb\xbf# -*- coding: utf-8 -*-\nimport os\nx = '\xc3\xa9'; os.system('id')\n",
        True,
    ),
    "latin-1 cookie": (
        b"# coding: latin-1\nimport os\ns = '\xe9\xe9'\nos.system(s)\n",
        True,
    ),
    "tabs and form feed": (b"import os\n\x0c\nif True:\n\tos.system('id')\n", True),
    "decorators and comments": (
        b"import os\n\n# lead\n@staticmethod\n# between\n@property\ndef f():\n"
        b"    return os.system('id')\n",
        True,
    ),
    "no newline at the end": (b"import os\nos.system('id')", False),
    "the same statement twice": (b"import os\nos.system('id')\nos.system('id')\n", False),
    "the statement in a docstring first": (
        b"import os\n'''\nos.system('id')\n'''\nos.system('id')\n",
        False,
    ),
    "nested copy of the statement": (
        b"import os\ndef f():\n    os.system('id')\nos.system('id')\n",
        True,
    ),
    "continuation lines": (
        b"import os\nx = (1 +\n     2)\nos.system(\n    'id'\n)  # trailing\n",
        True,
    ),
}


def _both(source: bytes) -> tuple[dict[int, tuple[int, int]] | None, dict[int, tuple[int, int]]]:
    module = cst.parse_module(source)
    violations, _, statement_of = _violations(module, POLICY, BUILTIN_RULES)
    nodes = [v.node for _, v in violations]
    assert nodes, "every layout must draw a finding"
    wanted = frozenset(id(n) for n in nodes)
    fast = positions._by_statement(module, wanted, decode(source), statement_of)
    return fast, positions.node_positions(module, nodes)


@pytest.mark.parametrize("name", LAYOUTS)
def test_statement_positions_are_the_whole_modules(name: str) -> None:
    source, placed = LAYOUTS[name]
    fast, whole = _both(source)
    if placed:
        assert fast == whole
    else:
        assert fast is None  # not sure where: the module's code decides


@pytest.mark.parametrize("name", LAYOUTS)
def test_findings_are_where_python_sees_the_call(name: str) -> None:
    """Python's own parser is the judge: each os.system finding is where ast puts a call."""
    source, _ = LAYOUTS[name]
    lines = re.split(r"\r\n|\r|\n", decode(source))

    def column(node: ast.expr) -> int:  # ast counts UTF-8 bytes, findings characters
        return len(lines[node.lineno - 1].encode()[: node.col_offset].decode()) + 1

    calls = {
        (node.lineno, column(node))
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "os.system"
    }
    found = {
        (f.line, f.col)
        for f in check_source(source, "f.py", POLICY, BUILTIN_RULES)
        if f.rule == "KAV111"
    }
    assert found and found <= calls, (found, calls)


def test_only_the_statement_with_a_finding_is_generated(monkeypatch: pytest.MonkeyPatch) -> None:
    big = "class Big:\n" + "".join(f"    def m{i}(self):\n        return {i}\n" for i in range(500))
    source = f"import json\n{big}json.loads('1')\nexec('x')\n".encode()
    generated: list[Any] = []
    real = positions._generate

    def spy(module: cst.Module, node: cst.CSTNode, wanted: frozenset[int]) -> Any:
        generated.append(node)
        return real(module, node, wanted)

    monkeypatch.setattr(positions, "_generate", spy)
    (finding,) = check_source(source, "f.py", POLICY, BUILTIN_RULES)
    assert (finding.rule, finding.line, finding.col) == ("KAV401", 1004, 1)
    assert [type(node) for node in generated] == [cst.SimpleStatementLine]


@pytest.mark.parametrize(
    ("rule", "example"),
    [(rule, example) for rule in BUILTIN_RULES for example in rule.code.invalid],
    ids=lambda value: getattr(value, "id", None) or "",
)
def test_every_rule_example_is_placed_as_the_whole_module_places_it(
    rule: type[Any], example: str | bytes
) -> None:
    source = example.encode() if isinstance(example, str) else example
    try:
        module = cst.parse_module(source)
        violations, _, statement_of = _violations(module, POLICY, BUILTIN_RULES)
    except Exception:  # examples of input problems (syntax, encoding) draw no violation
        return
    nodes = [v.node for _, v in violations]
    wanted = frozenset(id(n) for n in nodes)
    fast = positions._by_statement(module, wanted, decode(source), statement_of)
    assert fast is None or fast == positions.node_positions(module, nodes)


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
    found = [f for f in check_source(source.encode(), "f.py", POLICY, BUILTIN_RULES)]
    by_line = {f.line: f for f in found if f.rule == "KAV111"}
    assert sorted(by_line) == [3, 5]
    for line, anchor in ((3, "os.system('id')  # \u2028 \x85"), (5, "os.system('ls')")):
        expected = replace(by_line[line], fingerprint="").with_fingerprint(anchor.strip())
        assert by_line[line].fingerprint == expected.fingerprint
