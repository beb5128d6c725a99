"""The pre-filter sends a file to the full analysis whenever a trigger word stands in it as
a word: the same answer as a word-bounded search for every trigger word, on every input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kavi_gates.config import PolicyConfig
from kavi_gates.policy.prefilter import _CHUNK, Prefilter, trigger_words
from kavi_gates.policy.rules import BUILTIN_RULES

ROOT = Path(__file__).resolve().parents[2]
POLICIES = {"deny": PolicyConfig(), "allow": PolicyConfig(imports="allow")}


def _searched(words: frozenset[str], source: bytes) -> bool:
    """The definition: some trigger word, word-bounded, anywhere in the bytes."""
    alternatives = b"|".join(re.escape(w.encode()) for w in sorted(words, key=len, reverse=True))
    return re.search(rb"\b(?:" + alternatives + rb")\b", source) is not None


def _sources() -> list[bytes]:
    found = [p.read_bytes() for p in sorted(ROOT.glob("kavi_*/**/*.py"))]
    for rule in BUILTIN_RULES:
        code = rule.declaration()
        found.extend(e if isinstance(e, bytes) else e.encode() for e in code.valid + code.invalid)
    return [s for s in found if s.isascii() and b"coding" not in s]


@pytest.mark.parametrize("mode", list(POLICIES))
def test_the_answer_is_a_word_bounded_search_on_every_example_and_module(mode: str) -> None:
    words = trigger_words((r.declaration() for r in BUILTIN_RULES), POLICIES[mode])
    assert words is not None and len(words) > 100
    prefilter = Prefilter(words)
    sources = _sources()
    assert len(sources) > 300
    answers = [(prefilter.needs_analysis(s), _searched(words, s)) for s in sources]
    assert [a for a in answers if a[0] != a[1]] == []
    assert {a for a, _ in answers} == {True, False}  # both answers occur


@pytest.mark.parametrize("offset", [-12, -3, -1, 0, 1, 5])
def test_a_word_near_a_chunk_edge_is_seen_whole(offset: int) -> None:
    words = frozenset({"subprocess"})
    line = b"x = 1  # padding padding\n"
    pad = line * (_CHUNK // len(line) + 1)
    pad = pad[: _CHUNK + offset].rsplit(b"\n", 1)[0] + b"\n"
    for tail in (b"import subprocess\n", b"subprocess_x = 1\n", b"my_subprocess = 1\n"):
        source = pad + b"y" * 40 + b" = 2; " + tail + line * 2000
        assert Prefilter(words).needs_analysis(source) == _searched(words, source), tail
    long_word = pad + b"a" * (3 * _CHUNK) + b"subprocess\n"  # one word across chunks
    assert Prefilter(words).needs_analysis(long_word) is False
    assert _searched(words, long_word) is False


def test_a_trigger_that_is_not_one_word_only_widens_what_is_analysed() -> None:
    dotted = Prefilter(frozenset({"os.system"}))
    assert dotted.needs_analysis(b"import os\nos.system('x')\n")
    assert dotted.needs_analysis(b"system = 1\n")  # either word is enough: more, not less
    assert not dotted.needs_analysis(b"x = 1\n")
    assert Prefilter(frozenset({"+"})).needs_analysis(b"x = 1\n")  # no word: every file
    assert Prefilter(None).needs_analysis(b"x = 1\n")


def test_non_ascii_or_a_coding_cookie_is_always_analysed() -> None:
    prefilter = Prefilter(frozenset({"eval"}))
    assert prefilter.needs_analysis("x = 'é'\n".encode())
    assert prefilter.needs_analysis(b"# -*- coding: utf-7 -*-\nx = 1\n")
    assert not prefilter.needs_analysis(b"x = 1\n")
