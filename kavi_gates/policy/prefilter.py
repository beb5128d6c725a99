"""Which files need the full analysis (DESIGN.md: pre-filter cheaply before libcst).

Every rule declares its trigger words (``Code.triggers``): a file that contains none of
them, as an identifier-like word anywhere (code, strings or comments), cannot draw any
rule's finding, so Python's own parser deciding that it is valid is the whole check. A rule
without declared triggers always runs, and so does every file the scan cannot read
reliably. This module never imports libcst.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from kavi_gates.config_policy import PolicyConfig
from kavi_gates.models import Code
from kavi_gates.policy.allowlist import ALLOWLIST_WORDS
from kavi_gates.policy.catalog import builtin_qualname, words_of

# A word as Python splits identifiers in ASCII text (what a bytes pattern's \b separates).
_WORD = re.compile(rb"[A-Za-z0-9_]+")
_CHUNK = 16384
"""Bytes scanned at a time (cut at a newline, which no word spans): a file whose first
lines hold a trigger word is settled without reading the rest."""


class Prefilter:
    """A set of trigger words (``None``: every file needs the full analysis).

    A file needs the analysis when one of its words is a trigger word: its words are
    found by one small regular expression and looked up in a set, so building a prefilter
    costs nothing (an alternation of hundreds of words took longer to compile than a
    small file takes to analyse). A trigger word that is not one word (``os.system``)
    counts by each of its words, which can only send more files to the analysis."""

    def __init__(self, words: frozenset[str] | None) -> None:
        self.words = words
        self._words = _split(words) if words is not None else None

    def needs_analysis(self, source: bytes) -> bool:
        words = self._words
        if words is None:
            return True
        # Non-ASCII text may hide identifiers (NFKC look-alikes), and a coding cookie can
        # re-encode the whole file (utf-7, unicode_escape): only plain ASCII is scanned.
        if not source.isascii() or b"coding" in source:
            return True
        start, size = 0, len(source)
        while start < size:
            end = source.find(b"\n", start + _CHUNK)
            end = size if end < 0 else end
            if not words.isdisjoint(_WORD.findall(source, start, end)):
                return True
            start = end
        return False


def _split(words: frozenset[str]) -> frozenset[bytes] | None:
    found: set[bytes] = set()
    for word in words:
        parts = _WORD.findall(word.encode("ascii", "replace"))
        if not parts or not word.isascii():
            return None  # a word no ASCII word can stand for: analyse every file
        found.update(parts)
    return frozenset(found)


def trigger_words(codes: Iterable[Code], policy: PolicyConfig) -> frozenset[str] | None:
    """The words any of ``codes`` may need under ``policy`` (None: some code always runs).

    The configured names are words too: ``forbidden_imports`` and ``forbidden_calls``
    are what their rules look for, and under ``imports: allow`` any import is."""
    words: set[str] = set()
    for code in codes:
        if code.triggers is None:
            return None
        words.update(code.triggers)
    words |= words_of(policy.forbidden_imports)
    words |= words_of(builtin_qualname(name) for name in policy.forbidden_calls)
    if policy.imports == "allow":  # every import is judged: the words any import needs
        words |= ALLOWLIST_WORDS
    return frozenset(words)
