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
from functools import lru_cache

from kavi_gates.config import PolicyConfig
from kavi_gates.models import Code
from kavi_gates.policy.allowlist import ALLOWLIST_WORDS
from kavi_gates.policy.catalog import builtin_qualname, words_of


class Prefilter:
    """A compiled set of trigger words (``None``: every file needs the full analysis)."""

    def __init__(self, words: frozenset[str] | None) -> None:
        self.words = words
        self._pattern = _pattern(words) if words is not None else None

    def needs_analysis(self, source: bytes) -> bool:
        if self._pattern is None:
            return True
        # Non-ASCII text may hide identifiers (NFKC look-alikes), and a coding cookie can
        # re-encode the whole file (utf-7, unicode_escape): only plain ASCII is scanned.
        if not source.isascii() or b"coding" in source:
            return True
        return self._pattern.search(source) is not None


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


@lru_cache(maxsize=32)
def _pattern(words: frozenset[str]) -> re.Pattern[bytes]:
    # One alternation with word boundaries: ``\b`` in a bytes pattern separates
    # [A-Za-z0-9_] from everything else, which is how Python splits identifiers.
    alternatives = b"|".join(re.escape(w.encode()) for w in sorted(words, key=len, reverse=True))
    return re.compile(rb"\b(?:" + alternatives + rb")\b" if alternatives else rb"(?!)")
