"""Kavi reads a file in the encoding Python runs it in, or refuses it (KAV002): never in
another one, where what the analysis sees is not what runs (found by an adversarial
review: with ``\\r`` line ends the two chose their encodings from different lines)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from kavi_gates.config import validate_policy
from kavi_gates.policy.check import check_source
from kavi_gates.policy.effects import UnparsableSource, observed_effects
from kavi_gates.policy.rules import BUILTIN_RULES
from kavi_gates.policy.source_checks import decode, rewrites_ascii, source_encoding
from kavi_gates.suppressions import agent_suppressions_result

POLICY = validate_policy({})


def _run(source: bytes | str) -> object:
    """What Python makes of ``source`` (text: as it is, whatever it declares): the value of
    ``x``, or the error's type."""
    scope: dict[str, object] = {}
    try:
        exec(compile(source, "f.py", "exec"), scope)  # only ``x = '...'`` and comments
    except (SyntaxError, ValueError) as err:
        return type(err)
    return scope["x"]


# Line ends around a latin-1 declaration, in every place it may or may not count.
ENDS = [b"\n", b"\r", b"\r\n"]
VARIANTS = [
    first + b"# coding: latin-1" + second + b"x = '\xe9'" + b"\n"
    for first, second in itertools.product([b"", b"\r", b"# a\r", b"\r\n", b"# a\r# b\r"], ENDS)
]


@pytest.mark.parametrize("source", VARIANTS)
def test_the_encoding_is_the_one_python_runs_the_file_in(source: bytes) -> None:
    ran = _run(source)
    ours = _run(decode(source))  # the text Kavi analyses
    if isinstance(ran, str):
        assert source_encoding(source) in ("iso-8859-1", "latin-1") and ours == ran
    else:  # Python cannot read it: Kavi must not pass it either
        assert any(f.rule in ("KAV001", "KAV002") for f in _found(source)), source


def _found(source: bytes) -> list[object]:
    return list(check_source(source, "f.py", POLICY, BUILTIN_RULES))


EVASIONS = {
    # Python reads the utf-7 declaration on line 2 (line 1 is a lone \r) and runs the
    # call; read at \n alone, the declaration was on a "blank" first line and missed.
    "hidden declaration": b'\r# coding: utf-7\n#+AAo-import os; os.system("id")\n',
    "hidden declaration, eval": b'\r# coding: utf-7\n#+AAo-eval("1")\n',
    # the reverse: one "line" to tokenize, three to Python, which never reads the
    # declaration; in utf-7, +ACI- opened a string that swallowed the call
    "phantom declaration": (
        b'# a\r# b\r# coding: utf-7\nimport os\ns = "+ACI-"; os.system("id")\n# """\n'
    ),
}


@pytest.mark.parametrize("name", EVASIONS)
def test_a_file_read_otherwise_than_python_reads_it_never_passes(name: str) -> None:
    rules = {f.rule for f in _found(EVASIONS[name])}  # type: ignore[attr-defined]
    assert rules & {"KAV002", "KAV111", "KAV401"}, rules


def test_the_phantom_declaration_is_read_as_python_reads_it() -> None:
    found = [(f.rule, f.line, f.col) for f in _found(EVASIONS["phantom declaration"])]  # type: ignore[attr-defined]
    assert ("KAV111", 5, 14) in found


@pytest.mark.parametrize(
    "encoding",
    [
        *("utf-7", "utf-16", "utf-32", "cp037", "unicode_escape", "raw_unicode_escape"),
        *("iso2022_jp", "hz", "idna", "punycode"),
        # an ASCII byte inside a multi-byte character; a non-ASCII byte read as ASCII
        *("shift_jis", "cp932", "gbk", "gb18030", "big5", "johab", "mac_arabic", "mac_farsi"),
        *("euc-jp", "euc_kr", "gb2312"),  # every multi-byte encoding but UTF-8
    ],
)
def test_an_encoding_that_rewrites_ascii_is_refused(encoding: str) -> None:
    assert rewrites_ascii(encoding)
    source = f"# coding: {encoding}\nx = 1\n".encode("ascii")
    (finding,) = _found(source)
    assert finding.rule == "KAV002" and encoding in finding.message  # type: ignore[attr-defined]
    with pytest.raises(UnparsableSource, match="does not read ASCII as ASCII"):
        observed_effects(source, "f.py")


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "U8", "ascii", "latin-1", "cp1252", "koi8-r"]
)
def test_an_ascii_compatible_encoding_is_read(encoding: str) -> None:
    assert not rewrites_ascii(encoding)
    source = f"# coding: {encoding}\nx = 1\neval(x)\n".encode("ascii")
    assert [f.rule for f in _found(source)] == ["KAV401"]  # type: ignore[attr-defined]


PAYLOAD = b's = "\xc2\x81\\"; import os; os.system(\'echo SYSTEM\') #"\n'
"""In shift_jis \\x81\\\\ is one character: the backslash no longer escapes the quote,
and the call is code; read as UTF-8, it is inside a string."""


@pytest.mark.parametrize(
    "source",
    [
        # a first line of 4 KiB hid the declaration on line 2 from a 4096-byte window
        b"#" + b"y" * 4095 + b"\n# coding: shift_jis\n" + PAYLOAD,
        b"#" + b"y" * 9000 + b"\r\n# coding: shift_jis\n" + PAYLOAD,
        # and past the window the rest was one line, with a declaration Python never reads
        b"#" + b"x" * 4100 + b"\r#\r# coding: shift_jis\n" + PAYLOAD.replace(b"\\", b"\\\\"),
    ],
    ids=["declaration after a long line", "after a longer one", "phantom after the window"],
)
def test_a_long_first_line_does_not_move_the_declaration(source: bytes) -> None:
    rules = {f.rule for f in _found(source)}  # type: ignore[attr-defined]
    assert rules & {"KAV002", "KAV111"}, rules


def test_a_suppression_in_a_latin1_file_is_listed_for_review(tmp_path: Path) -> None:
    """KAV901 (an agent's suppression) reads the text Python runs, as the policy gate does
    when it honours the comment: a latin-1 file's suppression was invisible to it."""
    source = (
        b"# -*- coding: latin-1 -*-\n# caf\xe9\nimport os\n"
        b'os.system("echo hi")  # kavi: allow[KAV202,KAV111] needed\n'
    )
    assert _found(source) == []  # the policy gate honours it
    (tmp_path / "before").mkdir()
    (tmp_path / "after" / "skills").mkdir(parents=True)
    (tmp_path / "after" / "skills" / "a.py").write_bytes(source)
    result = agent_suppressions_result(tmp_path / "before", tmp_path / "after", ["skills/a.py"])
    assert [(f.rule, f.line) for f in result.findings] == [("KAV901", 4)]
